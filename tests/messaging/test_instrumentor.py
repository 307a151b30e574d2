"""The distro loads its own aio-pika instrumentation instead of contrib's, once."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

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


def test_public_names_are_exact() -> None:
    """otel_distro.messaging exports exactly its documented names."""
    assert sorted(messaging.__all__) == [
        "AioPikaInstrumentor",
        "SSEBroker",
        "SSEStream",
        "encode_event",
    ]
