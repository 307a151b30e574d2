"""An exception as handlers may show it: a look-alike with its messages redacted.

Formatters that print an exception themselves (structlog's ``dict_tracebacks``, a JSON
formatter reading ``exc_info``, a handler sending ``str(exc)`` somewhere) read its type,
message, ``args``, notes, attributes and chain, not the redacted traceback text.
:func:`redact_exception` returns a copy that reads the same with secrets replaced: an
instance of a subclass of the original type with the same name, module and qualified
name (so tracebacks print the same type and ``isinstance`` still holds), the same
traceback object (frames, line numbers), and redacted ``str()``, ``args``, notes,
string attributes, ``SyntaxError`` fields, chained exceptions and group members.  When
the type cannot be subclassed or instantiated without running its own code, the copy
is a plain ``Exception`` subclass with the same names.  An exception with nothing to
replace is returned as it is (the same object).

:func:`replaced_parts` recovers the substrings a redaction removed, so that the same
values can be masked wherever else a formatter shows them (frame locals).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from ._marker import REDACTED

__all__ = ["mask_parts", "redact_exception", "replaced_parts"]

#: ``redact(text, path)``: free text redacted; ``redact_value(value, key, path)``: a value.
TextRedact = Callable[[str, str], str]
ValueRedact = Callable[[Any, "str | None", str], Any]

_MAX_LINKED = 32  # exceptions redacted through causes, contexts and group members
_KEEP_PREFIX = "_otel_distro"  # the distro's own marks (the request an exception left)
# fields of built-in exceptions that tracebacks and handlers read besides ``args``
_FIELDS: tuple[tuple[type[BaseException], tuple[str, ...]], ...] = (
    (SyntaxError, ("msg", "text", "filename", "lineno", "offset", "end_lineno", "end_offset")),
    (OSError, ("errno", "strerror", "filename", "filename2")),
    (StopIteration, ("value",)),
)
_MIN_PART = 6  # shorter replaced parts are not masked elsewhere (line numbers, words)
# the exceptiongroup backport keeps a group's members and message in the instance dict
_GROUP_STORAGE = ("_exceptions", "exceptions", "_message")


def _message(value: BaseException) -> str:
    try:
        return str(value)
    except Exception:  # the application's __str__ fails: traceback prints a placeholder
        return "<exception str() failed>"


_TEXTUAL = (str, bytes, list, tuple, dict)


class _Redacting:
    __slots__ = ("budget", "done", "parts", "redact", "redact_value")

    def __init__(self, redact: TextRedact, redact_value: ValueRedact, parts: list[str]) -> None:
        self.redact = redact
        self.redact_value = redact_value
        self.parts = parts
        self.done: dict[int, BaseException] = {}
        self.budget = _MAX_LINKED

    def _data(self, item: Any, key: str | None, path: str) -> Any:
        """A textual value redacted; an object (a response, a request) kept as it is."""
        if not isinstance(item, _TEXTUAL):
            return item
        if isinstance(item, (list, tuple)) and any(isinstance(i, BaseException) for i in item):
            return item  # exceptions held by an exception (a group's members): kept
        return self.redact_value(item, key, path)

    def _text(self, text: str, path: str) -> str:
        new = self.redact(text, path)
        if new != text:
            self.parts.extend(replaced_parts(text, new))
        return new

    def exception(self, value: BaseException, path: str) -> BaseException:
        known = self.done.get(id(value))
        if known is not None:
            return known
        self.done[id(value)] = value  # a cycle in the chain ends at the original
        self.budget -= 1
        if self.budget < 0:
            return value
        kind = type(value)
        message = _message(value)
        # read with its type name, as tracebacks print it (``KeyError: 'sid'``)
        head = f"{kind.__name__}: "
        line = self.redact(head + message, f"{path}.message")
        new_message = line[len(head) :] if line.startswith(head) else self.redact(message, path)
        changed = new_message != message
        if changed:
            self.parts.extend(replaced_parts(message, new_message))
        members = getattr(value, "exceptions", None)
        group: tuple[BaseException, ...] | None = None
        if (
            isinstance(members, tuple)
            and members
            and all(isinstance(m, BaseException) for m in members)
        ):
            group = tuple(self.exception(m, f"{path}.exceptions") for m in members)
            changed = changed or any(a is not b for a, b in zip(group, members, strict=True))
        args = value.args
        if group is None:  # a group's arguments are its message and members (below)
            args = tuple(self._data(arg, None, f"{path}.args") for arg in value.args)
            changed = changed or any(_differs(a, b) for a, b in zip(args, value.args, strict=True))
        overrides: dict[str, Any] = {}  # attributes of the instance dict, shown redacted
        for name, item in vars(value).items():
            if name.startswith(_KEEP_PREFIX) or (group is not None and name in _GROUP_STORAGE):
                continue  # the distro's marks (shared), a group's storage (set below)
            new = self._data(item, name, path)
            if name == "__notes__" and isinstance(item, list):
                new = [self._text(n, f"{path}.notes") if isinstance(n, str) else n for n in item]
            if _differs(new, item):
                overrides[name] = new
        changed = changed or bool(overrides)
        links: dict[str, BaseException | None] = {}
        for name in ("__cause__", "__context__"):
            linked = getattr(value, name, None)
            links[name] = (
                linked
                if not isinstance(linked, BaseException)
                else (self.exception(linked, f"{path}.{name.strip('_')}"))
            )
            changed = changed or links[name] is not linked
        fields: dict[str, Any] = {}  # built-in fields (OSError, SyntaxError): per instance
        for name in _fields(value):
            item = getattr(value, name, None)
            fields[name] = self._text(item, f"{path}.{name}") if isinstance(item, str) else item
            changed = changed or _differs(fields[name], item)
        if not changed:
            return value
        group_message = getattr(value, "message", "") if group is not None else ""
        if group is not None and isinstance(group_message, str):
            group_message = self._text(group_message, f"{path}.message")
            args = (group_message, list(group))
            if "_exceptions" in vars(value):  # the exceptiongroup backport's storage
                overrides["_exceptions"] = group
        copy = _instance(kind, new_message, args, group, str(group_message), overrides)
        if copy is None:
            return value  # no way to build one: the record's traceback text is redacted still
        for name, item in fields.items():
            _set(copy, name, item)
        try:  # one instance dict: marks the distro sets on either are seen on both
            copy.__dict__ = vars(value)
        except (AttributeError, TypeError):  # an exotic type: a copy of the dict of its own
            for name, item in vars(value).items():
                _set(copy, name, item)
        copy.__traceback__ = value.__traceback__
        copy.__cause__ = links["__cause__"]
        copy.__context__ = links["__context__"]
        copy.__suppress_context__ = value.__suppress_context__
        self.done[id(value)] = copy
        return copy


def _fields(value: BaseException) -> tuple[str, ...]:
    for kind, names in _FIELDS:
        if isinstance(value, kind):
            return names
    return ()


def _differs(new: Any, old: Any) -> bool:
    if new is old:
        return False
    try:
        return bool(new != old)
    except Exception:  # an application value refusing ==: treat it as replaced
        return True


def _set(target: BaseException, name: str, item: Any) -> None:
    try:
        object.__setattr__(target, name, item)
    except (AttributeError, TypeError):  # a read-only field of a built-in exception
        return


def _shown(item: Any) -> property:
    """A read-only class attribute showing ``item`` (it wins over the instance dict)."""

    def get(self: BaseException) -> Any:
        return item

    return property(get)


def _namespace(
    kind: type[BaseException], message: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    def __str__(self: BaseException) -> str:
        return message

    def __repr__(self: BaseException) -> str:
        return f"{kind.__name__}({message!r})"

    namespace: dict[str, Any] = {name: _shown(item) for name, item in overrides.items()}
    namespace.update(
        __str__=__str__,
        __repr__=__repr__,
        __module__=kind.__module__,
        __qualname__=kind.__qualname__,
        __doc__=kind.__doc__,
    )
    return namespace


def _native_new(cls: type[BaseException]) -> Any:
    """The ``__new__`` of the nearest built-in class: never the application's code."""
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            return klass.__new__
    return BaseException.__new__


def _instance(
    kind: type[BaseException],
    message: str,
    args: tuple[Any, ...],
    group: tuple[BaseException, ...] | None,
    group_message: str,
    overrides: dict[str, Any],
) -> BaseException | None:
    """An instance of a subclass of ``kind`` (else of a plain look-alike) that shows
    ``message`` and ``overrides`` (class-level, so the instance dict can be shared)."""
    native_group = getattr(builtins, "BaseExceptionGroup", None)
    namespace = _namespace(kind, message, overrides)
    plain = Exception if issubclass(kind, Exception) else BaseException
    for base in (kind, plain):
        try:
            cls = type(kind.__name__, (base,), namespace)
        except Exception:  # noqa: S112 - a final type, or a metaclass refusing: the look-alike
            continue
        in_group = group is not None and native_group is not None and issubclass(cls, native_group)
        try:
            new = _native_new(cls)
            copy: BaseException = (
                new(cls, group_message, list(group or ())) if in_group else new(cls)
            )
            copy.args = args
        except (TypeError, ValueError):  # the type's own constructor is required
            continue
        return copy
    return None


def redact_exception(
    value: BaseException,
    redact: TextRedact,
    redact_value: ValueRedact,
    path: str = "exception",
    parts: list[str] | None = None,
) -> BaseException:
    """``value``, or a look-alike with its messages redacted (see the module docs).

    ``parts`` collects the replaced substrings of its messages and notes (see
    :func:`replaced_parts`), for :func:`mask_parts`.
    """
    return _Redacting(redact, redact_value, [] if parts is None else parts).exception(value, path)


def mask_parts(text: str, parts: tuple[str, ...] | list[str]) -> str:
    """``text`` with every occurrence of ``parts`` replaced, also where a formatter cut
    one short (``'a8F3k2...'+40``: a run matching its first 12 characters or more)."""
    for part in parts:
        probe = part[:12]
        pos = text.find(probe)
        while pos != -1:
            end = pos + len(probe)
            limit = min(len(text), pos + len(part))
            while end < limit and text[end] == part[end - pos]:
                end += 1
            text = text[:pos] + REDACTED + text[end:]
            pos = text.find(probe, pos + len(REDACTED))
    return text


def replaced_parts(original: str, redacted: str) -> tuple[str, ...]:
    """The substrings of ``original`` that ``redacted`` shows as ``REDACTED`` markers.

    Read by aligning the text between markers; parts shorter than six characters (or
    when the texts do not align) are left out.
    """
    if REDACTED not in redacted:
        return ()
    pieces = redacted.split(REDACTED)
    if not original.startswith(pieces[0]) or not original.endswith(pieces[-1]):
        return ()
    found: list[str] = []
    pos = len(pieces[0])
    end_limit = len(original) - len(pieces[-1])
    for piece in pieces[1:-1]:
        at = original.find(piece, pos, end_limit) if piece else pos
        if at == -1:
            return tuple(found)
        if piece:
            found.append(original[pos:at])
        pos = at + len(piece)
    found.append(original[pos:end_limit])
    return tuple(
        dict.fromkeys(
            part for part in found if len(part.strip()) >= _MIN_PART and REDACTED not in part
        )
    )
