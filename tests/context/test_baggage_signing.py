"""The signature itself: wire format, verification reasons, key rotation, key problems."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_distro._state import reset
from otel_distro.baggage_signing import Keyring, canonical_message
from otel_distro.config._signing_keys import SigningKey, parse_signing_keys

NOW = 1_800_000_000
TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
ENTRIES = {"tenant.id": "acme", "user.id": "u-42"}


def secret() -> str:
    return secrets.token_urlsafe(32)


def keyring(text: str, ttl: int = 300) -> Keyring:
    return Keyring(parse_signing_keys(text), ttl)


@pytest.fixture(autouse=True)
def _forget_reports() -> None:
    reset()


def test_signature_has_the_documented_shape() -> None:
    """``v1.<kid>.<expiry>.<mac>``: expiry is now + TTL, the MAC 32 bytes of unpadded base64url."""
    token = keyring(f"k1:{secret()}", ttl=120).sign(ENTRIES, TRACE, now=NOW)
    assert token is not None
    version, kid, expiry, mac = token.split(".")
    assert (version, kid, int(expiry)) == ("v1", "k1", NOW + 120)
    assert len(base64.urlsafe_b64decode(mac + "=")) == 32
    assert "=" not in mac


def test_mac_is_hmac_sha256_over_the_canonical_message() -> None:
    """An independent implementation of the documented format computes the same MAC."""
    key = secret()
    token = keyring(f"k1:{key}").sign(ENTRIES, TRACE, now=NOW)
    assert token is not None
    expiry = NOW + 300

    def netstrings(*parts: str) -> bytes:
        return b"".join(b"%d:%s," % (len(p.encode()), p.encode()) for p in parts)

    def half(trace_hex: str) -> bytes:
        message = netstrings(
            "otel_distro.sig", "v1", "k1", str(expiry), trace_hex, "2",
            "tenant.id", "acme", "user.id", "u-42",
        )  # fmt: skip
        assert message == canonical_message("k1", expiry, trace_hex, ENTRIES)
        return hmac.new(key.encode(), message, hashlib.sha256).digest()[:16]

    mac = half(f"{TRACE:032x}") + half("")
    assert token == f"v1.k1.{expiry}." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def test_valid_signature_verifies() -> None:
    """The same entries on the same trace before expiry verify."""
    ring = keyring(f"k1:{secret()}")
    assert ring.verify(ring.sign(ENTRIES, TRACE, now=NOW), ENTRIES, TRACE, now=NOW + 299) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"entries": {"tenant.id": "other", "user.id": "u-42"}}, "bad_mac"),
        ({"entries": {"tenant.id": "acme"}}, "bad_mac"),
        ({"entries": {**ENTRIES, "role": "admin"}}, "bad_mac"),
        ({"trace": TRACE ^ 1}, "wrong_trace"),
        ({"trace": None}, "wrong_trace"),
        ({"now": NOW + 301}, "expired"),
    ],
    ids=["changed-tenant", "removed-entry", "added-entry", "other-trace", "no-trace", "expired"],
)
def test_each_tampering_has_its_reason(change: dict[str, object], reason: str) -> None:
    """A changed entry set is bad_mac, another trace wrong_trace, a late check expired."""
    ring = keyring(f"k1:{secret()}")
    token = ring.sign(ENTRIES, TRACE, now=NOW)
    entries = change.get("entries", ENTRIES)
    trace = change.get("trace", TRACE)
    now = change.get("now", NOW)
    assert ring.verify(token, entries, trace, now=now) == reason  # type: ignore[arg-type]


def test_missing_signature_is_missing() -> None:
    """No ``otel_distro.sig`` entry at all is the reason ``missing``."""
    assert keyring(f"k1:{secret()}").verify(None, ENTRIES, TRACE) == "missing"


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v2.k1.1900000000.AAAA", "v1.k1.notanumber.x", "v1.k1.1900000000." + "A" * 44],
)
def test_malformed_signature_is_bad_mac(token: str) -> None:
    """Anything not matching the format is refused as bad_mac."""
    assert keyring(f"k1:{secret()}").verify(token, ENTRIES, TRACE, now=NOW) == "bad_mac"


def test_signature_of_another_key_is_bad_mac() -> None:
    """A token claiming our key id but made with another secret does not verify."""
    forged = keyring(f"k1:{secret()}").sign(ENTRIES, TRACE, now=NOW)
    assert keyring(f"k1:{secret()}").verify(forged, ENTRIES, TRACE, now=NOW) == "bad_mac"


def test_unknown_key_id_is_unknown_kid() -> None:
    """A key id the receiver does not list is unknown_kid."""
    token = keyring(f"other:{secret()}").sign(ENTRIES, TRACE, now=NOW)
    assert keyring(f"k1:{secret()}").verify(token, ENTRIES, TRACE, now=NOW) == "unknown_kid"


def test_rotation_new_key_first_old_still_verifies() -> None:
    """A sender signing with the new key is accepted by a receiver listing it second."""
    old, new = secret(), secret()
    sender = keyring(f"k2:{new},k1:{old}")
    receiver = keyring(f"k1:{old},k2:{new}")
    token = sender.sign(ENTRIES, TRACE, now=NOW)
    assert token is not None and token.startswith("v1.k2.")
    assert receiver.verify(token, ENTRIES, TRACE, now=NOW) is None


def test_short_key_is_reported_by_kid_and_not_used(capsys: pytest.CaptureFixture[str]) -> None:
    """A secret under 32 bytes is named by its key id (never its secret) and never signs."""
    short = secrets.token_hex(8)
    ring = keyring(f"weak:{short},k1:{secret()}")
    err = capsys.readouterr().err
    assert "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS" in err and "'weak'" in err and short not in err
    token = ring.sign(ENTRIES, TRACE, now=NOW)
    assert token is not None and token.startswith("v1.k1.")
    weak = Keyring([SigningKey("weak", short.encode())]).sign(ENTRIES, TRACE, now=NOW)
    assert ring.verify(weak, ENTRIES, TRACE, now=NOW) == "unknown_kid"


def test_only_short_keys_mean_no_signing(capsys: pytest.CaptureFixture[str]) -> None:
    """With no usable key the keyring is inactive and signs nothing."""
    ring = keyring(f"a:{secrets.token_hex(4)}")
    assert not ring.active
    assert ring.sign(ENTRIES, TRACE, now=NOW) is None


@pytest.mark.parametrize("item", ["no-colon-here", "bad.kid:" + "x" * 40, ":" + "x" * 40])
def test_malformed_item_is_reported_without_its_secret(
    item: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed item is reported by position and skipped; the next key still signs."""
    ring = keyring(f"{item},k1:{secret()}")
    err = capsys.readouterr().err
    assert "item 1" in err and item not in err
    assert ring.sign(ENTRIES, TRACE, now=NOW) is not None


def test_secret_never_in_repr() -> None:
    """The parsed keys show their ids, never their secrets."""
    key = secret()
    assert key not in repr(parse_signing_keys(f"k1:{key}"))


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
_entries = st.dictionaries(st.from_regex(r"[a-z.]{1,12}", fullmatch=True), _text, min_size=1)
_RING = Keyring([SigningKey("k1", b"p" * 32)], 300)


@settings(max_examples=300, deadline=None)
@given(
    entries=_entries,
    trace=st.integers(1, 2**128 - 1),
    other=st.one_of(
        st.tuples(st.just("value"), _text),
        st.tuples(st.just("key"), st.from_regex(r"[a-z.]{1,12}", fullmatch=True)),
        st.tuples(st.just("drop"), st.none()),
        st.tuples(st.just("add"), st.from_regex(r"[a-z.]{1,12}", fullmatch=True)),
        st.tuples(st.just("trace"), st.integers(1, 2**128 - 1)),
    ),
    pick=st.integers(0, 1000),
)
def test_any_change_to_an_entry_or_the_trace_invalidates(
    entries: dict[str, str], trace: int, other: tuple[str, object], pick: int
) -> None:
    """Changing a value, a key, the entry set or the trace id never verifies."""
    token = _RING.sign(entries, trace, now=NOW)
    assert _RING.verify(token, entries, trace, now=NOW) is None
    kind, new = other
    key = sorted(entries)[pick % len(entries)]
    changed, new_trace = dict(entries), trace
    if kind == "value":
        changed[key] = str(new)
    elif kind == "key":
        changed[str(new)] = changed.pop(key)
    elif kind == "drop":
        del changed[key]
    elif kind == "add":
        changed.setdefault(str(new), "x")
    else:
        new_trace = int(str(new))
    if changed == entries and new_trace == trace:
        return
    assert _RING.verify(token, changed, new_trace, now=NOW) is not None


def test_short_key_is_a_settings_problem_naming_only_the_kid() -> None:
    """``load_settings`` lists the short key among its problems, by key id, without the secret."""
    from otel_distro.config import load_settings

    short = secrets.token_hex(5)
    settings = load_settings({"OTEL_DISTRO_BAGGAGE_SIGNING_KEYS": f"tiny:{short},k1:{secret()}"})
    [problem] = [p for p in settings.problems if "SIGNING_KEYS" in p]
    assert "'tiny'" in problem and short not in problem
    assert [key.kid for key in settings.baggage_signing_keys if key.usable] == ["k1"]
