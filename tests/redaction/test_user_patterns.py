"""A rejected ``OTEL_DISTRO_REDACT_VALUES`` pattern is reported without its text."""

from __future__ import annotations

import pytest

from otel_distro.config import load_settings

from ._plant import alnum


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("({s}", "does not compile"),
        ("{s}|", "empty string"),
        ("(?:{s}+)+", "backtrack"),
    ],
)
def test_rejected_pattern_is_named_by_position(bad: str, problem: str) -> None:
    """The message names the pattern's position and problem, never the user's literal."""
    literal, other = alnum(16), alnum(16)
    settings = load_settings({"OTEL_DISTRO_REDACT_VALUES": f"{other},{bad.format(s=literal)}"})
    assert settings.redact_values == ()
    (message,) = settings.problems
    assert literal not in message and other not in message
    assert "pattern 2 of 2" in message and problem in message
    assert literal not in repr(settings)


def test_accepted_patterns_are_not_shown_in_settings_repr() -> None:
    """Accepted patterns (literal secrets) are masked in the settings repr too."""
    literal = alnum(16)
    settings = load_settings({"OTEL_DISTRO_REDACT_VALUES": literal})
    assert settings.redact_values == (literal,)
    assert literal not in repr(settings)
