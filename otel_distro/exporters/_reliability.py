"""Wiring of delivery accounting and the bounded shutdown into freshly built providers."""

from __future__ import annotations

from otel_distro._report import guarded

__all__ = ["install_reliability"]


def install_reliability(shutdown_timeout: float) -> None:
    """Count deliveries and drops, say unreachable endpoints once, bound the final export.

    Runs right after the SDK built its providers, before their first export.
    """
    from opentelemetry import metrics, trace
    from opentelemetry._logs import get_logger_provider

    from otel_distro import __version__
    from otel_distro.exporters._delivery import announce_unreachable, observe_dropped
    from otel_distro.exporters._tracked import install_delivery
    from otel_distro.shutdown import install_bounded_shutdown

    with guarded("exporters.reliability.delivery"):
        install_delivery(
            trace.get_tracer_provider(), get_logger_provider(), metrics.get_meter_provider()
        )
        observe_dropped(metrics.get_meter("otel_distro", __version__))
    with guarded("exporters.reliability.shutdown"):
        install_bounded_shutdown(shutdown_timeout)
    with guarded("exporters.reliability.announce"):
        announce_unreachable()
