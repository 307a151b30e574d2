"""The replacement marker shared by every rule."""

from __future__ import annotations

#: What a redacted value (or substring) is replaced with.  The same word the
#: semantic conventions use for URL credentials (``REDACTED:REDACTED@``).
REDACTED = "REDACTED"

__all__ = ["REDACTED"]
