"""Run in a fresh interpreter by ``test_sentry_transport.py``: Sentry started by the
distro (``SENTRY_DSN`` from the environment), one exception captured twice inside an
OTel span; prints the span's trace id."""

from __future__ import annotations

import os

import sentry_sdk
from opentelemetry.sdk.trace import TracerProvider

from otel_distro import set_tenant
from otel_distro.config import load_settings
from otel_distro.errors import init_sentry


def main() -> None:
    secret = os.environ["PLANTED_SECRET"]
    assert init_sentry(load_settings(dict(os.environ)))
    tracer = TracerProvider().get_tracer("scenario")
    with tracer.start_as_current_span("request") as span, set_tenant(tenant_id="t-1"):
        sentry_sdk.add_breadcrumb(message=f"calling with api_key={secret}")
        try:
            api_key = secret  # noqa: F841 - a local of the failing frame
            raise RuntimeError(f"upstream refused password={secret}")
        except RuntimeError:
            sentry_sdk.capture_exception()  # the app's handler
            sentry_sdk.capture_exception()  # and again, by a framework integration
    sentry_sdk.flush(timeout=5)
    print(format(span.get_span_context().trace_id, "032x"))


if __name__ == "__main__":
    main()
