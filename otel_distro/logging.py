"""Logging for applications: ``configure()`` and ``get_logger()`` (see :mod:`otel_distro.logs`)."""

from __future__ import annotations

from otel_distro.logs import configure, flush, get_logger, should_skip_instrumentor

__all__ = ["configure", "flush", "get_logger", "should_skip_instrumentor"]
