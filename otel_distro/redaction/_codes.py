"""Numeric one-time codes in prose: ``your code is 482913``, ``OTP 4829 13``.

A 4-8 digit number (also written in two groups, ``4829 13``, ``482-913``) is a code
when a code word stands right before it (``code``, ``OTP``, ``passcode``, ``PIN``,
``one-time password``; up to two linking words: ``is``, ``was``, ``:``, ``=``, ``-``)
or it is announced as one after (``482913 is your verification code``, ``use 482913
to verify``).  A bare ``code`` needs 6-8 digits and a qualifier that is not about
errors or places (``error code 500123``, ``zip code 94107``, ``exit code 137`` stay);
``OTP``/``PIN``/``passcode`` take 4-8 digits, a ``token`` 6-8 (not after ``max``,
``input``, ``total``, ...).
"""

from __future__ import annotations

import re

from ._marker import REDACTED

__all__ = ["CODE_HINT", "redact_codes"]

#: Cheap precondition (lower-cased text): one of these words appears.
CODE_HINT = (
    "code",
    "token",
    "otp",
    "pin",
    "passcode",
    "one-time",
    "one time",
    "use ",
    "enter ",
    "type ",
)

_NUMBER = r"([0-9]{3,4}[ \-][0-9]{2,4}|[0-9]{4,8})(?![0-9]|[.,][0-9]|[\-][0-9])"
_BEFORE = re.compile(
    r"(?i)(?<![\w\-])(?:([a-z][a-z0-9\-]{0,20})[ \t]+)?"
    r"(codes?|token|otp|totp|pin|passcode|one[- ]time[ \t]+(?:pass(?:word|code)|code|pin))"
    r"(?![\w\-])[ \t]*(?:(?:is|was|:|=|-|#|of)[ \t]*){0,2}[\"']?" + _NUMBER
)
_AFTER = re.compile(
    r"(?i)(?<![\w.\-])" + _NUMBER + r"[ \t]+(?:is|as)[ \t]+(?:your|the)[ \t]+"
    r"(?:[a-z\-]{2,20}[ \t]+){0,2}(?:codes?|otp|passcode|pin|password)\b"
    r"|(?<![\w\-])(?:use|enter|type)[ \t]+" + _NUMBER + r"[ \t]+(?:to|as)[ \t]+"
    r"(?:verify|confirm|log|sign|complete|finish|authenticate|reset|continue|activate|your)"
)
# qualifiers that make ``code`` something else than a secret
_NOT_SECRET = frozenset(
    {
        "error", "status", "exit", "http", "response", "return", "zip", "postal", "post",
        "area", "country", "product", "reason", "promo", "discount", "coupon", "source",
        "station", "airport", "language", "currency", "region", "dial", "iata", "sic",
        "naics", "hs", "color", "colour", "event", "result", "fault", "failure", "errno",
        "grpc", "sql", "exception", "shipping", "tracking", "branch", "sort", "bank",
        "swift", "routing", "tax", "vat", "billing", "item", "article", "reference",
        "order", "invoice", "booking", "reservation", "customer", "client", "project",
        "department", "cost", "plan", "price", "transaction", "sku", "batch",
    }
)  # fmt: skip
_STRONG = frozenset({"otp", "totp", "pin", "passcode"})
# qualifiers of ``token`` that count tokens (``max token 128000``)
_COUNTING = frozenset({"max", "min", "input", "output", "prompt", "completion", "total", "per"})


def _digits(text: str) -> int:
    return sum(1 for c in text if "0" <= c <= "9")


def redact_codes(text: str, hits: list[str]) -> str:
    """``text`` with numeric one-time codes in prose replaced (see the module docs)."""

    def before(match: re.Match[str]) -> str:
        qualifier = (match.group(1) or "").lower()
        word = match.group(2).lower()
        number = match.group(3)
        count = _digits(number)
        if not 4 <= count <= 8:
            return match.group(0)
        if word == "token" and (count < 6 or qualifier in _COUNTING):
            return match.group(0)
        if word.startswith("code") and (
            qualifier in _NOT_SECRET or (count < 6 and qualifier not in _QUALIFIED)
        ):
            return match.group(0)
        if word not in _STRONG and not word.startswith(("one", "code", "token")):
            return match.group(0)
        hits.append("password")
        start = match.start(3) - match.start()
        return match.group(0)[:start] + REDACTED

    def after(match: re.Match[str]) -> str:
        group = 1 if match.group(1) is not None else 2
        if not 4 <= _digits(match.group(group)) <= 8:
            return match.group(0)
        hits.append("password")
        whole = match.group(0)
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        return whole[:start] + REDACTED + whole[end:]

    text = _BEFORE.sub(before, text)
    return _AFTER.sub(after, text)


_QUALIFIED = frozenset(
    {
        "verification", "confirmation", "security", "login", "signin", "sign-in", "auth",
        "authentication", "access", "2fa", "mfa", "sms", "reset", "recovery", "backup",
        "activation", "one-time", "otp", "email", "unlock", "pairing",
    }
)  # fmt: skip
