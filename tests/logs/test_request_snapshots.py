"""Request-context snapshots: the request state's own dict, replaced (not mutated) by set_tenant."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

import pytest

from otel_distro import logging as logs
from otel_distro.context import begin_request, current_request, set_tenant
from otel_distro.logging import get_logger
from otel_distro.logging._correlate import request_snapshot
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- request state snapshots ------------------------------------------------------


def _in_fresh_context(body: Callable[[], None]) -> None:
    contextvars.copy_context().run(body)


def test_set_tenant_replaces_the_values_dict() -> None:
    """The dict a snapshot holds never changes; the scope restores the very same dict."""

    def body() -> None:
        state = begin_request(None)
        set_tenant(tenant_id="t1", user_id="u1")
        first = state.values
        snapshot = request_snapshot()
        assert snapshot is first
        scope = set_tenant(tenant_id="t2")
        assert state.values is not first
        assert first == {"tenant.id": "t1", "user.id": "u1"}
        assert state.values == {"tenant.id": "t2", "user.id": "u1"}
        scope.close()
        assert state.values is first
        assert first == {"tenant.id": "t1", "user.id": "u1"}
        with set_tenant(tenant_id="t3"):
            assert state.values["tenant.id"] == "t3"
        assert state.values is first

    _in_fresh_context(body)


def test_snapshot_is_none_without_a_request_or_values() -> None:
    def body() -> None:
        assert request_snapshot() is None
        begin_request(None)
        assert current_request() is not None
        assert request_snapshot() is None

    _in_fresh_context(body)


def test_a_log_captured_before_set_tenant_keeps_the_old_values(
    configure_route: Callable[..., Logs],
) -> None:
    """Completed after a later ``set_tenant`` of the same request, a record keeps its values.

    ``set_tenant`` runs in a copied context (as in a threadpool dependency), so the
    request state is the only carrier of the tenant.  The worker is held back until
    both changes are made.
    """
    setup = configure_route("batches")
    log = get_logger("app")

    def body() -> None:
        state = begin_request(None)
        contextvars.copy_context().run(set_tenant, tenant_id="t1", user_id="u1")
        with logs._emitter._lock:
            log.info("before")
            contextvars.copy_context().run(set_tenant, tenant_id="t2")
            log.info("after")
            scope = set_tenant(tenant_id="t3")
            log.info("scoped")
            scope.close()
            log.info("restored")
        assert state.values == {"tenant.id": "t2", "user.id": "u1"}

    _in_fresh_context(body)
    expected = [
        ("before", "t1", "u1"),
        ("after", "t2", "u1"),
        ("scoped", "t3", "u1"),
        ("restored", "t2", "u1"),
    ]
    lines = setup.json_lines()
    assert [(x["event"], x["tenant.id"], x["user.id"]) for x in lines] == expected
    records = [(r.log_record.body, dict(r.log_record.attributes or {})) for r in setup.records()]
    assert [(body, a["tenant.id"], a["user.id"]) for body, a in records] == expected
