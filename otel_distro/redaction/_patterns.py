"""Value patterns: secrets recognisable by their shape, wherever they appear.

Every pattern is linear-time on Python's ``re``: it may only start at the
beginning of a run of its own characters (a negative look-behind), every
repetition is a single character class (no nested quantifiers) or bounded,
and literal hints let a value skip the pattern without running it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from ._checksums import iban_valid, luhn_valid
from ._marker import REDACTED
from ._shapes import looks_generated

__all__ = ["BUILTIN_PATTERNS", "PII_PATTERNS", "ValuePattern", "custom_pattern"]

Validator = Callable[["re.Match[str]"], bool]


@dataclass(frozen=True)
class ValuePattern:
    """A named regex whose matches (or one group of them) are replaced."""

    name: str
    regex: re.Pattern[str]
    hint: str  # a regex fragment; the pattern runs only if the hint is found
    group: int = 0
    validator: Validator | None = None
    needs: str = "literal"  # cheap precondition: "literal", "digits" (4 in a row) or "run"

    def __repr__(self) -> str:
        return f"ValuePattern({self.name!r})"


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def _card(match: re.Match[str]) -> bool:
    digits = _digits(match.group(0))
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _iban(match: re.Match[str]) -> bool:
    return iban_valid(match.group(0))


def _credential_like(token: str) -> bool:
    if len(token) >= 20:
        return True
    return any(c.isdigit() or c in "._~+/-=" for c in token)


def _auth_scheme(match: re.Match[str]) -> bool:
    scheme = match.group(1).strip().lower()
    token = match.group(2)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if b":" in decoded:
            return True
    return _credential_like(token)


_VERSION_BEFORE = re.compile(r"(?i)(?:v|ver|version|build|release|rev|revision)[ \t:=_\-]{0,2}$")


def _ipv4(match: re.Match[str]) -> bool:
    parts = match.group(0).split(".")
    if not all(int(part) <= 255 for part in parts):
        return False
    # Chrome/124.0.0.0 and 4.2.1.0 are versions: a host address never ends in .0, and a
    # number after ``product/`` or ``version`` is a version
    if parts[-1] == "0" or any(len(p) > 1 and p[0] == "0" for p in parts):
        return False
    start = match.start()
    before = match.string[max(start - 12, 0) : start]
    return not (before.endswith("/") or _VERSION_BEFORE.search(before))


def _random_tail(match: re.Match[str]) -> bool:
    tail = match.group(match.lastindex or 0)
    return any(c.isdigit() for c in tail) or (tail.lower() != tail and tail.upper() != tail)


def _strong_tail(match: re.Match[str]) -> bool:
    return looks_generated(match.group(1), strict=True)


def _email(match: re.Match[str]) -> bool:
    # ``REDACTED:REDACTED@db.internal``: a redacted userinfo before a host, not an address
    start = match.start()
    return not (
        match.group(0).startswith(REDACTED + "@") and match.string[start - 1 : start] == ":"
    )


def _ipv6(match: re.Match[str]) -> bool:
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return False
    return True


_ID_BEFORE = re.compile(
    r"(?i)(?:id|no|nr|number|order|ref|reference|invoice|ticket|case|sku|tracking|uuid|#)"
    r"[ \t:=#._\-]{0,3}$"
)


def _phone(match: re.Match[str]) -> bool:
    whole = match.group(0)
    if not 9 <= len(_digits(whole)) <= 15:
        return False
    text = match.string
    start, end = match.start(), match.end()
    # a group of a UUID, a dashed id or a longer digit grouping is not a phone number
    if text[start - 1 : start] in ("-", "_", ".", ":", "/") or text[end : end + 1] in (
        "-", "_", ".", ":", "/"
    ):  # fmt: skip
        return False
    groups = re.findall(r"[0-9]+", whole)
    if len(groups) >= 3 and all(len(g) == 4 for g in groups):
        return False  # 1234-5678-9012: an id grouped in fours
    return _ID_BEFORE.search(text[max(start - 16, 0) : start]) is None


def _p(
    name: str,
    pattern: str,
    hint: str,
    group: int = 0,
    validator: Validator | None = None,
    needs: str = "literal",
) -> ValuePattern:
    return ValuePattern(name, re.compile(pattern), hint, group, validator, needs)


_RUN = r"(?<![A-Za-z0-9_\-])"  # start only where a run of token characters starts

BUILTIN_PATTERNS: tuple[ValuePattern, ...] = (
    _p("jwt", _RUN + r"eyJ[A-Za-z0-9_\-]{2,}\.eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*", r"eyJ"),
    _p(
        "auth_scheme",
        r"(?<![A-Za-z0-9])((?i:bearer|basic|token|api-?key|ssws|splunk|dsn|hmac|sso-key)"
        r"[ \t]{1,4})([A-Za-z0-9._~+/\-]{8,}=*)(?![A-Za-z0-9._~+/\-=])",
        r"(?i:bearer|basic|token|api-?key|ssws|splunk|dsn|hmac|sso-key)",
        group=2,
        validator=_auth_scheme,
    ),
    _p(
        "auth_scheme",
        r"(?i)(?<![A-Za-z0-9_])response=\"?([0-9a-f]{32,128})",
        r"(?i:response=)",
        group=1,
    ),
    _p(
        "google_api_key",
        _RUN + r"AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])",
        r"AIza",
        needs="run",
    ),
    _p(
        "ai_api_key",
        _RUN + r"sk-(?:proj-|ant-(?:[a-z]{2,10}[0-9]{0,3}-)?|svcacct-|admin-|or-v1-)?"
        r"([A-Za-z0-9_\-]{20,})",
        r"sk-",
        validator=_random_tail,
        needs="run",
    ),
    _p(
        "sendgrid_key",
        _RUN + r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",
        r"SG\.",
        needs="run",
    ),
    _p(
        "vendor_token",
        _RUN + r"(?:npm_|hf_|pypi-AgE|dop_v1_|doo_v1_|dor_v1_|shpat_|shpss_|shpca_|shppa_"
        r"|lin_api_|PMAK-|glc_|glsa_|NRAK-|sntrys_|sntryu_|sbp_|tskey-|nfp_|xapp-|sq0atp-"
        r"|sq0csp-|dapi|rubygems_|dckr_pat_|ATATT|glft-|ya29\.|figd_|hvs\.|hvb\.|ops_"
        r"|phc_|phx_|ntn_|xkeysib-|HRKU-|NRII-|NRJS-|dp\.pt\.|pul-|pscale_tkn_|pscale_pw_"
        r"|sk\.eyJ|gsk_|r8_|pplx-|xai-|fo1_|rnd_|napi_|CFPAT-|bkua_|CCIPAT_|dt0c01\.|sgp_"
        r"|AKCp|hcaik_|pcsk_|lsv2_pt_|lsv2_sk_|tvly-|xoxe-|atlasv1\.)"
        r"([A-Za-z0-9_\-.]{24,})",
        r"npm_|hf_|pypi-|_v1_|shp|lin_api_|PMAK-|glc_|glsa_|NRAK-|sntry|sbp_|tskey-|nfp_|xapp-"
        r"|sq0|dapi|rubygems_|dckr_|ATATT|glft-|ya29|figd_|hvs\.|hvb\.|ops_|phc_|phx_|ntn_"
        r"|xkeysib-|HRKU-|NRII-|NRJS-|dp.pt.|pul-|pscale_|sk.eyJ|gsk_|r8_|pplx-|xai-|fo1_|rnd_"
        r"|napi_|CFPAT-|bkua_|CCIPAT_|dt0c01.|sgp_|AKCp|hcaik_|pcsk_|lsv2_|tvly-|xoxe-|atlasv1.",
        validator=_random_tail,
        needs="run",
    ),
    _p(
        "vendor_token",
        _RUN + r"(?:SK|AC|key-)[0-9a-f]{32}(?![A-Za-z0-9_\-])",
        r"SK|AC|key-",
        needs="run",
    ),
    _p(
        "password",
        # ``mysql -uroot -pSECRET``: the clients that take the password glued to ``-p``
        r"(?<![\w\-/.])(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlsh|mariadb(?:-dump)?)"
        r"(?:[ \t]{1,4}[^\s]{1,256}){0,16}?[ \t]{1,4}-p([^\s'\"]{1,256})",
        r"mysql|mariadb",
        group=1,
    ),
    _p(
        "password_hash",
        # crypt(3)/PHC strings: bcrypt, sha-crypt, argon2, scrypt, pbkdf2 (offline-crackable)
        r"(?<![A-Za-z0-9$])\$(?:2[abxy]\$[0-9]{2}|[156]|5\$rounds=[0-9]{1,7}|6\$rounds=[0-9]{1,7}"
        r"|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha(?:1|256|512))?|y)\$[A-Za-z0-9./+=$,\-]{20,512}",
        r"\$(?:2|1\$|5\$|6\$|argon2|scrypt|pbkdf2|y\$)",
    ),
    _p(
        "vendor_token",
        # Square access tokens (``EAAA`` + 60), Twitter/X app bearer tokens
        _RUN + r"(?:EAAA[A-Za-z0-9_\-]{60}|A{20,24}[A-Za-z0-9%]{60,200})(?![A-Za-z0-9_\-%])",
        r"EAAA|AAAAAAAAAAAAAAAAAAAA",
        validator=_random_tail,
        needs="run",
    ),
    _p(
        "prefixed_token",
        # a credential-naming word joined to a strongly token-like tail (``tok_<t>``,
        # ``live_<t>``, ``pwreset-<t>``): the prefixed key formats many services issue
        _RUN + r"(?i:tok|token|key|apikey|api|secret|sess|session|pat|live|prod|access|refresh"
        r"|auth|pwreset|reset|invite|magic|otp|sk|rk|ak)[_\-]([A-Za-z0-9]{24,512})"
        r"(?![A-Za-z0-9_\-])",
        r"(?i:tok|key|api|secret|sess|pat_|pat-|live|prod|access|refresh|auth|reset|invite"
        r"|magic|otp|sk_|sk-|rk_|rk-|ak_|ak-)",
        validator=_strong_tail,
        needs="run",
    ),
    _p(
        "quoted_token",
        # a strongly token-like string in quotes: a repr of a frame's local variable, an
        # exception's positional argument (``AuthError('bad credentials', '<token>')``)
        r"(?<=['\"])([A-Za-z0-9_\-]{24,512})(?=['\"]|$)",  # or cut at the end
        r"'|\"",
        validator=_strong_tail,
        needs="run",
    ),
    _p(
        "paseto",
        _RUN + r"v[1-4]\.(?:local|public)\.[A-Za-z0-9_\-]{20,}",
        r"v1.|v2.|v3.|v4.",
        needs="run",
    ),
    _p(
        "age_secret_key",
        r"(?<![A-Za-z0-9])AGE-SECRET-KEY-1[0-9A-Z]{50,}",
        r"AGE-SECRET-KEY-",
        needs="run",
    ),
    _p(
        "azure_ad_secret",
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])",
        r"Q~",
    ),
    _p(
        "discord_bot_token",
        r"(?<![A-Za-z0-9_\-.])[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}"
        r"(?![A-Za-z0-9_\-])",
        r"M|N|O",
        validator=_random_tail,
        needs="run",
    ),
    _p(
        "telegram_token",
        r"(?<![A-Za-z0-9:])[0-9]{8,10}:[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])",
        r"[0-9]:[A-Za-z0-9_\-]",
        needs="run",
    ),
    _p(
        "sql_password",
        r"(?i)(?<![A-Za-z0-9_\"'])(?:(?:password|identified(?:[ \t]+with[ \t]+[A-Za-z0-9_]{1,64})?"
        r"[ \t]+by(?:[ \t]+password)?)(?:[ \t]+|[ \t]*=[ \t]*)(?:password[ \t]*\([ \t]*)?"
        r"|password[ \t]*\([ \t]*)"
        r"'([^'\n]{1,1024})'",
        r"(?i:password|identified)",
        group=1,
    ),
    _p(
        "sql_password",
        r"(?i)(?<![A-Za-z0-9_\"'])(?:(?:password|identified(?:[ \t]+with[ \t]+[A-Za-z0-9_]{1,64})?"
        r"[ \t]+by(?:[ \t]+password)?)(?:[ \t]+|[ \t]*=[ \t]*)(?:password[ \t]*\([ \t]*)?"
        r"|password[ \t]*\([ \t]*)"
        r"\"([^\"\n]{1,1024})\"",
        r"(?i:password|identified)",
        group=1,
    ),
    _p(
        "lookup_key",
        # the looked-up key: to the end of the line, or of the call's parentheses
        r"(?<![A-Za-z0-9_])KeyError(?:: ?|\()([^\n)]{1,4096})",
        r"KeyError",
        group=1,
    ),
    _p(
        "aws_key",
        r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        r"A3T|ABIA|ACCA|AKIA|ASIA",
        needs="run",
    ),
    _p(
        "github_token",
        _RUN + r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        r"ghp_|gho_|ghu_|ghs_|ghr_|github_pat_",
        needs="run",
    ),
    _p(
        "gitlab_token",
        _RUN + r"gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,}",
        r"glpat-|gldt-|glrt-|glptt-",
        needs="run",
    ),
    _p("slack_token", _RUN + r"xox[aboprs]-[A-Za-z0-9\-]{10,}", r"xox"),
    _p(
        "stripe_key",
        _RUN + r"(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})",
        r"_live_|_test_|whsec_",
        needs="run",
    ),
    _p(
        "card",
        r"(?<![0-9A-Za-z.])[2-6][0-9]{12,18}(?![0-9A-Za-z])",
        r"[0-9]{13}",
        validator=_card,
        needs="digits",
    ),
    _p(
        "card",
        r"(?<![0-9A-Za-z.])[2-6][0-9]{3}([ .\-])[0-9]{4,6}\1[0-9]{4,5}(?:\1[0-9]{1,4})?"
        r"(?![0-9A-Za-z])",
        r"[0-9]{4}[ .\-][0-9]{4}",
        validator=_card,
        needs="digits",
    ),
    _p(
        "iban",
        r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
        r"(?![A-Za-z0-9])",
        r"[A-Z]{2}[0-9]{2}",
        validator=_iban,
        needs="digits",
    ),
)

PII_PATTERNS: tuple[ValuePattern, ...] = (
    _p(
        "pii_email",
        # percent-encoded in a path or a query (``/users/bob%40example.org/``)
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._+\-]{1,64}%40[A-Za-z0-9\-]{1,63}"
        r"(?:\.[A-Za-z0-9\-]{1,63}){1,8}",
        r"%40",
    ),
    _p(
        "pii_email",
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}"
        r"(?:\.[A-Za-z0-9\-]{1,63}){1,8}",
        r"@",
        validator=_email,
    ),
    _p(
        "pii_ip",
        r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9])(?!\.[0-9])",
        r"[0-9]\.[0-9]",
        validator=_ipv4,
    ),
    _p(
        "pii_ip",
        r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})?"
        r"(?![0-9A-Fa-f:])",
        r"[0-9A-Fa-f]?:[0-9A-Fa-f]{0,4}:",
        validator=_ipv6,
    ),
    _p(
        "pii_phone",
        r"(?<![A-Za-z0-9+])(?:\+[0-9]{1,3}[ .\-]?)?(?:\([0-9]{2,4}\)[ .\-]?|[0-9]{2,4}[ .\-])"
        r"[0-9]{3,4}[ .\-]?[0-9]{3,4}(?![0-9A-Za-z])",
        r"[0-9]{3}",
        validator=_phone,
    ),
    _p("pii_phone", r"(?<![A-Za-z0-9+])\+[0-9]{8,15}(?![0-9])", r"\+[0-9]", validator=_phone),
)


def custom_pattern(index: int, pattern: str) -> ValuePattern:
    """A user pattern (``OTEL_DISTRO_REDACT_VALUES``); it always runs, on the scan window."""
    return ValuePattern(f"custom_value_{index}", re.compile(pattern), "")
