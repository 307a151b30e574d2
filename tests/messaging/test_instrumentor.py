"""The distro loads its own aio-pika instrumentation instead of contrib's, once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest

import otel_distro.messaging as messaging
from otel_distro.config import reset_settings
from otel_distro.distro import OtelDistro
from tests.support.ci import require

try:
    import aio_pika
except ImportError:  # pragma: no cover - the rabbitmq extra is part of dev
    aio_pika = None


@pytest.fixture
def uninstrumented() -> Iterator[None]:
    require(aio_pika is not None, "aio-pika is not installed")
    reset_settings()
    yield
    messaging.AioPikaInstrumentor().uninstrument()
    reset_settings()


def _wrapper_name(function: object) -> str:
    wrapper = getattr(function, "_self_wrapper", None)
    return getattr(wrapper, "__qualname__", "")


def test_the_aio_pika_entry_point_installs_the_distro_instrumentation(
    uninstrumented: None,
) -> None:
    """Loading contrib's ``aio-pika`` entry point wraps publish/consume with ours only."""
    entry_point = EntryPoint(
        "aio-pika",
        "opentelemetry.instrumentation.aio_pika:AioPikaInstrumentor",
        "opentelemetry_instrumentor",
    )
    OtelDistro().load_instrumentor(entry_point)
    assert _wrapper_name(aio_pika.Exchange.publish).startswith("_publish_wrapper")
    assert _wrapper_name(aio_pika.Queue.consume).startswith("_consume_wrapper")
    assert not hasattr(aio_pika.Exchange.publish.__wrapped__, "_self_wrapper")


def _aio_pika_entry_points() -> dict[str, EntryPoint]:
    found = entry_points(group="opentelemetry_instrumentor")
    return {ep.dist.name if ep.dist else "": ep for ep in found if ep.name == "aio-pika"}


def test_the_distro_has_its_own_aio_pika_entry_point() -> None:
    """opentelemetry-instrument finds the distro's aio-pika tracing without the contrib."""
    ours = _aio_pika_entry_points().get("otel-distro")
    assert ours is not None and ours.value == "otel_distro.messaging:AioPikaInstrumentor"
    assert ours.load() is messaging.AioPikaInstrumentor


def test_both_aio_pika_entry_points_load_ours_once(
    uninstrumented: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With the contrib installed too (the dev environment installs it on purpose), both
    ``aio-pika`` entry points load the distro's instrumentation, wrapping once, quietly."""
    found = _aio_pika_entry_points()
    require(
        "opentelemetry-instrumentation-aio-pika" in found,
        "the contrib aio-pika instrumentation is not installed (make venv installs it)",
    )
    with caplog.at_level(logging.DEBUG, logger="opentelemetry"):
        for entry_point in found.values():
            OtelDistro().load_instrumentor(entry_point, skip_dep_check=True)
    assert _wrapper_name(aio_pika.Exchange.publish).startswith("_publish_wrapper")
    assert _wrapper_name(aio_pika.Queue.consume).startswith("_consume_wrapper")
    assert not hasattr(aio_pika.Exchange.publish.__wrapped__, "_self_wrapper")
    assert not hasattr(aio_pika.Queue.consume.__wrapped__, "_self_wrapper")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_public_names_are_exact() -> None:
    """otel_distro.messaging exports exactly its documented names."""
    assert sorted(messaging.__all__) == [
        "AioPikaInstrumentor",
        "SSEBroker",
        "SSEStream",
        "encode_event",
    ]
