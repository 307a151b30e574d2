"""The ASGI interface's types, named once: a connection's scope, its events, the callables.

Scopes and events are the spec's string-keyed mappings whose values differ by key (the
same shapes Starlette names ``Scope`` and ``Message``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
