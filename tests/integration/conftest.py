"""Integration fixtures: ``otel_stack``, a real collector + Jaeger for the session.

See :mod:`tests.integration.stack` for the :class:`~tests.integration.stack.Stack`
it yields (endpoints, ``jaeger_api``, ``output_dir``, ``wait_for_trace``,
``find_traces``, ``read_output``).
"""

from __future__ import annotations

from tests.integration.stack import otel_stack

__all__ = ["otel_stack"]
