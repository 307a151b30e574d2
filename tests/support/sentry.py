"""``undo_sentry_patches``: a test that calls ``sentry_sdk.init`` leaves the process as it was.

Sentry's default integrations patch logging, the excepthooks, threads, http.client,
subprocess and httpx process-wide and never undo it; later tests would run under
Sentry (its trace headers on every outbound call, its handlers on every record).
"""

from __future__ import annotations

import http.client
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

__all__ = ["undo_sentry_patches"]

_PATCHED = [
    (logging.Logger, "callHandlers"),
    (logging.Logger, "handle"),
    (sys, "excepthook"),
    (threading, "excepthook"),
    (threading.Thread, "start"),
    (threading.Thread, "run"),
    (http.client.HTTPConnection, "putrequest"),
    (http.client.HTTPConnection, "getresponse"),
    (subprocess.Popen, "__init__"),
    (subprocess.Popen, "wait"),
    (subprocess.Popen, "communicate"),
    (httpx.Client, "send"),
    (httpx.AsyncClient, "send"),
]


@pytest.fixture
def undo_sentry_patches() -> Iterator[None]:
    """Put back what Sentry's integrations patched during the test."""
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name in _PATCHED]
    yield
    for owner, name, original in saved:
        if original is None:
            if name in owner.__dict__:
                delattr(owner, name)
        else:
            setattr(owner, name, original)
