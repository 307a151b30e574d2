"""Properties: redaction is idempotent and never grows a value unboundedly."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from otel_distro.redaction import REDACTED, Redactor

_REDACTOR = Redactor()
_PII = Redactor(pii=True)

_WORDS = st.sampled_from(
    [
        "password", "token", "code", "state", "reset", "keys", "hooks", "Bearer", "ApiKey",
        "Authorization:", "KeyError:", "-----BEGIN RSA PRIVATE KEY-----", "sk-", "AIza", "SG.",
        "-p", "--password", "=", ":", "/", "?", "&", "#", "@", "://", "https", "eyJ", "%7B%22",
        "'", '"', ",", "PWD", "AccountKey=", "IDENTIFIED BY", "4111.1111.1111.1111", "10.0.0.1",
        "kty", "d", "{", "}", "[", "]", "\n", " ", REDACTED,
    ]
)  # fmt: skip
_TOKENS = st.text(string.ascii_letters + string.digits + "-_+/=.%", min_size=1, max_size=48)
_TEXT = st.lists(st.one_of(_WORDS, _TOKENS), max_size=24).map("".join)
_KEYS = st.one_of(_WORDS, st.text(string.ascii_letters + "_-.", min_size=1, max_size=24))
_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=20,
)


def _size(value: Any) -> int:
    return len(repr(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_TEXT)
@example("/password0KeyError:4111.1111.1111.1111")  # the marker made a path segment look generated
@example("4111.1111.1111.1111--password=password")  # a key glued after digits
def test_text_redaction_is_idempotent(text: str) -> None:
    """Redacting redacted text changes nothing."""
    for redactor in (_REDACTOR, _PII):
        once = redactor.redact_text(text)
        assert redactor.redact_text(once) == once


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_TEXT)
def test_text_never_grows_unboundedly(text: str) -> None:
    """Each replacement adds at most the marker: output is bounded by input plus markers."""
    out = _PII.redact_text(text)
    assert len(out) <= len(text) + len(REDACTED) * (text.count(" ") + text.count("/") + 8) + 64


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_KEYS, _VALUES)
def test_value_redaction_is_idempotent(key: str, value: Any) -> None:
    """Redacting a redacted structure changes nothing, and it does not grow past a bound."""
    once = _REDACTOR.redact_value(value, key)
    assert _REDACTOR.redact_value(once, key) == once
    assert _size(once) <= _size(value) * (len(REDACTED) + 2) + len(REDACTED) + 16
