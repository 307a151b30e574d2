"""Sentry start-up: a missing extra, an empty or a malformed DSN is one line, never a crash."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from otel_distro.config import load_settings
from otel_distro.errors import init_sentry

pytestmark = pytest.mark.usefixtures("undo_sentry_patches")


@pytest.fixture
def no_sentry_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # import fails as if not installed
    yield


@pytest.mark.usefixtures("no_sentry_sdk")
def test_missing_extra_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Without sentry-sdk: one line naming the extra to install, Sentry off."""
    settings = load_settings({"ENABLE_SENTRY": "true", "SENTRY_DSN": "http://k@127.0.0.1:9/1"})
    assert init_sentry(settings) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "otel-distro[sentry]" in err


@pytest.mark.parametrize("dsn", ["   ", ""])
def test_empty_dsn_is_one_line(capsys: pytest.CaptureFixture[str], dsn: str) -> None:
    """An empty (or blank) SENTRY_DSN: one line naming the variable."""
    assert init_sentry(load_settings({"ENABLE_SENTRY": "true", "SENTRY_DSN": dsn})) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SENTRY_DSN is empty" in err


@pytest.mark.parametrize("dsn", ["not a dsn", "ftp://key@host/1", "http://key@/1"])
def test_malformed_dsn_is_one_line_without_the_dsn(
    capsys: pytest.CaptureFixture[str], dsn: str
) -> None:
    """A malformed DSN: one line naming SENTRY_DSN and the expected form, never the value."""
    assert init_sentry(load_settings({"ENABLE_SENTRY": "true", "SENTRY_DSN": dsn})) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SENTRY_DSN" in err and "scheme://key@host/project" in err
    assert dsn not in err
