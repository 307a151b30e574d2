"""Names the distro writes into telemetry, defined once."""

from __future__ import annotations

__all__ = ["OWN_SCOPE_PREFIX", "REPORT_ATTRIBUTE"]

#: Attribute listing what was redacted on a span or log record ("rule:path").
REPORT_ATTRIBUTE = "otel_distro.redacted"
#: Log records from scopes starting with this were redacted by our bridge already.
OWN_SCOPE_PREFIX = "otel_distro"
