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
from otel_distro.asgi import chain_hooks, server_request_hook, unmark_escaping_exceptions
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


def _load(name: str, value: str) -> None:
    from importlib.metadata import EntryPoint

    from otel_distro.distro import OtelDistro

    OtelDistro().load_instrumentor(EntryPoint(name, value, "opentelemetry_instrumentor"))


SERVER = ("otel_distro_server", "otel_distro._server_install:ServerInstrumentor")


@pytest.mark.parametrize(
    ("env", "traced"),
    [
        ({}, True),
        ({"OTEL_DISTRO_SERVER_MIDDLEWARE": "contrib"}, False),
        ({"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "httpx, starlette"}, False),
    ],
)
def test_the_distro_entry_point_traces_starlette_apps_without_the_contrib_instrumentor(
    env: dict[str, str], traced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with Capture(env) as capture:
        try:
            _load(*SERVER)
            assert TestClient(_starlette()).get("/s/4").status_code == 200
        finally:
            uninstall_lean()
            unmark_escaping_exceptions()
        expected = [("GET /s/{n}", "opentelemetry.instrumentation.starlette")] if traced else []
        assert _server_spans(capture) == expected
