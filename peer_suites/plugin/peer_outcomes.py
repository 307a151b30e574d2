"""pytest plugin: writes every test's outcome (``passed``, ``failed``, ``skipped``) as JSON.

Loaded with ``-p peer_outcomes``; the file is named by ``PEER_OUTCOMES_FILE``.  A test
passed when its call passed and neither setup nor teardown failed.
"""

from __future__ import annotations

import json
import os
from typing import Any

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    nodeid = report.nodeid
    if report.failed:
        _outcomes[nodeid] = "failed"
    elif report.skipped and _outcomes.get(nodeid) != "failed":
        _outcomes[nodeid] = "skipped"
    elif report.when == "call" and report.passed and nodeid not in _outcomes:
        _outcomes[nodeid] = "passed"


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("PEER_OUTCOMES_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"exitstatus": int(exitstatus), "outcomes": _outcomes}, out, indent=0)
