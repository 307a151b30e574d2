"""Error context: exceptions on spans and logs, and Sentry sharing the trace and the redaction.

See ``docs/errors.md``.
"""

from __future__ import annotations

from otel_distro.errors._event import dropped_events
from otel_distro.errors._link import trace_link
from otel_distro.errors._sentry import init_sentry

__all__ = ["dropped_events", "init_sentry", "trace_link"]
