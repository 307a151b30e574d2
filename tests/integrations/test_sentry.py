"""Optional Sentry: started from settings, events scrubbed, bad setups reported not raised."""

from __future__ import annotations

from typing import Any

import pytest

from otel_distro.config import load_settings
from otel_distro.errors._sentry import _scrub, init_sentry

sentry_sdk = pytest.importorskip("sentry_sdk")

pytestmark = pytest.mark.usefixtures("undo_sentry_patches")


def test_events_are_redacted_before_sending() -> None:
    event: dict[str, Any] = {
        "message": "login failed password=hunter2-sentry",
        "request": {"headers": {"Authorization": "Bearer abcdefghijklmnop"}},
        "extra": {"token": "tok-123", "author": "kept"},
    }
    scrubbed = _scrub(event, {})
    text = repr(scrubbed)
    for secret in ("hunter2-sentry", "abcdefghijklmnop", "tok-123"):
        assert secret not in text
    assert scrubbed["extra"]["author"] == "kept"


def test_missing_dsn_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert init_sentry(load_settings({"ENABLE_SENTRY": "true"})) is False
    assert "SENTRY_DSN is empty" in capsys.readouterr().err


def test_starts_with_settings() -> None:
    settings = load_settings(
        {
            "ENABLE_SENTRY": "true",
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
            "ENVIRONMENT": "staging",
            "SENTRY_TRACES_SAMPLE_RATE": "0.25",
        }
    )
    try:
        assert init_sentry(settings) is True
        options = sentry_sdk.get_client().options
        assert options["environment"] == "staging"
        assert options["traces_sample_rate"] == 0.25
    finally:
        sentry_sdk.init(dsn=None)


def test_unusable_dsn_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings({"ENABLE_SENTRY": "true", "SENTRY_DSN": "not a dsn"})
    assert init_sentry(settings) is False
    assert "Sentry is off" in capsys.readouterr().err
