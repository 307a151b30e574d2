"""One row of the table of variables: name, ``Settings`` field, parser, default, help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from otel_distro.config._parsers import Parser

__all__ = ["Variable"]

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Variable(Generic[T_co]):
    """One environment variable the distro reads.

    ``attr`` is the :class:`~otel_distro.config.Settings` field it fills; the
    field's type is what ``parse`` returns (a test holds the two together).
    """

    name: str
    attr: str
    parse: Parser[T_co]
    default: T_co
    help: str
    secret: bool = False
    default_doc: str | None = None  # how the README shows the default
