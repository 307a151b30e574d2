"""Red-team regressions at the bounds: log values cut at the scan limit, long tracebacks and
pathological inputs for the scanners."""

from __future__ import annotations

import pytest

from otel_distro.logging._values import clean, exception_attributes
from otel_distro.redaction import TRUNCATED, Redactor
from tests.support.redaction import MB, STRADDLING

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- log values cut at the scan limit ------------------------------------------------


@pytest.mark.parametrize("secret", STRADDLING)
@pytest.mark.parametrize("offset", [4, 11, 19])
def test_log_value_cut_inside_a_secret_shows_none_of_it(secret: str, offset: int) -> None:
    """The log path cuts long values before redaction: never in the middle of a token."""
    limit = 4096
    value = "word " * ((limit - offset) // 5) + " " * ((limit - offset) % 5) + secret
    cleaned = clean(value, limit)
    result = Redactor(max_scan=limit).redact_value(cleaned, "blob")
    assert secret[:offset] not in result[-64:], result[-64:]
    assert result.endswith(TRUNCATED) and result.count(TRUNCATED) == 1
    assert len(result) <= limit + len(TRUNCATED)


def test_long_stacktrace_tail_starts_at_a_line() -> None:
    """Only the end of a long traceback is kept; it never starts inside a token."""
    secret = STRADDLING[0]
    try:
        raise ValueError("x" * 5000 + "\n" + secret + "\nend")
    except ValueError as exc:
        attributes = exception_attributes(exc, len(secret) // 2 + len("\nend\n"))
    assert attributes is not None
    stack = attributes["exception.stacktrace"]
    assert secret[len(secret) // 2 :] not in stack and stack.startswith("end")


# --- the new scanners stay bounded ----------------------------------------------------

PATHOLOGICAL = {
    "tuple pairs": lambda: "('password', " * (MB // 13),
    "query marks": lambda: "?a=%" * (MB // 4),
    "loc without input": lambda: "'loc': ('password',) " * (MB // 21),
    "loc and input": lambda: "'loc': ('password',), 'input': '" * (MB // 33),
    "pydantic lines": lambda: "password\n  x [type=a, input_value=" * (MB // 36),
    "escaped quotes": lambda: '\\"password\\": \\"' * (MB // 16),
    "encoded percent": lambda: "?r=" + "%25" * (MB // 3),
    "path segments": lambda: "/token/" + "a1" * 300 + "/" * 10 + "/token" * (MB // 6),
    "json string of brackets": lambda: '"' + "{" * (MB - 2) + '"',
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_inputs_for_the_new_scanners(name: str) -> None:
    """A 1 MB adversarial string comes back bounded and never raises."""
    result = Redactor().redact_value(PATHOLOGICAL[name](), "body")
    assert isinstance(result, str) and len(result) <= 65536 + len(TRUNCATED)
