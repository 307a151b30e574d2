"""The ASGI side: automatic 401/403 detection at response time, and token rejections.

:func:`watch_response` wraps a request's ``send``: when the response starts with
401 or 403 and the request had no explicit security event, one is recorded
(``http_401``/``http_403``), so an app gets the signal without code changes.
:func:`record_token_rejection` turns the distro's own bearer-token check's
rejection into a ``token_<reason>`` event, never with any part of the token.
"""

from __future__ import annotations

from otel_distro._asgi_types import Message, Scope, Send
from otel_distro._report import guarded, internal_error
from otel_distro.security._events import record_violation
from otel_distro.security._request import RequestMark, current_mark
from otel_distro.security._state import get_state

__all__ = ["TOKEN_DETAILS", "record_token_rejection", "watch_response"]


TOKEN_DETAILS = {
    "malformed": "bearer token is malformed",
    "alg_none": "bearer token is unsigned (alg: none)",
    "algorithm_not_allowed": "bearer token uses an algorithm that is not allowed",
    "bad_signature": "bearer token signature does not verify",
    "expired": "bearer token has expired",
    "not_yet_valid": "bearer token is not valid yet (nbf/iat in the future)",
    "wrong_audience_or_issuer": "bearer token has the wrong audience or issuer",
    "missing_exp": "bearer token has no exp claim",
    "missing_claim": "bearer token lacks a required claim",
    "invalid": "bearer token is invalid",
}
_AUTO_STATUSES = frozenset({401, 403})


def watch_response(scope: Scope, send: Send) -> Send:
    """``send`` for one request, watching its status when automatic detection is on."""
    try:
        if not isinstance(scope, dict) or scope.get("type") != "http":
            return send
        mark = current_mark(scope, create=True)
        if mark is None or not get_state().auto:
            return send
    except Exception:
        internal_error("security.watch")
        return send
    return _watching_send(scope, send, mark)


def _watching_send(scope: Scope, send: Send, mark: RequestMark) -> Send:
    async def watching_send(message: Message) -> None:
        if (
            not mark.recorded
            and type(message) is dict
            and message.get("type") == "http.response.start"
            and message.get("status") in _AUTO_STATUSES
        ):
            with guarded("security.auto"):
                _auto_event(scope, mark, message["status"])
        await send(message)

    return watching_send


def _auto_event(scope: Scope, mark: RequestMark, status: int) -> None:
    mark.recorded = True
    record_violation(
        "auth",
        f"http_{status}",
        request=scope,
        http_status=status,
        detail=f"the app answered {status}",
        explicit=False,
    )


def record_token_rejection(scope: Scope, reason: str) -> None:
    """A rejected bearer token as a ``token_<reason>`` security event (never raises)."""
    with guarded("security.token"):
        current_mark(scope if isinstance(scope, dict) else None, create=True)
        record_violation(
            "token",
            f"token_{reason}",
            request=scope,
            detail=TOKEN_DETAILS.get(reason, "bearer token rejected"),
            fields={"reason": reason},  # the bare reason, as the check's events always had
        )
