"""``Redactor.redact_exception``: a look-alike exception with its messages redacted."""

from __future__ import annotations

import sys
import traceback

import pytest

from otel_distro.redaction import Redactor
from otel_distro.redaction._exceptions import mask_parts, replaced_parts

from ._plant import alnum, urlsafe

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # the backport (pytest depends on it there)
    from exceptiongroup import ExceptionGroup


class NeedsArgs(Exception):
    """A constructor with required arguments and a side effect the copy must not run."""

    made = 0

    def __init__(self, message: str, code: int) -> None:
        NeedsArgs.made += 1
        super().__init__(message)
        self.code = code


class BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_clean_exception_is_returned_as_it_is(plain: Redactor) -> None:
    exc = _raised(ValueError("order 42 not found"))
    assert plain.redact_exception(exc) is exc


def test_copy_keeps_type_traceback_and_fields_without_running_the_constructor(
    plain: Redactor,
) -> None:
    token = urlsafe()
    exc = _raised(NeedsArgs(f"refused token={token}", 7))
    made = NeedsArgs.made
    parts: list[str] = []
    copy = plain.redact_exception(exc, parts=parts)
    assert NeedsArgs.made == made
    assert isinstance(copy, NeedsArgs) and type(copy).__qualname__ == "NeedsArgs"
    assert copy.code == 7 and copy.__traceback__ is exc.__traceback__
    assert str(copy) == "refused token=REDACTED" and copy.args == ("refused token=REDACTED",)
    assert parts == [token]
    lines = traceback.format_exception(type(copy), copy, copy.__traceback__)
    assert lines[-1] == f"{__name__}.NeedsArgs: refused token=REDACTED\n"


def test_key_error_message_is_the_looked_up_key(plain: Redactor) -> None:
    sid = alnum(12)
    copy = plain.redact_exception(_raised(KeyError(sid)))
    assert isinstance(copy, KeyError) and sid not in str(copy) and sid not in repr(copy)


def test_chain_and_notes_are_redacted(plain: Redactor) -> None:
    token, note = urlsafe(), alnum(20)
    try:
        try:
            raise ConnectionError(f"dsn=postgres://app:{token}@db/app")
        except ConnectionError as inner:
            raise RuntimeError("boot failed") from inner
    except RuntimeError as outer:
        outer.__notes__ = [f"secret={note}"]
        exc = outer
    copy = plain.redact_exception(exc)
    text = "".join(traceback.format_exception(type(copy), copy, copy.__traceback__))
    assert token not in text and "boot failed" in text and "ConnectionError" in text
    assert copy.__notes__ == ["secret=REDACTED"]  # type: ignore[attr-defined]
    assert copy.__cause__ is not exc.__cause__ and isinstance(copy.__cause__, ConnectionError)


def test_os_error_and_syntax_error_fields(plain: Redactor) -> None:
    token = alnum(24)
    os_error = _raised(FileNotFoundError(2, "No such file or directory", f"/x?token={token}"))
    copy = plain.redact_exception(os_error)
    assert isinstance(copy, FileNotFoundError)
    assert copy.errno == 2 and copy.filename == "/x?token=REDACTED"
    try:
        compile(f"x = 'password={token}' +", "settings.py", "exec")
    except SyntaxError as exc:
        syntax = plain.redact_exception(exc)
    only = "".join(traceback.format_exception_only(type(syntax), syntax))
    assert token not in only and "settings.py" in only and "SyntaxError" in only


def test_group_members_are_redacted(plain: Redactor) -> None:
    token = urlsafe()
    group = _raised(ExceptionGroup("tasks failed", [ValueError(f"api_key={token}"), OSError("x")]))
    copy = plain.redact_exception(group)
    assert isinstance(copy, ExceptionGroup)
    members = copy.exceptions
    assert str(members[0]) == "api_key=REDACTED" and members[1] is group.exceptions[1]  # type: ignore[attr-defined]
    text = "".join(traceback.format_exception(type(copy), copy, copy.__traceback__))
    assert token not in text and "tasks failed" in text


def test_failing_str_and_cycles_do_not_raise(plain: Redactor) -> None:
    exc = _raised(BadStr())
    assert plain.redact_exception(exc) is exc
    first, second = ValueError(f"token={urlsafe()}"), ValueError("b")
    first.__context__, second.__context__ = second, first
    copy = plain.redact_exception(first)
    assert "REDACTED" in str(copy)


def test_replaced_and_masked_parts() -> None:
    token, other = urlsafe(), alnum(30)
    original = f"a password={token} and secret={other} end"
    redacted = "a password=REDACTED and secret=REDACTED end"
    assert replaced_parts(original, redacted) == (token, other)
    assert replaced_parts("abc", "abc") == () and replaced_parts("abc", "xREDACTED") == ()
    shown = f"locals: {{'v': {token!r}, 'w': '{other[:20]}'+10}}"
    masked = mask_parts(shown, (token, other))
    assert token not in masked and other[:20] not in masked and "'v'" in masked


@pytest.mark.parametrize("kind", [SystemExit, KeyboardInterrupt, GeneratorExit])
def test_base_exceptions(plain: Redactor, kind: type[BaseException]) -> None:
    copy = plain.redact_exception(_raised(kind(f"token={urlsafe()}")))
    assert isinstance(copy, kind) and str(copy) == "token=REDACTED"


def test_copy_shares_the_instance_dict_of_the_original(plain: Redactor) -> None:
    """Marks the distro sets with ``object.__setattr__`` (span events recorded, Sentry
    sent, the request an exception left) are seen on both; redacted attributes are shown
    on the copy only, the original keeps its own."""
    token = urlsafe()
    exc = _raised(NeedsArgs(f"refused token={token}", 7))
    exc.detail = f"password={token}"  # type: ignore[attr-defined]
    copy = plain.redact_exception(exc)
    object.__setattr__(copy, "_otel_distro_logged", True)
    object.__setattr__(exc, "_otel_distro_origin", "ctx")
    assert vars(exc)["_otel_distro_logged"] is True and vars(copy)["_otel_distro_origin"] == "ctx"
    assert copy.detail == "password=REDACTED"  # type: ignore[attr-defined]
    assert exc.detail == f"password={token}"  # type: ignore[attr-defined]
    assert plain.redact_exception(exc).detail == "password=REDACTED"  # type: ignore[attr-defined]
