"""``Redactor.known_clean``: the log bridge may skip redaction only when nothing would change.

It answers from what earlier ``redact_text``/``redact_mapping`` calls learned
(clean keys and strings, key rules) and must err towards ``False``.  The
invariant: whenever it says ``True``, ``redact_mapping`` returns an equal dict
and reports nothing, and ``redact_text`` returns the body unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_distro.redaction import REDACTED, RedactionReport, Redactor


def warmed(body: str = "event", mapping: dict[Any, Any] | None = None, **kwargs: Any) -> Redactor:
    """A redactor that has seen ``body`` and ``mapping`` once, with nothing to replace."""
    redactor = Redactor(**kwargs)
    report = RedactionReport()
    assert redactor.redact_text(body, report=report) == body
    if mapping:
        assert redactor.redact_mapping(mapping, report=report) == mapping
    assert not report, report.entries
    return redactor


CLEAN = {"site.id": 7, "site.name": "acme", "ratio": 0.5, "route": "/sites/{id}"}


def test_nothing_seen_is_not_known_clean() -> None:
    redactor = Redactor()
    assert not redactor.known_clean("event", {"site.name": "acme"})
    assert not redactor.known_clean("event", {})
    assert not redactor.known_clean("", {"site.name": "acme"})
    assert not redactor.known_clean(None, {"site.id": 7})


def test_what_passed_clean_is_known_clean() -> None:
    redactor = warmed("site_created", CLEAN)
    assert redactor.known_clean("site_created", CLEAN)
    assert redactor.known_clean("site_created", {"site.name": "acme"})
    assert redactor.known_clean("site_created", {})
    assert redactor.known_clean(None, CLEAN)
    assert redactor.known_clean("", CLEAN)


def test_small_numbers_need_only_a_known_key() -> None:
    redactor = warmed("e", {"site.id": 7, "ratio": 0.5})
    for value in (0, -5, 10**12 - 1, -(10**12) + 1, 123456789):
        assert redactor.known_clean("e", {"site.id": value})
    for value in (0.0, -1e300, float("inf")):
        assert redactor.known_clean("e", {"ratio": value})
    assert redactor.known_clean("e", {"site.id": True, "ratio": None})


def test_unseen_values_and_keys_are_not_known_clean() -> None:
    redactor = warmed("e", CLEAN)
    assert not redactor.known_clean("other event", CLEAN)
    assert not redactor.known_clean("e", {"site.name": "globex"})
    assert not redactor.known_clean("e", {"site.owner": "acme"})
    assert not redactor.known_clean("e", {**CLEAN, "new.key": 1})


@pytest.mark.parametrize("key", ["password", "db.password", "api_key", "authorization", "token"])
@pytest.mark.parametrize("value", ["x", "acme", 5, 0.5, None, True])
def test_a_sensitive_key_is_never_known_clean(key: str, value: Any) -> None:
    """Even with a value known clean elsewhere (or a number), a secret key means "scan"."""
    redactor = warmed("e", CLEAN)
    redactor.redact_mapping({key: value})
    redactor.redact_mapping({key: "acme"})
    assert not redactor.known_clean("e", {key: value})
    assert not redactor.known_clean("e", {"site.name": "acme", key: value})


def test_a_redacted_value_is_never_known_clean() -> None:
    redactor = warmed("e", CLEAN)
    report = RedactionReport()
    secret = "password=hunter2"
    assert redactor.redact_mapping({"note": secret}, report=report) == {
        "note": f"password={REDACTED}"
    }
    assert report
    assert not redactor.known_clean("e", {"note": secret})
    body = "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"
    assert redactor.redact_text(body) != body
    assert not redactor.known_clean(body, {})
    assert not redactor.known_clean(body, CLEAN)


@pytest.mark.parametrize("value", [10**12, 10**12 + 1, 4111111111111111, -(10**12), 2**63 - 1])
def test_large_integers_are_never_known_clean(value: int) -> None:
    """Numbers of 13+ digits may be card numbers: always scanned."""
    redactor = warmed("e", {"n": 1})
    redactor.redact_mapping({"n": value})
    assert not redactor.known_clean("e", {"n": value})


@pytest.mark.parametrize("key", [1, 1.5, ("site", "name"), None, b"site.name"], ids=repr)
def test_non_string_keys_are_never_known_clean(key: Any) -> None:
    redactor = warmed("e", {"site.name": "acme", "1": "acme", "None": "acme"})
    redactor.redact_mapping({key: "acme"})
    assert not redactor.known_clean("e", {key: "acme"})


def test_string_subclass_keys_and_values_are_never_known_clean() -> None:
    class Text(str):
        pass

    redactor = warmed("e", {"site.name": "acme"})
    assert not redactor.known_clean("e", {Text("site.name"): "acme"})
    assert not redactor.known_clean("e", {"site.name": Text("acme")})
    assert not redactor.known_clean(Text("e"), {})


@pytest.mark.parametrize("key", ["url.query", "url.fragment"])
def test_query_keys_are_never_known_clean(key: str) -> None:
    """A query string is read parameter by parameter, not as text: always scanned."""
    redactor = warmed("e", {"note": "a=1&b=2"})
    redactor.redact_mapping({key: "a=1&b=2"})
    assert not redactor.known_clean("e", {key: "a=1&b=2"})


@pytest.mark.parametrize(
    "value", [[1, 2], ("acme",), {"site.name": "acme"}, b"acme", bytearray(b"x")], ids=repr
)
def test_nested_and_other_values_are_never_known_clean(value: Any) -> None:
    redactor = warmed("e", {"items": "acme", "site.name": "acme"})
    redactor.redact_mapping({"items": value})
    assert not redactor.known_clean("e", {"items": value})


def test_validation_error_shape_is_never_known_clean() -> None:
    """``{"input": ..., "loc": ...}`` is a validation error: its input may be a secret field."""
    redactor = warmed("e", {"input": "acme", "loc": "site.name", "msg": "acme"})
    assert not redactor.known_clean("e", {"input": "acme", "loc": "site.name"})
    assert redactor.known_clean("e", {"input": "acme"})
    assert redactor.known_clean("e", {"loc": "site.name", "msg": "acme"})
    secret = {"input": "hunter2", "loc": ["body", "password"]}
    assert redactor.redact_mapping(secret)["input"] == REDACTED


def test_non_string_body_is_never_known_clean() -> None:
    redactor = warmed("e", CLEAN)
    assert not redactor.known_clean(5, CLEAN)
    assert not redactor.known_clean(["e"], CLEAN)
    assert not redactor.known_clean({"e": 1}, CLEAN)


def test_python_rules_keep_the_caches_empty() -> None:
    """With a Python rule every value must reach it: nothing is ever known clean."""
    seen: list[tuple[Any, str]] = []

    def rule(key: str | None, text: str) -> str | None:
        seen.append((key, text))
        return None

    redactor = Redactor(rules=[rule])
    for _ in range(3):
        redactor.redact_text("event")
        redactor.redact_mapping({"site.name": "acme", "site.id": 7})
    assert not redactor.known_clean("event", {"site.name": "acme"})
    assert not redactor.known_clean("event", {"site.id": 7})
    assert not redactor.known_clean("event", {})
    assert ("site.name", "acme") in seen


def test_the_text_cache_forgets_and_stays_correct() -> None:
    """Past the cache's size the oldest knowledge goes; answers fall back to ``False``."""
    redactor = warmed("e", {"site.name": "acme"})
    for i in range(5000):
        redactor.redact_mapping({"site.name": f"site-{i}"})
    if redactor.known_clean(None, {"site.name": "acme"}):
        assert redactor.redact_mapping({"site.name": "acme"}) == {"site.name": "acme"}
    assert redactor.known_clean(None, {"site.name": "site-4999"})


@pytest.mark.parametrize(
    ("make", "mapping"),
    [
        (lambda: Redactor(extra_keys=["site.name"]), {"site.name": "acme"}),
        (lambda: Redactor(pii=True), {"email": "a@example.com"}),
        (lambda: Redactor(pii=True), {"contact": "a@example.com"}),
        (lambda: Redactor(extra_patterns=[r"acme"]), {"site.name": "acme"}),
    ],
    ids=["extra key", "pii key", "pii value", "extra pattern"],
)
def test_configured_rules_are_respected(
    make: Callable[[], Redactor], mapping: dict[str, str]
) -> None:
    redactor = make()
    for _ in range(2):
        redactor.redact_text("e")
        assert redactor.redact_mapping(mapping) != mapping
    assert not redactor.known_clean("e", mapping)


# --- the invariant, over generated mappings ------------------------------------------

SAFE_KEYS = ["site.name", "user_name", "note", "route", "count", "token_count", "card"]
RISKY_KEYS = [
    "password",
    "api_key",
    "x-api-key",
    "session_id",
    "Authorization",
    "url.query",
    "url.fragment",
    "url.full",
    "http.target",
    "input",
    "loc",
    "email",
    "cvv",
]
SAFE_TEXTS = ["", "acme", "hello world", "/sites/42", "body", "ok", "GET /health"]
RISKY_TEXTS = [
    "password=hunter2",
    "token: abc123",
    "/p?token=abcdef",
    "/cb?a=1?access_token=xyz",
    "/download#sig=abcdef",
    "a=1&password=x",
    "https://user:pw@example.com/x",
    "Bearer abcdefghijklmnopqrstuvwxyz012345",
    "4111 1111 1111 1111",
    "4111111111111111",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
    "AKIAIOSFODNN7EXAMPLE",
    "GB82WEST12345698765432",
    "a@example.com",
    '{"password": "x"}',
    "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
]
keys = st.sampled_from(SAFE_KEYS) | st.sampled_from(RISKY_KEYS) | st.text(max_size=8)
texts = st.sampled_from(SAFE_TEXTS) | st.sampled_from(RISKY_TEXTS) | st.text(max_size=12)
scalars = (
    texts
    | st.integers(min_value=-(10**13), max_value=10**13)
    | st.sampled_from([4111111111111111, 5500000000000004, 10**12, 10**12 - 1, 2**63 - 1])
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
# mostly flat events of safe keys (what repeats in real logs), some of anything
mappings = st.dictionaries(st.sampled_from(SAFE_KEYS), scalars, max_size=5) | st.dictionaries(
    keys, values, max_size=6
)
bodies = st.sampled_from(SAFE_TEXTS) | st.sampled_from(RISKY_TEXTS) | st.none()
redactors = st.sampled_from(
    [
        Redactor,
        lambda: Redactor(pii=True),
        lambda: Redactor(extra_keys=["note"]),
        lambda: Redactor(allow_keys=["token_count"]),
    ]
)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Callable[[], Redactor], list[tuple[Any, dict[Any, Any]]], list[tuple[Any, Any]]]:
    """A redactor, events to warm it with, and probes recombining their keys and values.

    Probes reuse warm bodies, keys and values in new pairings (a value seen clean under
    one key, now under a sensitive one), plus a few fresh events.
    """
    make = draw(redactors)
    warm = draw(st.lists(st.tuples(bodies, mappings), min_size=1, max_size=8))
    keys = [key for _, mapping in warm for key in mapping]
    seen_values = [value for _, mapping in warm for value in mapping.values()]
    seen_bodies = [body for body, _ in warm] + [None]
    probes: list[tuple[Any, Any]] = list(warm)
    for _ in range(draw(st.integers(min_value=1, max_value=10))):
        probe: dict[Any, Any] = {}
        if keys:
            for _ in range(draw(st.integers(min_value=0, max_value=min(6, len(keys))))):
                probe[draw(st.sampled_from(keys))] = draw(st.sampled_from(seen_values))
        probes.append((draw(st.sampled_from(seen_bodies)), probe))
    probes.extend(draw(st.lists(st.tuples(bodies, mappings), max_size=3)))
    return make, warm, probes


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_known_clean_implies_redaction_changes_nothing(
    scenario: tuple[
        Callable[[], Redactor], list[tuple[Any, dict[Any, Any]]], list[tuple[Any, Any]]
    ],
) -> None:
    make, warm, probes = scenario
    redactor = make()
    for body, mapping in warm:
        if body:
            redactor.redact_text(body)
        redactor.redact_mapping(mapping)
    for body, mapping in probes:
        if not redactor.known_clean(body, mapping):
            continue
        report = RedactionReport()
        assert redactor.redact_mapping(mapping, report=report) == dict(mapping)
        if type(body) is str:
            assert redactor.redact_text(body, report=report) == body
        assert not report, report.entries
        # and a redactor that learned nothing agrees: the caches never hide a secret
        fresh = make()
        assert fresh.redact_mapping(mapping, report=report) == dict(mapping)
        if type(body) is str:
            assert fresh.redact_text(body, report=report) == body
        assert not report, report.entries


# Clean as free text (no scheme, no ``user:pass``), a credential when read as a URL.
TOKEN_AS_USERINFO = "//sigSECRET0123456789@files.example/download"
TOKEN_REDACTED = f"//{REDACTED}:{REDACTED}@files.example/download"


@pytest.mark.parametrize("key", ["url.full", "url.original", "http.url", "http.target"])
def test_url_keys_are_never_known_clean(key: str) -> None:
    """A URL attribute is read as a URL (its userinfo too), which free text is not: a
    string scanned clean as text may hold a secret as a URL."""
    redactor = warmed("e", {"note": TOKEN_AS_USERINFO, key: "/a"})
    redactor.redact_mapping({key: "/a"})
    assert not redactor.known_clean("e", {key: TOKEN_AS_USERINFO})
    assert redactor.redact_mapping({key: TOKEN_AS_USERINFO}) == {key: TOKEN_REDACTED}
    assert redactor.redact_value(TOKEN_AS_USERINFO, key) == TOKEN_REDACTED


@pytest.mark.parametrize("key", ["url.full", "url.original", "http.url", "http.target"])
def test_text_scanned_as_a_url_is_not_cached_as_clean_text(key: str) -> None:
    """A URL attribute's text skips the free-text query scan (its query was read as a
    URL's); the same string logged as text must still get that scan."""
    text = "/cb#x?sig=sigSECRET0123456789"
    redactor = Redactor()
    for _ in range(2):
        redactor.redact_mapping({key: text})
    fresh = Redactor().redact_text(text)
    assert fresh != text
    assert redactor.redact_text(text) == fresh
    assert redactor.redact_mapping({"note": text}) == Redactor().redact_mapping({"note": text})
