"""Fixtures of the ``RecordWriter`` tests: no SDK limit variables, and ``make_provider``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource

_LIMIT_VARIABLES = (
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SDK_DISABLED",
)


@pytest.fixture(autouse=True)
def no_limit_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _LIMIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_provider() -> Iterator[Callable[..., LoggerProvider]]:
    """``make_provider(*processors, resource=..., **LoggerProvider kwargs)``; shut down after."""
    made: list[LoggerProvider] = []

    def make(
        *processors: LogRecordProcessor, resource: Resource | None = None, **kwargs: Any
    ) -> LoggerProvider:
        provider = LoggerProvider(
            resource=resource if resource is not None else Resource({"service.name": "svc"}),
            shutdown_on_exit=False,
            **kwargs,
        )
        for processor in processors:
            provider.add_log_record_processor(processor)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()
