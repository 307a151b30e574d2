"""Parsers for environment values: each returns the parsed value or raises :class:`Invalid`."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "Invalid",
    "Network",
    "Parser",
    "float_between",
    "int_between",
    "one_of",
    "parse_bool",
    "parse_bool_or_auto",
    "parse_header_name",
    "parse_list",
    "parse_networks",
    "parse_str",
]

T = TypeVar("T")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A parser turns the raw text of a variable into its value, or raises :class:`Invalid`.
Parser = Callable[[str], T]


class Invalid(ValueError):
    """A value a parser rejects; the message says what is allowed."""


# --- parsers ---------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid("one of true, false, 1, 0, yes, no, on, off")


def parse_bool_or_auto(raw: str) -> str:
    """``auto``, or a boolean normalised to ``true``/``false``."""
    value = raw.strip().lower()
    if value == "auto":
        return value
    try:
        return "true" if parse_bool(value) else "false"
    except Invalid:
        raise Invalid("auto, or one of true, false, 1, 0, yes, no, on, off") from None


def int_between(low: int, high: int | None = None) -> Parser[int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            upper = f" and <= {high}" if high is not None else ""
            raise Invalid(f"an integer >= {low}{upper}")
        return value

    return parse


def float_between(low: float, high: float) -> Parser[float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            value = float("nan")
        if not (low <= value <= high):
            raise Invalid(f"a number from {low} to {high}")
        return value

    return parse


def one_of(*choices: str, upper: bool = False) -> Parser[str]:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in choices:
            raise Invalid("one of " + ", ".join(choices))
        return value

    return parse


def parse_str(raw: str) -> str:
    return raw.strip()


def parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_networks(raw: str) -> tuple[Network, ...]:
    networks: list[Network] = []
    for item in parse_list(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise Invalid(
                f"a comma-separated list of IP addresses or CIDR blocks ({item!r} is not one)"
            ) from None
    return tuple(networks)


_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "host",
        "location",
        "connection",
        "keep-alive",
        "upgrade",
        "transfer-encoding",
        "content-length",
        "content-type",
        "content-encoding",
        "www-authenticate",
        "baggage",
        "traceparent",
        "tracestate",
        "traceresponse",
        "access-control-expose-headers",
        "access-control-allow-origin",
        "access-control-allow-credentials",
    }
)


def parse_header_name(raw: str) -> str:
    value = raw.strip()
    if value.lower() in {"", "off", "none", "false", "0"}:
        return ""
    if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}", value):
        raise Invalid("an HTTP header name (token characters, at most 64), or 'off'")
    if value.lower() in _RESERVED_HEADERS:
        raise Invalid(
            "an HTTP header name that is not a credential, cookie, framing, CORS or "
            "trace-context header, or 'off'"
        )
    return value
