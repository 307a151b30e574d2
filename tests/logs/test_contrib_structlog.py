"""The real contrib structlog instrumentation next to the distro: one record per call, redacted.

``make venv`` installs ``opentelemetry-instrumentation-structlog`` on purpose.  Whether
``opentelemetry-instrument`` finds its entry point, the application lists its
``StructlogProcessor`` in a chain, or calls ``StructlogInstrumentor().instrument()`` itself,
each log call is exported once and never with a secret in it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest
import structlog

from otel_distro.distro import OtelDistro
from tests.support.ci import require
from tests.support.logs import Logs

try:
    from opentelemetry.instrumentation import structlog as contrib
except ImportError:  # pragma: no cover - make venv installs it
    contrib = None

pytestmark = pytest.mark.usefixtures("clean_logging_state")

SECRET = "hunter2-not-for-export"


@pytest.fixture
def installed() -> Any:
    require(contrib is not None, "opentelemetry-instrumentation-structlog is not installed")
    return contrib


@pytest.fixture
def instrumentor(installed: Any, log_setup: Logs) -> Iterator[Any]:
    """The contrib instrumentor, emitting into the test's provider (where a copy would show)."""
    instance = installed.StructlogInstrumentor()
    yield instance
    if instance.is_instrumented_by_opentelemetry:
        instance.uninstrument()


def _bodies_and_secrets(log_setup: Logs) -> tuple[list[Any], list[Any]]:
    records = log_setup.records()
    bodies = [r.log_record.body for r in records]
    leaked = [r for r in records if SECRET in str(dict(r.log_record.attributes or {}))]
    return bodies, leaked


def _app_chain(stream: io.StringIO, *first: Any) -> None:
    structlog.configure(
        processors=[
            *first,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream),
    )


def test_the_contrib_entry_point_is_not_loaded(installed: Any, log_setup: Logs) -> None:
    """opentelemetry-instrument's ``structlog`` entry point: the distro does not load it."""
    (entry_point,) = [
        ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "structlog"
    ]
    OtelDistro().load_instrumentor(entry_point, skip_dep_check=True)
    assert not installed.StructlogInstrumentor().is_instrumented_by_opentelemetry
    structlog.get_logger("app").info("once", password=SECRET)
    assert _bodies_and_secrets(log_setup) == (["once"], [])


def test_contrib_processor_listed_by_the_app_is_skipped(installed: Any, log_setup: Logs) -> None:
    """An app chain with the contrib's processor: one record, redacted, one rendered line."""
    stream = io.StringIO()
    _app_chain(stream, installed.StructlogProcessor(logger_provider=log_setup.provider))
    structlog.get_logger("app").info("listed", password=SECRET)
    assert _bodies_and_secrets(log_setup) == (["listed"], [])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and SECRET not in lines[0]
    assert json.loads(lines[0])["event"] == "listed"


def test_app_calling_the_instrumentor_over_the_distros_chain(
    instrumentor: Any, log_setup: Logs
) -> None:
    """``StructlogInstrumentor().instrument()`` after the distro configured structlog: the
    app's log calls keep working, one record each, redacted, one line of the distro's."""
    instrumentor.instrument(logger_provider=log_setup.provider)
    structlog.get_logger("app").info("instrumented", password=SECRET)
    assert _bodies_and_secrets(log_setup) == (["instrumented"], [])
    lines = [line for line in log_setup.json_lines() if line["event"] == "instrumented"]
    assert len(lines) == 1 and SECRET not in json.dumps(lines[0])


def test_app_chain_configured_after_the_instrumentor(instrumentor: Any, log_setup: Logs) -> None:
    """The app configures its own chain after instrument(): the contrib's configure wrapper
    adds its processor to it, and the distro still emits once, redacted."""
    instrumentor.instrument(logger_provider=log_setup.provider)
    stream = io.StringIO()
    _app_chain(stream)
    assert any(
        isinstance(p, contrib.StructlogProcessor) for p in structlog.get_config()["processors"]
    )
    structlog.get_logger("app").info("after", password=SECRET)
    assert _bodies_and_secrets(log_setup) == (["after"], [])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and SECRET not in lines[0]
