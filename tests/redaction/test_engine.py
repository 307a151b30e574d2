"""The engine: recursion, JSON in strings, limits, reports, hooks and fail-safety."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import otel_distro.redaction as redaction
from otel_distro.config import reset_settings
from otel_distro.redaction import (
    REDACTED,
    TRUNCATED,
    RedactionReport,
    Redactor,
    add_rule,
    get_redactor,
    reset_redactor,
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("KEYS", "VALUES", "ALLOW_KEYS", "PII", "MAX_SCAN"):
        monkeypatch.delenv(f"OTEL_DISTRO_REDACT_{name}", raising=False)
    reset_settings()
    reset_redactor()
    yield
    reset_settings()
    reset_redactor()


def test_public_names_are_exact() -> None:
    """The package exports exactly its documented names."""
    assert sorted(redaction.__all__) == sorted(
        [
            "REDACTED",
            "SENSITIVE_HEADERS",
            "SENSITIVE_QUERY_KEYS",
            "TRUNCATED",
            "RedactionReport",
            "Redactor",
            "Rule",
            "TextCarry",
            "add_rule",
            "get_redactor",
            "reset_redactor",
        ]
    )


def test_nested_structures_are_redacted_by_key() -> None:
    """Key rules apply at every level of dicts and lists."""
    value = {"user": {"name": "bob", "password": "pw"}, "items": [{"token": "t"}, "ok"]}
    assert Redactor().redact_value(value) == {
        "user": {"name": "bob", "password": REDACTED},
        "items": [{"token": REDACTED}, "ok"],
    }


def test_tuples_stay_tuples() -> None:
    """Sequence attributes keep their type."""
    assert Redactor().redact_value(("a", "password=x"), "k") == ("a", f"password={REDACTED}")


def test_json_inside_string_is_redacted_structurally() -> None:
    """A JSON document in a string is parsed, redacted and re-serialised."""
    body = json.dumps({"auth": {"user": "u"}, "n": 1})
    assert json.loads(Redactor().redact_value(body, "http.body")) == {"auth": REDACTED, "n": 1}


def test_clean_json_string_is_returned_unchanged() -> None:
    """A JSON string without secrets keeps its exact formatting."""
    body = '{ "a" :  1 }'
    assert Redactor().redact_value(body, "b") == body


def test_invalid_json_falls_back_to_text_rules() -> None:
    """Brace-wrapped text that is not JSON is scanned as text."""
    assert Redactor().redact_text("{password=pw}") == f"{{password={REDACTED}}}"


def test_long_string_is_scrubbed_then_truncated() -> None:
    """Strings longer than max_scan are cut, after scrubbing the kept part."""
    redactor = Redactor(max_scan=300)
    result = redactor.redact_text("password=hunter2 " + "x" * 1000)
    assert result.startswith(f"password={REDACTED} ") and result.endswith(TRUNCATED)
    assert len(result) == 300 + len(TRUNCATED)


def test_secret_straddling_the_cut_is_scrubbed() -> None:
    """A secret that starts before max_scan and ends after it is still found."""
    redactor = Redactor(max_scan=256)
    result = redactor.redact_text("x" * 250 + " AKIAIOSFODNN7EXAMPLE")
    assert "AKIA" not in result


def test_deep_nesting_is_cut_at_max_depth() -> None:
    """Structures deeper than max_depth are replaced below the limit (fail closed)."""
    value: Any = "leaf"
    for _ in range(50):
        value = {"k": value}
    report = RedactionReport()
    Redactor(max_depth=8).redact_value(value, report=report)
    assert "depth_limit" in report.by_rule


def test_deeply_nested_json_string_is_handled() -> None:
    """A string of 100k nested brackets neither raises nor grows."""
    text = "[" * 100_000 + "]" * 100_000
    result = Redactor().redact_value(text, "body")
    assert isinstance(result, str) and len(result) <= 65536 + len(TRUNCATED)


def test_node_budget_is_enforced() -> None:
    """Very large structures are cut after max_nodes values (fail closed)."""
    report = RedactionReport()
    Redactor(max_nodes=10).redact_value(list(range(100)), report=report)
    assert "size_limit" in report.by_rule


def test_report_lists_rules_and_paths_not_text() -> None:
    """The report names rule and path and never the matched text."""
    report = RedactionReport()
    Redactor().redact_mapping({"password": "hunter2", "msg": "token=abc"}, report=report)
    assert report.entries == ("password:password", "token:msg")
    assert "hunter2" not in repr(report) and "abc" not in repr(report)


def test_counts_accumulate_by_rule() -> None:
    """The redactor keeps process totals by rule name."""
    redactor = Redactor()
    redactor.redact_mapping({"password": "a", "secret": "b", "pwd": "c"})
    assert redactor.counts() == {"password": 2, "secret": 1}


def test_counts_do_not_double_when_a_report_is_reused() -> None:
    """Passing one report through several calls counts each replacement once."""
    redactor = Redactor()
    report = RedactionReport()
    redactor.redact_mapping({"password": "a"}, report=report)
    redactor.redact_text("token=x", report=report)
    assert redactor.counts() == {"password": 1, "token": 1}


def test_error_in_a_value_fails_closed() -> None:
    """A value whose conversion raises is replaced and counted, nothing propagates."""

    class Exploding:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    report = RedactionReport()
    result = Redactor().redact_mapping({"a": Exploding(), "b": "ok"}, report=report)
    assert result == {"a": REDACTED, "b": "ok"} and report.by_rule["error"] == 1


def test_failing_python_rule_fails_closed() -> None:
    """A custom rule that raises cannot leak or crash: the value is replaced."""

    def broken(key: str | None, text: str) -> str | None:
        raise ValueError("bug")

    assert Redactor(rules=[broken]).redact_value("x", "k") == REDACTED


def test_python_rule_hook_applies_everywhere() -> None:
    """``add_rule`` registers a rule on the process redactor, named in reports."""

    def employee_ids(key: str | None, text: str) -> str | None:
        return text.replace("EMP-7", REDACTED) if "EMP-7" in text else None

    add_rule(employee_ids)
    report = RedactionReport()
    assert get_redactor().redact_value("id EMP-7", "k", report=report) == f"id {REDACTED}"
    assert "employee_ids" in report.by_rule


def test_process_redactor_reads_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_redactor() is built from the OTEL_DISTRO_REDACT_* settings."""
    monkeypatch.setenv("OTEL_DISTRO_REDACT_KEYS", "tenant_pin")
    monkeypatch.setenv("OTEL_DISTRO_REDACT_PII", "true")
    reset_settings()
    redactor = get_redactor()
    assert redactor.redact_value("1", "tenant_pin") == REDACTED
    assert redactor.redact_text("a@b.io") == REDACTED


def test_process_redactor_is_built_once() -> None:
    """get_redactor() returns the same instance until reset."""
    assert get_redactor() is get_redactor()


def test_repr_holds_no_configuration_secrets() -> None:
    """The redactor's repr shows counts, not user patterns or keys."""
    text = repr(Redactor(extra_patterns=["hunter2"], extra_keys=["mykey"]))
    assert "hunter2" not in text and "mykey" not in text


def test_bytes_with_secret_become_redacted_text() -> None:
    """Byte values are scanned as UTF-8 text."""
    assert Redactor().redact_value(b"password=pw", "body") == f"password={REDACTED}"


def test_arbitrary_object_is_scanned_by_its_str() -> None:
    """Objects are converted with str() and scanned (reprs can echo inputs)."""

    class Echo:
        def __str__(self) -> str:
            return "input password=hunter2"

    assert Redactor().redact_value(Echo(), "body") == f"input password={REDACTED}"
