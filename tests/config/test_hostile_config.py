"""Misconfiguration never breaks the app, and each bad value gives one line naming it.

Values the distro hands to the SDK (sampler, OTLP endpoint and headers) are checked by
the configurator; the JWT key by the verifier builder; ``set_tenant`` never raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from otel_distro import configurator
from otel_distro.auth import build_verifier
from otel_distro.config import _otlp_checks, _sdk_checks, load_settings, reset_settings
from otel_distro.config._environ import drop_invalid_limits, patched_environ
from otel_distro.context import begin_request, current_request, sanitize_identifier, set_tenant


@pytest.fixture(autouse=True)
def _fresh_reports() -> None:
    reset_settings()  # forget which messages were already printed


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_unknown_sampler_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "bogus")
    sampler = configurator._sampler(load_settings({}))
    assert "ParentBased" in sampler.get_description()
    (line,) = stderr_lines(capsys)
    assert "OTEL_TRACES_SAMPLER='bogus' is not valid" in line
    assert "parentbased_always_on" in line


@pytest.mark.parametrize("arg", ["abc", "5", "-1", "nan"])
def test_bad_ratio_is_reported_and_sampling_stays_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], arg: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
    sampler = configurator._sampler(load_settings({}))
    assert "TraceIdRatioBased{1.0}" in sampler.get_description()
    (line,) = stderr_lines(capsys)
    assert f"OTEL_TRACES_SAMPLER_ARG={arg!r} is not valid" in line


def test_ratio_sampler_without_argument_is_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
    configurator._sampler(load_settings({}))
    assert stderr_lines(capsys) == []


@pytest.mark.parametrize(
    ("value", "grpc"),
    [
        ("not a url", False),
        ("collector:4318", False),
        ("http://", False),
        ("http://h:99999", False),
    ],
)
def test_unusable_endpoint_is_reported_and_ignored(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, grpc: bool
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" if grpc else "http/protobuf")
    assert _otlp_checks.valid_endpoint_overrides() == {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": None}
    (line,) = stderr_lines(capsys)
    assert line.startswith("otel-distro: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=")


@pytest.mark.parametrize(
    ("value", "grpc"),
    [("http://collector:4318", False), ("https://c.example/otlp", False), ("collector:4317", True)],
)
def test_usable_endpoints_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, grpc: bool
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", value)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" if grpc else "http/protobuf")
    assert _otlp_checks.valid_endpoint_overrides() == {}
    assert stderr_lines(capsys) == []


def test_endpoint_with_credentials_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://user:hunter2@collector")
    _otlp_checks.valid_endpoint_overrides()
    (line,) = stderr_lines(capsys)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=<redacted>" in line and "hunter2" not in line


def test_malformed_otlp_headers_are_dropped_and_never_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret,garbage-s3cret, x=1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "a=b")
    assert _otlp_checks.valid_header_overrides() == {
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cret,x=1"
    }
    (line,) = stderr_lines(capsys)
    assert line.startswith("otel-distro: OTEL_EXPORTER_OTLP_HEADERS=<redacted> has 1 malformed")
    assert "s3cret" not in line


def test_environ_override_can_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")
    with patched_environ({"OTEL_EXPORTER_OTLP_ENDPOINT": None}):
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in os.environ
    assert os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] == "not a url"


def test_jwt_public_key_that_is_not_a_key_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a PEM key\n")
    assert build_verifier(load_settings({"OTEL_DISTRO_JWT_PUBLIC_KEY": str(path)})) is None
    (line,) = stderr_lines(capsys)
    assert f"OTEL_DISTRO_JWT_PUBLIC_KEY={str(path)!r} cannot be used" in line


def test_pem_given_as_hmac_secret_is_reported_without_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert build_verifier(load_settings({"OTEL_DISTRO_JWT_SECRET": pem})) is None
    (line,) = stderr_lines(capsys)
    assert "OTEL_DISTRO_JWT_SECRET=<redacted> cannot be used" in line
    assert "BEGIN PUBLIC KEY" not in line


def test_rsa_key_keeps_only_the_algorithms_it_can_verify(tmp_path: Path) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    verifier = build_verifier(load_settings({"OTEL_DISTRO_JWT_PUBLIC_KEY": str(path)}))
    assert verifier is not None
    assert verifier._algorithms == ["RS256"]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("broken __str__")


def test_set_tenant_never_raises_into_the_app() -> None:
    """An id whose str() raises is skipped; the other id is still recorded."""
    import contextvars

    def request() -> dict[str, str]:
        begin_request(None)
        set_tenant(tenant_id=Unprintable(), user_id="u-1")
        state = current_request()
        assert state is not None
        return state.values

    assert contextvars.copy_context().run(request) == {"user.id": "u-1"}
    assert sanitize_identifier(Unprintable()) is None


@pytest.mark.usefixtures("production_mode")
def test_set_tenant_survives_a_broken_context(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_distro import context

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("context backend down")

    monkeypatch.setattr(context.otel_context, "attach", broken)
    with set_tenant(tenant_id="t-1"):  # usable as a context manager all the same
        pass


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "-1"}, {"OTEL_BSP_MAX_QUEUE_SIZE": None}),
        ({"OTEL_BLRP_SCHEDULE_DELAY": "abc"}, {"OTEL_BLRP_SCHEDULE_DELAY": None}),
        ({"OTEL_BSP_EXPORT_TIMEOUT": "-5"}, {"OTEL_BSP_EXPORT_TIMEOUT": None}),
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "100"}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100"}),
        (
            {"OTEL_BLRP_MAX_QUEUE_SIZE": "10", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "20"},
            {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "10"},
        ),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, {"OTEL_METRIC_EXPORT_INTERVAL": None}),
        ({"OTEL_METRIC_EXPORT_TIMEOUT": "soon"}, {"OTEL_METRIC_EXPORT_TIMEOUT": None}),
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "4096", "OTEL_BSP_SCHEDULE_DELAY": "200"}, {}),
    ],
)
def test_batch_numbers_the_sdk_would_refuse(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    expected: dict[str, str | None],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _sdk_checks.valid_batch_overrides() == expected
    lines = stderr_lines(capsys)
    assert len(lines) == len(expected)
    assert all(any(f"{name}=" in line for name in env) for line in lines)


def test_batch_processors_accept_the_corrected_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the SDK builds under the overrides does not raise."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "-1")
    with patched_environ(_sdk_checks.valid_batch_overrides()):
        BatchSpanProcessor(InMemorySpanExporter()).shutdown()


def test_unknown_id_generator_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_PYTHON_ID_GENERATOR", "bogus")
    assert _sdk_checks.valid_id_generator_overrides() == {"OTEL_PYTHON_ID_GENERATOR": None}
    (line,) = stderr_lines(capsys)
    assert "OTEL_PYTHON_ID_GENERATOR='bogus' is not valid" in line
    monkeypatch.setenv("OTEL_PYTHON_ID_GENERATOR", "random")
    assert _sdk_checks.valid_id_generator_overrides() == {}


def test_limits_the_sdk_would_refuse_at_import_are_dropped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-3",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "abc",
        "OTEL_ATTRIBUTE_COUNT_LIMIT": "",
        "OTEL_SPAN_EVENT_COUNT_LIMIT": "1e3",
        "OTEL_SPAN_LINK_COUNT_LIMIT": " 64 ",
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "UNSET",
    }
    drop_invalid_limits(env)
    assert env == {
        "OTEL_SPAN_LINK_COUNT_LIMIT": " 64 ",
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "UNSET",
    }
    assert len(stderr_lines(capsys)) == 4


@pytest.mark.parametrize("name", ["Authorization", "set-cookie", "Traceparent", "Content-Length"])
def test_request_id_header_cannot_be_a_sensitive_or_framing_header(name: str) -> None:
    """Its client value would be recorded on the span, and the trace id written under its name
    into every response."""
    settings = load_settings({"OTEL_DISTRO_REQUEST_ID_HEADER": name})
    assert settings.request_id_header == "X-Request-ID"
    (problem,) = settings.problems
    assert problem.startswith(f"OTEL_DISTRO_REQUEST_ID_HEADER={name!r} is not valid")
    assert load_settings({"OTEL_DISTRO_REQUEST_ID_HEADER": "X-Correlation-ID"}).problems == ()


@pytest.mark.parametrize("kind", ["der", "device", "directory", "huge"])
def test_jwt_key_files_that_would_hang_or_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Binary (DER), a device such as /dev/zero (read forever), a folder, a huge file."""
    if kind == "der":
        path = tmp_path / "key.der"
        path.write_bytes(
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "directory":
        path = tmp_path
    else:
        path = tmp_path / "huge.pem"
        path.write_bytes(b"A" * (1024 * 1024))
    assert build_verifier(load_settings({"OTEL_DISTRO_JWT_PUBLIC_KEY": str(path)})) is None
    (line,) = stderr_lines(capsys)
    assert line.startswith(f"otel-distro: OTEL_DISTRO_JWT_PUBLIC_KEY={str(path)!r} cannot be read")


def test_request_state_begins_even_if_the_hook_setup_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A verifier that cannot be built costs the token check only, once: the request state
    (which threadpool dependencies need) and the request id are still recorded."""
    import contextvars

    from opentelemetry.sdk.trace import TracerProvider

    from otel_distro import asgi

    calls = []

    def broken(settings: object) -> None:
        calls.append(1)
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(asgi, "build_verifier", broken)
    asgi.reset_hook_state()
    tracer = TracerProvider().get_tracer("t")
    scope = {"type": "http", "headers": [(b"x-request-id", b"abc-1")]}

    def request() -> object:
        with tracer.start_as_current_span("server") as span:
            asgi.server_request_hook(span, scope)
            return current_request(), dict(span.attributes or {})  # type: ignore[attr-defined]

    for _ in range(3):
        state, attributes = contextvars.copy_context().run(request)  # type: ignore[misc]
        assert state is not None
        assert attributes["http.request.header.x-request-id"] == ("abc-1",)
    assert len(calls) == 1
    assert len([line for line in stderr_lines(capsys) if "hook setup failed" in line]) == 1
    asgi.reset_hook_state()


def test_an_invalid_batch_size_is_reported_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad batch size with a small queue: the batch line, then the queue named for the fit."""
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "x")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    assert _sdk_checks.valid_batch_overrides() == {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"}
    lines = stderr_lines(capsys)
    assert len(lines) == 2
    assert "OTEL_BSP_MAX_EXPORT_BATCH_SIZE='x' is not valid" in lines[0]
    assert "OTEL_BSP_MAX_QUEUE_SIZE='64' does not fit" in lines[1]


def test_limits_accept_what_the_sdk_accepts() -> None:
    env = {"OTEL_SPAN_EVENT_COUNT_LIMIT": "+5", "OTEL_SPAN_LINK_COUNT_LIMIT": "1_000"}
    drop_invalid_limits(env)
    assert env == {"OTEL_SPAN_EVENT_COUNT_LIMIT": "+5", "OTEL_SPAN_LINK_COUNT_LIMIT": "1_000"}
