"""OTLP requests built by hand for the collector tests, the decoding of its file output,
and synthetic secrets of each kind the collector must mask."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ProtoResource

from tests.integration.stack import REPO, Stack

__all__ = [
    "CONFIG",
    "MANIFEST",
    "MASK",
    "ORDINARY",
    "Secrets",
    "any_value",
    "file_attributes",
    "file_logs",
    "file_points",
    "file_spans",
    "file_value",
    "jaeger_tags",
    "key_values",
    "post",
    "proto_resource",
    "tagged",
]

CONFIG = REPO / "collector" / "config.yaml"
MANIFEST = REPO / "collector" / "builder-config.yaml"
MASK = "****"


# --- building OTLP requests by hand (nothing app-side touches them) ---------------


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    return AnyValue(string_value=str(value))


def key_values(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in values.items()]


def post(stack: Stack, path: str, message: Any) -> None:
    response = httpx.post(
        f"{stack.otlp_http_endpoint}{path}",
        content=message.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10.0,
    )
    assert response.status_code == 200, response.text


def proto_resource(service: str) -> ProtoResource:
    return ProtoResource(attributes=key_values({"service.name": service}))


# --- decoding the file exporter's OTLP JSON -----------------------------------------


def file_value(any_value: dict[str, Any]) -> Any:
    if "stringValue" in any_value:
        return any_value["stringValue"]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "boolValue" in any_value:
        return any_value["boolValue"]
    if "doubleValue" in any_value:
        return any_value["doubleValue"]
    if "kvlistValue" in any_value:
        return file_attributes(any_value["kvlistValue"].get("values", []))
    if "arrayValue" in any_value:
        return [file_value(v) for v in any_value["arrayValue"].get("values", [])]
    return None


def file_attributes(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: file_value(item.get("value", {})) for item in attributes}


def file_spans(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_spans in record.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            yield from scope_spans.get("spans", [])


def file_logs(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_logs in record.get("resourceLogs", []):
        for scope_logs in resource_logs.get("scopeLogs", []):
            yield from scope_logs.get("logRecords", [])


def file_points(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource_metrics in record.get("resourceMetrics", []):
        for scope_metrics in resource_metrics.get("scopeMetrics", []):
            for metric in scope_metrics.get("metrics", []):
                for kind in ("sum", "gauge", "histogram"):
                    yield from metric.get(kind, {}).get("dataPoints", [])


def tagged(items: Iterator[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    return [i for i in items if file_attributes(i.get("attributes", [])).get("test.run") == run]


# --- secrets ------------------------------------------------------------------------


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Secrets:
    """Fresh, synthetic secrets of each kind the collector must mask."""

    def __init__(self) -> None:
        self.card = "4111 1111 1111 1111"
        self.card_digits = "5500000000000004"
        self.amex = "378282246310005"
        self.jwt = (
            f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}"
            f".{_b64url({'sub': 'user-1', 'nonce': secrets.token_hex(8)})}"
            f".{secrets.token_urlsafe(32)}"
        )
        self.bearer_token = secrets.token_urlsafe(24)
        self.password = f"pw-{secrets.token_hex(8)}"
        self.api_key = f"key-{secrets.token_hex(12)}"

    def all(self) -> list[str]:
        """Every secret string, and the parts that would still leak on their own."""
        return [
            self.card,
            self.card.replace(" ", ""),
            self.card_digits,
            self.amex,
            self.jwt,
            self.jwt.split(".")[1],
            self.jwt.split(".")[2],
            self.bearer_token,
            self.password,
            self.api_key,
        ]

    def assert_absent(self, text: str, where: str) -> None:
        leaked = [secret for secret in self.all() if secret in text]
        assert not leaked, f"secrets survived in {where}: {leaked}"


ORDINARY = {
    "http.route": "/checkout/{order_id}",
    "http.request.method": "POST",
    "http.response.status_code": 402,
    "order.id": "ord-20261128-0042",
    "gen_ai.usage.input_tokens": 12,
    "feature.enabled": True,
    "note": "paid by card, see the bearer of this note",
}


def jaeger_tags(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in items}
