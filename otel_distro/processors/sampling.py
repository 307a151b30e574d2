"""A sampler wrapper that drops the ASGI ``http send``/``http receive`` internal spans.

FastAPI gets ``exclude_spans`` from the distro; Starlette's instrumentor has no
such option, so the spans are dropped at sampling time instead (one server
span per request).  ``OTEL_DISTRO_ASGI_INTERNAL_SPANS=true`` keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState, get_current_span
from opentelemetry.util.types import Attributes

__all__ = ["DropAsgiInternalSpans"]

_SUFFIXES = (
    " http send",
    " http receive",
    " websocket send",
    " websocket receive",
)


class DropAsgiInternalSpans(Sampler):
    """Delegates to ``inner`` except for ASGI send/receive internal spans."""

    def __init__(self, inner: Sampler) -> None:
        self._inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.INTERNAL and name.endswith(_SUFFIXES):
            parent = get_current_span(parent_context).get_span_context()
            return SamplingResult(
                Decision.DROP, None, parent.trace_state if parent.is_valid else None
            )
        return self._inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"DropAsgiInternalSpans{{{self._inner.get_description()}}}"
