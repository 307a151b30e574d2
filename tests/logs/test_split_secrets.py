"""Secrets split across consecutive records of one logger (a PEM private key over
several records, a ``password:`` value on the record after its key) are replaced in
every record, on the exported records and for the application's own handlers; other
loggers' records are never masked by that state."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable

import pytest

from otel_distro.logging import _carries
from otel_distro.logging._stdlib import RootHandler
from otel_distro.redaction import REDACTED
from tests.support.logs import Logs
from tests.support.split_secrets import chunks, password, pem_records

pytestmark = pytest.mark.usefixtures("clean_logging_state")


@pytest.fixture(params=["exported only", "other handlers too"])
def consumers(request: pytest.FixtureRequest, log_setup: Logs) -> Callable[[], Logs]:
    """Called in the test: logging with only the distro's handler reading records
    (redacted on the log worker), or with other handlers on the root logger too (the
    test runner's capture; redacted on the record)."""

    def start() -> Logs:
        if request.param == "exported only":
            root = logging.getLogger()
            root.handlers[:] = [h for h in root.handlers if type(h) is RootHandler]
        return log_setup

    return start


def bodies(log: Logs, name: str) -> list[str]:
    return [
        str(r.log_record.body)
        for r in log.records()
        if (r.log_record.attributes or {}).get("logger.name") == name
    ]


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_pem_key_split_over_records_is_not_exported(
    consumers: Callable[[], Logs], parts: int
) -> None:
    """No piece of a private key logged over consecutive records reaches an exported
    record, and the text around the key stays."""
    log_setup = consumers()
    pieces, lines = pem_records(parts)
    log = logging.getLogger("app.keys")
    for piece in pieces:
        log.warning(piece)
    out = bodies(log_setup, "app.keys")
    joined = "\n".join(out)
    assert len(out) == parts
    assert not [c for c in chunks(lines) if c in joined]
    assert out[0].startswith("loaded key: ") and out[-1].endswith("(key ok)")


def test_password_value_on_the_next_record_is_not_exported(consumers: Callable[[], Logs]) -> None:
    """A record ending in ``password:`` makes the first word of the logger's next record
    secret; the record after that is left alone."""
    log_setup = consumers()
    secret, later = password(), password()
    log = logging.getLogger("app.db")
    log.info("connecting, db password:")
    log.info("%s (from the vault)", secret)
    log.info("%s is a request id", later)
    out = bodies(log_setup, "app.db")
    assert secret not in "\n".join(out)
    assert out[1].endswith(" (from the vault)")
    assert out[2] == f"{later} is a request id"


def test_records_of_other_loggers_in_between_are_not_masked(consumers: Callable[[], Logs]) -> None:
    """Another logger's records between the pieces keep their text, the split secret is
    still replaced."""
    log_setup = consumers()
    pieces, lines = pem_records(3)
    secret, other = password(), password()
    keys, noise = logging.getLogger("app.keys"), logging.getLogger("app.other")
    keys.info("admin password=")
    noise.info("%s order placed", other)
    keys.info(secret)
    for piece in pieces:
        keys.info(piece)
        noise.info("%s order placed", other)
    assert bodies(log_setup, "app.other") == [f"{other} order placed"] * 4
    joined = "\n".join(bodies(log_setup, "app.keys"))
    assert secret not in joined and not [c for c in chunks(lines) if c in joined]


def test_apps_own_handler_sees_the_split_secrets_replaced(log_setup: Logs) -> None:
    """A handler of the application on the logger (records redacted on the record) gets
    the split key and password replaced, exactly once: the next record is intact."""
    pieces, lines = pem_records(3)
    secret, after = password(), password()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("app.own")
    log.addHandler(handler)
    try:
        for piece in pieces:
            log.info(piece)
        log.info("user password:")
        log.info(secret)
        log.info("%s next", after)
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    exported = "\n".join(bodies(log_setup, "app.own"))
    for text in (written, exported):
        assert secret not in text and not [c for c in chunks(lines) if c in text]
        assert f"{after} next" in text and "(key ok)" in text


def test_an_unclosed_key_stops_masking_after_a_bounded_number_of_records(
    consumers: Callable[[], Logs],
) -> None:
    """A key that is never closed masks the logger's next records for a bounded run only;
    later records are exported as they are."""
    log_setup = consumers()
    pieces, _ = pem_records(2)
    log = logging.getLogger("app.cut")
    log.info(pieces[0])  # the block opens, its end never comes
    for i in range(_carries.MAX_RECORDS + 2):
        log.info("line %d of the key", i)
    tail = password()
    log.info("%s after", tail)
    out = bodies(log_setup, "app.cut")
    assert out[1] == REDACTED
    assert out[-1] == f"{tail} after"


def test_threads_logging_to_their_own_loggers_keep_their_own_state(
    consumers: Callable[[], Logs],
) -> None:
    """Loggers used from several threads at once each carry their own split password."""
    log_setup = consumers()
    planted = {f"app.t{i}": password() for i in range(6)}
    start = threading.Barrier(len(planted))

    def run(name: str) -> None:
        log = logging.getLogger(name)
        start.wait()
        for _ in range(20):
            log.info("service password:")
            log.info("%s used", planted[name])
            log.info("idle")

    threads = [threading.Thread(target=run, args=(n,)) for n in planted]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, secret in planted.items():
        out = bodies(log_setup, name)
        assert len(out) == 60 and secret not in "\n".join(out)
        assert out.count("idle") == 20


def test_logger_table_is_bounded() -> None:
    """The per-logger table keeps at most its size, dropping the least recently used."""
    from otel_distro.redaction import TextCarry

    table = _carries.Carries(TextCarry, size=8)
    for i in range(50):
        assert table.for_text(f"logger{i}", "password:") is not None
    assert len(table) == 8
    assert table.for_text("logger0", "clean text") is None


def test_structlog_events_of_one_logger_carry_the_split_password(log_setup: Logs) -> None:
    """structlog events named by one logger get the same treatment as stdlib records."""
    import structlog

    secret = password()
    log = structlog.get_logger("app.events")
    log.info("vault password:")
    log.info(f"{secret} rotated")
    log.info("done")
    out = bodies(log_setup, "app.events")
    assert out == ["vault password:", f"{REDACTED} rotated", "done"]
