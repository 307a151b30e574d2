"""Our components failing in-process (FastAPI + the instrumentors): every request is served."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro import asgi, context
from otel_distro._report import internal_error_counts
from otel_distro.config import load_settings
from otel_distro.configurator import install_propagators
from otel_distro.processors.baggage import BaggageAttributesSpanProcessor
from otel_distro.propagation import ContainedPropagator, TrustedBaggagePropagator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Raising(TextMapPropagator):
    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        raise RuntimeError("extract")

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        raise RuntimeError("inject")

    @property
    def fields(self) -> set[str]:
        raise RuntimeError("fields")


@pytest.fixture()
def textmap() -> Iterator[None]:
    previous = get_global_textmap()
    try:
        yield
    finally:
        set_global_textmap(previous)


def served(hook: Any = asgi.server_request_hook) -> tuple[int, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BaggageAttributesSpanProcessor(("tenant.id", "user.id")))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, int]:
        context.set_tenant(tenant_id="t-1", user_id="u-1")
        return {"ok": 1}

    FastAPIInstrumentor.instrument_app(
        app, server_request_hook=hook, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
    with TestClient(app) as client:
        status = client.get("/", headers={"baggage": "a=1", "traceparent": "00-x"}).status_code
    return status, exporter


def test_a_raising_propagator_is_contained(textmap: None) -> None:
    """A propagator raising on every call (as a third-party one might on a hostile header)."""
    set_global_textmap(CompositePropagator([ContainedPropagator(Raising())]))
    status, exporter = served()
    assert status == 200
    assert [s.attributes.get("tenant.id") for s in exporter.get_finished_spans()] == ["t-1"]


def test_install_propagators_contains_every_member(
    textmap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_PROPAGATORS", "tracecontext,baggage")
    install_propagators(load_settings({}))
    composite = get_global_textmap()
    members = composite._propagators  # type: ignore[attr-defined]
    assert all(isinstance(member, ContainedPropagator) for member in members)
    assert isinstance(members[1].inner, TrustedBaggagePropagator)
    assert composite.fields == {"traceparent", "tracestate", "baggage"}


def break_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hook state, request state, baggage parsing and the baggage copier all raise."""
    set_global_textmap(CompositePropagator([TrustedBaggagePropagator(load_settings({}))]))

    def boom(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("internal failure")

    monkeypatch.setattr(asgi, "_state", boom)
    monkeypatch.setattr(context, "_set_tenant", boom)
    monkeypatch.setattr("otel_distro.propagation.parse_baggage_header", boom)
    monkeypatch.setattr("otel_distro.processors.baggage.context_values", boom)


@pytest.mark.usefixtures("production_mode")
def test_failing_internals_never_fail_the_request(
    textmap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hook state, request state and baggage parsing all raising: the request is served."""
    break_internals(monkeypatch)
    status, _ = served()
    assert status == 200


@pytest.mark.usefixtures("production_mode")
def test_failing_internals_are_counted_by_place(
    textmap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each swallowed failure of ours is counted under the place it happened."""
    break_internals(monkeypatch)
    served()
    counts = internal_error_counts()
    for place in ("context.set_tenant", "propagation.baggage.extract", "processors.baggage.span"):
        assert counts.get(place, 0) >= 1, counts


def test_a_raising_propagator_is_said_once_and_is_no_internal_error(
    textmap: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A third-party propagator's failure is named once on stderr, not counted as ours."""
    set_global_textmap(CompositePropagator([ContainedPropagator(Raising())]))
    served()
    served()
    lines = [line for line in capsys.readouterr().err.splitlines() if "Raising" in line]
    assert lines == [
        "otel-distro: propagator Raising failed in extract (RuntimeError); "
        "requests continue without it"
    ]
    assert internal_error_counts() == {}
