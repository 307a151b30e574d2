"""Signed baggage: an HMAC over the protected entries, the trace id and an expiry.

A service holding ``OTEL_DISTRO_BAGGAGE_SIGNING_KEYS`` adds one baggage entry to
every outbound propagation that carries protected keys::

    otel_distro.sig=v1.<kid>.<expiry>.<mac>

and a receiving service honours inbound protected keys when that entry verifies
for the trace being joined and has not expired, whatever the peer address.  The
wire format is exact so that other languages can implement it:

``kid``
    the id of the signing key, 1-32 of ``A-Z a-z 0-9 _ -``.
``expiry``
    the last valid second, as decimal Unix time (no sign, no leading ``+``).
``mac``
    unpadded base64url of 32 bytes: the first 16 bytes of
    ``HMAC-SHA256(secret, M(trace_id))`` followed by the first 16 bytes of
    ``HMAC-SHA256(secret, M(""))``.  The first half binds the trace and is what
    makes the signature valid; the second only tells a genuine signature copied
    onto another trace (``wrong_trace``) from a forged one (``bad_mac``).

``M(t)`` is the concatenation of netstrings (``<byte length>:<UTF-8 bytes>,``) of
``otel_distro.sig``, ``v1``, ``kid``, ``expiry``, ``t`` (the trace id as 32
lowercase hex digits), the number of protected entries in decimal, then for each
protected entry sorted by key (bytewise): its key exactly as written in the header
and its percent-decoded value.  The secret is the UTF-8 bytes after the first
``:`` of a ``kid:secret`` item, at least 32 bytes.

A verification fails with one of :data:`REASONS`; comparisons of MACs are
constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Iterable, Mapping

from otel_distro._report import report
from otel_distro.config._signing_keys import SigningKey, key_problems

__all__ = [
    "REASONS",
    "SIGNATURE_KEY",
    "Keyring",
    "canonical_message",
    "signature_mac",
]

SIGNATURE_KEY = "otel_distro.sig"
VERSION = "v1"
#: Why an inbound signature was refused (the event says ``baggage_signature_<reason>``).
REASONS = ("missing", "bad_mac", "expired", "wrong_trace", "unknown_kid")
_HALF = 16
_TOKEN = re.compile(r"v1\.([A-Za-z0-9_-]{1,32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def _netstring(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return b"%d:%s," % (len(data), data)


def canonical_message(kid: str, expiry: int, trace_id: str, entries: Mapping[str, str]) -> bytes:
    """``M(trace_id)`` of the module docstring: the bytes the MAC is computed over."""
    head, tail = _message_parts(kid, expiry, entries)
    return head + _netstring(trace_id) + tail


def _message_parts(kid: str, expiry: int, entries: Mapping[str, str]) -> tuple[bytes, bytes]:
    """The bytes of ``M`` before and after the trace id field."""
    head = _netstring(SIGNATURE_KEY) + _netstring(VERSION) + _netstring(kid)
    head += _netstring(str(expiry))
    parts = [_netstring(str(len(entries)))]
    for key in sorted(entries, key=lambda k: k.encode("utf-8", "surrogatepass")):
        parts.append(_netstring(key))
        parts.append(_netstring(entries[key]))
    return head, b"".join(parts)


def _trace_hex(trace_id: int | None) -> str:
    return f"{trace_id:032x}" if trace_id else ""


def signature_mac(
    secret: bytes, kid: str, expiry: int, trace_id: int, entries: Mapping[str, str]
) -> bytes:
    """The 32 MAC bytes of a signature (trace-bound half, then the entries-only half)."""
    head, tail = _message_parts(kid, expiry, entries)
    bound = hmac.digest(secret, head + _netstring(_trace_hex(trace_id)) + tail, "sha256")
    unbound = hmac.digest(secret, head + b"0:," + tail, "sha256")
    return bound[:_HALF] + unbound[:_HALF]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Keyring:
    """The usable keys of ``OTEL_DISTRO_BAGGAGE_SIGNING_KEYS``: the first signs, all verify.

    Keys with a problem (too short, malformed, a repeated id) are reported once,
    naming the key id or the item's position (never the secret), and not used.
    """

    def __init__(self, keys: Iterable[SigningKey], ttl_seconds: int = 300) -> None:
        self._ttl = ttl_seconds
        self._secrets: dict[str, bytes] = {}
        self._signing_kid: str | None = None
        keys = tuple(keys)
        for problem in key_problems(keys):
            report(problem)  # once per process, also said with the other settings problems
        for key in keys:
            if not key.usable:
                continue
            self._secrets.setdefault(key.kid, key.secret)
            if self._signing_kid is None:
                self._signing_kid = key.kid

    @property
    def active(self) -> bool:
        """Whether at least one key can sign and verify."""
        return self._signing_kid is not None

    def sign(
        self, entries: Mapping[str, str], trace_id: int, now: float | None = None
    ) -> str | None:
        """The ``otel_distro.sig`` value for ``entries`` on ``trace_id`` (None: cannot sign)."""
        kid = self._signing_kid
        if kid is None or not trace_id:
            return None
        expiry = int(time.time() if now is None else now) + self._ttl
        mac = signature_mac(self._secrets[kid], kid, expiry, trace_id, entries)
        return f"{VERSION}.{kid}.{expiry}.{_b64(mac)}"

    def verify(
        self,
        token: str | None,
        entries: Mapping[str, str],
        trace_id: int | None,
        now: float | None = None,
    ) -> str | None:
        """None when ``token`` signs ``entries`` for ``trace_id``, unexpired; else a reason."""
        if token is None:
            return "missing"
        match = _TOKEN.fullmatch(token)
        if match is None:
            return "bad_mac"
        kid, expiry_text, mac_text = match.groups()
        secret = self._secrets.get(kid)
        if secret is None:
            return "unknown_kid"
        try:
            received = base64.urlsafe_b64decode(mac_text + "=")
        except (binascii.Error, ValueError):
            return "bad_mac"
        expiry = int(expiry_text)
        expected = signature_mac(secret, kid, expiry, trace_id or 0, entries)
        bound = bool(trace_id) and hmac.compare_digest(expected[:_HALF], received[:_HALF])
        genuine = bound or hmac.compare_digest(expected[_HALF:], received[_HALF:])
        if not genuine:
            return "bad_mac"
        if int(time.time() if now is None else now) > expiry:
            return "expired"
        if not bound:
            return "wrong_trace"
        return None
