"""Connections are released: file descriptors back to baseline, no unclosed-resource warnings."""

from __future__ import annotations

import asyncio
import gc
import os
import warnings

import pytest

from otel_distro.http import (
    ExternalAsyncClient,
    create_external_async_client,
    create_external_client,
)
from tests.http.conftest import Telemetry
from tests.support import AppProcess
from tests.support.ci import require


def open_descriptors() -> int:
    return len(os.listdir(f"/proc/{os.getpid()}/fd"))


@pytest.fixture(autouse=True)
def _needs_proc() -> None:
    require(os.path.isdir(f"/proc/{os.getpid()}/fd"), "no /proc file-descriptor table here")


def test_a_long_lived_async_client_makes_1000_calls_and_releases_everything(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """Create once, call 1,000 times, close: descriptors are back to the baseline."""

    async def warm_up() -> None:
        async with create_external_async_client(
            "billing", third_party.base_url, **telemetry.providers
        ) as client:
            await client.get("/health")

    async def main() -> list[int]:
        client = create_external_async_client(
            "billing", third_party.base_url, **telemetry.providers
        )
        try:
            statuses = []
            for _ in range(1000):
                statuses.append((await client.get("/health")).status_code)
            return statuses
        finally:
            await client.aclose()

    asyncio.run(warm_up())
    gc.collect()
    baseline = open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert set(asyncio.run(main())) == {200}
        gc.collect()
    assert open_descriptors() <= baseline
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(telemetry.records) == 1001


def test_clients_opened_and_closed_per_call_leak_nothing(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """``with create_external_client(...)`` around each call: no descriptor or warning left."""
    with create_external_client("billing", third_party.base_url, **telemetry.providers) as client:
        client.get("/health")
    gc.collect()
    baseline = open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(200):
            with create_external_client(
                "billing", third_party.base_url, **telemetry.providers
            ) as client:
                client.get("/health")
        gc.collect()
    assert open_descriptors() <= baseline
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_the_startup_shutdown_pattern_with_aenter_and_aexit(
    third_party: AppProcess, telemetry: Telemetry
) -> None:
    """``await factory(...).__aenter__()`` at startup and ``__aexit__`` at shutdown work."""

    async def main() -> bool:
        client = await create_external_async_client(
            "billing", third_party.base_url, **telemetry.providers
        ).__aenter__()
        assert isinstance(client, ExternalAsyncClient)
        await client.get("/health")
        await client.__aexit__(None, None, None)
        return client.is_closed

    assert asyncio.run(main())
