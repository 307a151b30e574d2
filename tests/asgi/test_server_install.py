"""Where the lean server middleware goes: every app of an instrumented framework, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import BackgroundTasks, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from otel_distro._server_install import install_lean, uninstall_lean
from otel_distro.asgi import chain_hooks, server_request_hook
from otel_distro.testing import Capture


@pytest.fixture
def capture() -> Iterator[Capture]:
    with Capture() as running:
        yield running
    uninstall_lean()


def _starlette() -> Starlette:
    return Starlette(routes=[Route("/s/{n}", lambda request: PlainTextResponse("s"))])


def _fastapi() -> FastAPI:
    app = FastAPI()

    def later() -> None:
        return None

    @app.get("/f/{n}")
    async def route(n: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(later)
        return {"n": n}

    return app


def _server_spans(capture: Capture) -> list[tuple[str, str]]:
    return [
        (span.name, span.instrumentation_scope.name)  # type: ignore[union-attr]
        for span in capture._spans.get_finished_spans()
        if span.kind.name == "SERVER"
    ]


def test_one_server_span_per_request_in_each_framework(capture: Capture) -> None:
    """FastAPI's own telemetry stands aside; the background task keeps its span."""
    install_lean(chain_hooks(server_request_hook))
    assert TestClient(_fastapi()).get("/f/1").status_code == 200
    assert TestClient(_starlette()).get("/s/2").status_code == 200
    assert _server_spans(capture) == [
        ("GET /f/{n}", "opentelemetry.instrumentation.fastapi"),
        ("GET /s/{n}", "opentelemetry.instrumentation.starlette"),
    ]
    names = [span.name for span in capture._spans.get_finished_spans()]
    assert "BackgroundTask later" in names


def test_a_framework_not_instrumented_is_left_alone(capture: Capture) -> None:
    """Only the frameworks whose instrumentors the distro loads (a disabled one is not)."""
    install_lean(chain_hooks(server_request_hook), ("fastapi",))
    TestClient(_starlette()).get("/s/2")
    TestClient(_fastapi()).get("/f/1")
    assert _server_spans(capture) == [("GET /f/{n}", "opentelemetry.instrumentation.fastapi")]


def test_an_app_the_contrib_instrumentor_instrumented_keeps_only_its_middleware(
    capture: Capture,
) -> None:
    install_lean(chain_hooks(server_request_hook))
    app = _fastapi()
    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])
    try:
        assert TestClient(app).get("/f/3").status_code == 200
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    assert _server_spans(capture) == [("GET /f/{n}", "opentelemetry.instrumentation.fastapi")]
