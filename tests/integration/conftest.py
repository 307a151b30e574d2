"""Integration fixtures: ``otel_stack``, a real collector + Jaeger for the session, and
``broker``, a private RabbitMQ node for the module.

See :mod:`tests.integration.stack` for the :class:`~tests.integration.stack.Stack`
it yields (endpoints, ``jaeger_api``, ``output_dir``, ``wait_for_trace``,
``find_traces``, ``read_output``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.integration.stack import otel_stack
from tests.support.ci import require
from tests.support.rabbitmq import Broker, rabbitmq_broker

__all__ = ["broker", "otel_stack"]


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """A private RabbitMQ node (fails under CI when aio-pika or the server is missing)."""
    require(importlib.util.find_spec("aio_pika") is not None, "aio-pika is not installed")
    with rabbitmq_broker() as running:
        yield running
