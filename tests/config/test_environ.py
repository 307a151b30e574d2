"""The SDK's environment: checks return overrides, one module applies them."""

from __future__ import annotations

import os
import secrets

import pytest

from otel_distro.config import reset_settings
from otel_distro.config._environ import overlaid, patched_environ, sdk_overrides
from otel_distro.distro import _DEFAULTS, apply_environment_defaults
from otel_distro.redaction import SENSITIVE_HEADERS

SANITIZE = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"


@pytest.fixture(autouse=True)
def _fresh_reports() -> None:
    reset_settings()


def test_overlay_reads_the_overrides_and_writes_nothing() -> None:
    """A corrected value is read, an unset one is missing, the base is untouched."""
    base = {"A": "1", "B": "2"}
    view = overlaid({"A": None, "C": "3", "B": "two"}, base)
    assert dict(view) == {"B": "two", "C": "3"}
    assert "A" not in view and view.get("A") is None
    assert base == {"A": "1", "B": "2"}


def test_patched_environ_restores_a_variable_it_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable unset before the block is unset again after it."""
    name = f"OTEL_DISTRO_TEST_{secrets.token_hex(4).upper()}"
    monkeypatch.delenv(name, raising=False)
    with patched_environ({name: "x"}):
        assert os.environ[name] == "x"
    assert name not in os.environ


def test_patched_environ_restores_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's value comes back even when the SDK setup inside the block raises."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "-1")
    with pytest.raises(RuntimeError), patched_environ({"OTEL_BSP_SCHEDULE_DELAY": None}):
        raise RuntimeError("setup failed")
    assert os.environ["OTEL_BSP_SCHEDULE_DELAY"] == "-1"


def test_endpoints_are_checked_under_the_corrected_protocol(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad protocol becomes http/protobuf, so a gRPC-only host:port endpoint is dropped too."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc-ish")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")
    assert sdk_overrides() == {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": None,
    }
    err = capsys.readouterr().err
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='grpc-ish' is not valid" in err
    assert "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4317' is not valid" in err
    assert os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc-ish"


def test_sdk_overrides_are_empty_for_a_clean_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Valid values are left alone and nothing is said."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096")
    assert sdk_overrides() == {}
    assert capsys.readouterr().err == ""


def test_sensitive_headers_are_added_after_the_users_own() -> None:
    """The user's sanitized header names stay first; the redaction engine's are appended once."""
    user = f"x-{secrets.token_hex(3)}"
    env = {SANITIZE: f" {user} , authorization"}
    apply_environment_defaults(env)
    names = env[SANITIZE].split(",")
    assert names[0] == user
    assert set(SENSITIVE_HEADERS) <= set(names)
    assert len(names) == len(set(names))


def test_defaults_never_overwrite_the_users_values() -> None:
    """Every distro default is filled in with setdefault: a value the user set wins."""
    env = {"OTEL_TRACES_SAMPLER": "always_off", "OTEL_LOGS_EXPORTER": "console"}
    apply_environment_defaults(env)
    assert env["OTEL_TRACES_SAMPLER"] == "always_off"
    assert env["OTEL_LOGS_EXPORTER"] == "console"
    assert all(
        env[name] == value
        for name, value in _DEFAULTS.items()
        if name
        not in (
            "OTEL_TRACES_SAMPLER",
            "OTEL_LOGS_EXPORTER",
        )
    )


def test_another_configurator_is_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Selecting another configurator is said once, naming it; the choice is kept."""
    env = {"OTEL_PYTHON_CONFIGURATOR": "vendor"}
    apply_environment_defaults(env)
    apply_environment_defaults(env)
    assert env["OTEL_PYTHON_CONFIGURATOR"] == "vendor"
    assert capsys.readouterr().err.count("OTEL_PYTHON_CONFIGURATOR='vendor'") == 1
