"""Settings: one validated object; bad values are reported and replaced by defaults."""

from __future__ import annotations

import ipaddress

import pytest

from otel_distro.config import VARIABLES, load_settings, report_problems, reset_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    reset_settings()


def test_defaults_when_nothing_is_set() -> None:
    """An empty environment yields every documented default and no problems."""
    settings = load_settings({})
    assert settings.problems == ()
    for variable in VARIABLES:
        if variable.attr != "sentry_environment":
            assert getattr(settings, variable.attr) == variable.default
    assert settings.sentry_environment == "development"


@pytest.mark.parametrize(
    ("name", "value", "attr", "default", "allowed"),
    [
        ("LOG_LEVEL", "LOUD", "log_level", "INFO", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_FILE_MAX_BYTES", "-3", "log_file_max_bytes", 10 * 1024 * 1024, "integer >= 1"),
        ("LOG_TO_FILE", "maybe", "log_to_file", False, "true, false"),
        ("ENVIRONMENT", "prod", "environment", "development", "development, staging"),
        ("SENTRY_TRACES_SAMPLE_RATE", "2", "sentry_traces_sample_rate", 0.0, "0.0 to 1.0"),
        ("OTEL_DISTRO_TRUSTED_PEERS", "10.0.0.0/33", "trusted_peers", (), "CIDR"),
        ("OTEL_DISTRO_REDACT_VALUES", "(unclosed", "redact_values", (), "regular expressions"),
        ("OTEL_DISTRO_REDACT_VALUES", "x*", "redact_values", (), "empty string"),
        ("OTEL_DISTRO_REDACT_VALUES", "(a+)+b", "redact_values", (), "nested repeats"),
        ("OTEL_DISTRO_REDACT_VALUES", "(?:[a-z]{2,}\\.)*q", "redact_values", (), "nested"),
        (
            "OTEL_DISTRO_REQUEST_ID_HEADER",
            "bad header",
            "request_id_header",
            "X-Request-ID",
            "header",
        ),
    ],
)
def test_bad_value_names_variable_value_and_allowed(
    name: str, value: str, attr: str, default: object, allowed: str
) -> None:
    """A bad value gives one message naming the variable, the value and what is allowed."""
    settings = load_settings({name: value})
    assert getattr(settings, attr) == default
    assert len(settings.problems) == 1
    problem = settings.problems[0]
    # user redaction patterns are usually literal secrets: never echoed
    shown = "<redacted>" if name == "OTEL_DISTRO_REDACT_VALUES" else value
    assert problem.startswith(f"{name}={shown!r}")
    assert allowed in problem


def test_secret_values_are_never_echoed() -> None:
    """Secrets are masked in problems and in the settings repr."""
    settings = load_settings({"OTEL_DISTRO_JWT_SECRET": "hunter2-secret"})
    assert "hunter2" not in repr(settings)


def test_ordinary_patterns_are_accepted() -> None:
    """Bounded or un-nested patterns are fine."""
    settings = load_settings(
        {"OTEL_DISTRO_REDACT_VALUES": r"EMP-[0-9]{6},(?:ab){1,3}c,acct_[A-Za-z0-9]+,(x|y)z"}
    )
    assert settings.problems == ()
    assert len(settings.redact_values) == 4


def test_values_are_parsed_to_types() -> None:
    """Lists, networks, booleans and case-insensitive choices are parsed."""
    settings = load_settings(
        {
            "LOG_LEVEL": "debug",
            "LOG_TO_FILE": "YES",
            "OTEL_DISTRO_TRUSTED_PEERS": "10.1.0.0/16, 127.0.0.1",
            "OTEL_DISTRO_BAGGAGE_ATTRIBUTES": "tenant.id, plan",
            "OTEL_DISTRO_REQUEST_ID_HEADER": "off",
        }
    )
    assert settings.problems == ()
    assert settings.log_level == "DEBUG"
    assert settings.log_to_file is True
    assert settings.trusted_peers == (
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("127.0.0.1/32"),
    )
    assert settings.baggage_attributes == ("tenant.id", "plan")
    assert settings.request_id_header == ""


def test_problems_are_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Reporting the same settings twice prints each problem once, on stderr."""
    settings = load_settings({"LOG_LEVEL": "LOUD"})
    report_problems(settings)
    report_problems(settings)
    err = capsys.readouterr().err
    assert err.count("LOG_LEVEL='LOUD'") == 1
    assert err.startswith("otel-distro: ")


def test_derived_values() -> None:
    """Log format follows ENVIRONMENT; JWT algorithms follow the kind of key."""
    assert load_settings({}).effective_log_format == "console"
    assert load_settings({"ENVIRONMENT": "production"}).effective_log_format == "json"
    assert load_settings({"OTEL_DISTRO_JWT_SECRET": "s"}).effective_jwt_algorithms == ("HS256",)
    assert load_settings({"OTEL_DISTRO_JWT_PUBLIC_KEY": "k.pem"}).effective_jwt_algorithms == (
        "RS256",
        "ES256",
    )
    assert load_settings({}).protected_keys >= {"tenant.id", "user.id"}
