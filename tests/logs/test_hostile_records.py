"""Hostile log input that must neither leak nor cost other records.

Text the redactor rewrites must stay encodable (a JSON document with a ``\\ud800`` escape
is re-serialised after redaction), logger names are text that leaves the process like
any value, and rules registered after logging was configured still apply to it.
"""

from __future__ import annotations

import logging

import pytest
import structlog
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs

from otel_distro.exporters._otlp_logs import encode_logs_request
from otel_distro.logging import get_logger
from otel_distro.redaction import REDACTED, Redactor, add_rule
from tests.support.logs import Logs

pytestmark = pytest.mark.usefixtures("clean_logging_state")


SECRET = "hunter2SECRETvalue"
# pure ASCII text: the escape is only decoded when the redactor parses the JSON
JSON_WITH_LONE_SURROGATE = '{"note": "\\ud800", "password": "' + SECRET + '"}'


def test_redacted_json_with_an_escaped_lone_surrogate_stays_encodable() -> None:
    redactor = Redactor()
    encoded_twice = '"' + JSON_WITH_LONE_SURROGATE.replace('"', '\\"') + '"'
    for text in (JSON_WITH_LONE_SURROGATE, encoded_twice):
        result = redactor.redact_text(text)
        assert SECRET not in result and REDACTED in result
        result.encode("utf-8")  # OTLP (protobuf) and files refuse lone surrogates
    structured = redactor.redact_value(["\ud800", JSON_WITH_LONE_SURROGATE])
    assert SECRET not in str(structured)


def test_a_record_with_such_a_body_is_exported_with_its_batch(log_setup: Logs) -> None:
    """One hostile body must not make the OTLP request of its whole batch fail."""
    log = get_logger("app")
    log.info("before")
    log.info(JSON_WITH_LONE_SURROGATE)
    log.info("event", payload=JSON_WITH_LONE_SURROGATE)
    log.info("after")
    records = log_setup.records()
    assert [str(r.log_record.body)[:8] for r in records] == ["before", '{"note":', "event", "after"]
    assert encode_logs_request(records) == encode_logs(records).SerializeToString()
    payload = records[2].log_record.attributes["payload"]
    assert SECRET not in payload and REDACTED in payload
    assert SECRET not in str(records[1].log_record.body)


def test_logger_names_are_redacted(log_setup: Logs) -> None:
    """A logger named after a URL with credentials (``getLogger(f"client.{url}")``)."""
    logging.getLogger(f"client.https://svc:{SECRET}@db.example/x").info("connected")
    get_logger(f"worker password={SECRET}").info("started")
    records = log_setup.records()
    names = [r.log_record.attributes["logger.name"] for r in records]
    lines = log_setup.json_lines()
    for text in [*names, *(line["logger"] for line in lines)]:
        assert SECRET not in text and REDACTED in text
    assert names == [line["logger"] for line in lines]
    assert names[0] == f"client.https://{REDACTED}:{REDACTED}@db.example/x"


def test_plain_logger_names_are_kept(log_setup: Logs) -> None:
    logging.getLogger("uvicorn.error").info("up")
    get_logger("app.sites").info("site_created")
    assert [r.log_record.attributes["logger.name"] for r in log_setup.records()] == [
        "uvicorn.error",
        "app.sites",
    ]


def test_rules_added_after_logging_was_configured_apply_to_logs(log_setup: Logs) -> None:
    """An application registers its rules at import, after ``opentelemetry-instrument``
    configured logging: its records must still go through them."""
    get_logger("app").info("before", who="EMP-1")  # the bridge has used its redactor

    def employee_ids(key: str | None, text: str) -> str | None:
        return text.replace("EMP-", REDACTED + "-") if "EMP-" in text else None

    add_rule(employee_ids)
    get_logger("app").info("hired", who="EMP-42")
    logging.getLogger("hr").info("hired EMP-%s", 43)
    structlog.get_logger("app").info("EMP-44")
    records = log_setup.records()[1:]
    lines = log_setup.json_lines()[1:]
    assert records[0].log_record.attributes["who"] == f"{REDACTED}-42"
    assert records[1].log_record.body == f"hired {REDACTED}-43"
    assert records[2].log_record.body == f"{REDACTED}-44"
    assert [line["event"] for line in lines] == ["hired", f"hired {REDACTED}-43", f"{REDACTED}-44"]
    assert "employee_ids:who" in records[0].log_record.attributes["otel_distro.redacted"]
