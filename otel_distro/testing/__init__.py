"""Testing helpers for applications that use the distro.

With the package installed, pytest loads the plugin :mod:`otel_distro.testing._plugin`
(entry point ``pytest11``), which defines the fixtures ``otel_capture`` (a
:class:`Capture`) and ``otel_capture_env``.  Outside pytest, ``with Capture(env):``
does the same.  Importing this package configures nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_distro.testing._capture import Capture
    from otel_distro.testing._launch import Launched
    from otel_distro.testing._records import LogRecord, MetricPoint, SpanEvent, SpanRecord, Trace

__all__ = ["Capture", "Launched", "LogRecord", "MetricPoint", "SpanEvent", "SpanRecord", "Trace"]


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (the plugin stays cheap to load)."""
    if name == "Capture":
        from otel_distro.testing._capture import Capture

        return Capture
    if name == "Launched":
        from otel_distro.testing._launch import Launched

        return Launched
    if name in __all__:
        from otel_distro.testing import _records

        return getattr(_records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
