"""A planted-secret corpus of random values in many shapes, through many channels.

Every secret is generated per run (never a fixed string) and written the way real
applications write it: signed-URL query parameters (Azure SAS, AWS, GCS, CloudFront,
CAS), one-time codes in prose, tokens inside routing keys and correlation ids, and the
credential forms of earlier corpora.  Each carrier goes through the engine, a stdlib
``%s`` argument, a structlog event field, an exception message (logged with
``logger.exception``), span attributes (a neutral key, URL and header attributes,
messaging routing keys and ids); no secret may reach any output.  The harmless values
(ids, trace ids, times, versions, status codes, ports, durations, the harmless
parameters of signed URLs) must come through every channel unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import secrets
import uuid
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro import get_logger
from otel_distro.exporters.redacting import RedactingSpanExporter
from otel_distro.redaction import Redactor
from tests.support.logs import Logs

from ._plant import alnum, b64, digits, hexs, lower_alnum, urlsafe

_RANDOM = random.SystemRandom()
Carrier = tuple[str, str, str]  # (shape, text, the secret in it)


def _code_phrase(code: str) -> tuple[str, str]:
    """A sentence announcing ``code`` (6 digits) and the code as it is written there."""
    grouped, pin = f"{code[:3]} {code[3:]}", code[:4]
    text, shown = _RANDOM.choice(
        [
            (f"your code is {code}", code),
            (f"Your verification code: {grouped}", grouped),
            (f"OTP {code}", code),
            (f"one-time passcode is {code}. It expires in 10 minutes.", code),
            (f"{code} is your Acme login code", code),
            (f"Use {code} to verify your account", code),
            (f"sms code={code} sent to user 42", code),
            (f"PIN: {pin}", pin),
        ]
    )
    return text, shown


def _leaked(secret: str, value: str) -> bool:
    """Whether ``secret`` shows in ``value`` (a digit code only as a number of its own, not
    inside a timestamp's digits)."""
    if secret.replace(" ", "").isdigit():
        return re.search(rf"(?<![0-9]){re.escape(secret)}(?![0-9])", value) is not None
    return secret in value


def secret_carriers() -> list[Carrier]:
    """One carrier per shape, each with fresh random secrets."""
    sig, amz, goog, cf = urlsafe(32), hexs(64), hexs(64), alnum(40)
    amz_token, amz_cred = b64(48).rstrip("="), "AKIA" + alnum(16).upper()
    cas, st_token, hmac, one = "ST-" + digits(5) + "-" + alnum(20), alnum(22), hexs(40), alnum(18)
    policy, pair = b64(60).rstrip("="), "K" + alnum(13).upper()
    generic = alnum(32)
    code, pin = digits(6), digits(4)
    routing, nats, conv, corr, msg = alnum(22), urlsafe(18), alnum(24), lower_alnum(20), alnum(20)
    cache = urlsafe(20)
    password, bearer, api = alnum(14) + "!", urlsafe(32), alnum(32)
    carriers = [
        ("azure_sas", "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o"
         f"&sp=r&se=2031-05-01T10%3A00%3A00Z&st=2024-04-01T02%3A00%3A00Z&spr=https&sig={sig}",
         sig),
        ("aws_signature", "https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
         f"&X-Amz-Date=20240501T000000Z&X-Amz-Expires=3600&X-Amz-Signature={amz}", amz),
        ("aws_token", f"GET /k.png?X-Amz-Security-Token={amz_token}&X-Amz-SignedHeaders=host",
         amz_token),
        ("aws_credential", f"https://b.s3.amazonaws.com/k?X-Amz-Credential={amz_cred}%2F20240501"
         "%2Fus-east-1%2Fs3%2Faws4_request", amz_cred),
        ("gcs_signature", "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256"
         f"&X-Goog-Expires=900&X-Goog-Signature={goog}", goog),
        ("cloudfront_signature", f"https://d1.cloudfront.net/a.jpg?Expires=1914550400&Signature={cf}"
         f"&Key-Pair-Id={pair}", cf),
        ("cloudfront_key_pair", f"https://d1.cloudfront.net/a.jpg?Key-Pair-Id={pair}&Signature={cf}",
         pair),
        ("cloudfront_policy", f"https://d1.cloudfront.net/a.jpg?Policy={policy}&Signature={cf}",
         policy),
        ("cas_ticket", f"redirect to /app?st={cas}", cas),
        ("st_token", f"https://app.example.org/cb?st={st_token}&lang=en", st_token),
        ("hmac", f"webhook /hooks/in?ts=1714550400&hmac={hmac}", hmac),
        ("one_letter", f"Location: /download?t={one}", one),
        ("fragment_sig", f"https://cdn.example.org/f.zip#sig={sig}", sig),
        ("generic_token_param", f"https://api.example.org/v1/x?user=42&auth={generic}", generic),
        ("strong_value", f"https://api.example.org/v1/x?ref={generic}", generic),
        ("pin_prose", f"Your PIN is {pin}", pin),
        ("routing_key", f"published user.reset.{routing}.sent", routing),
        ("routing_key_pair", f"routing_key=password.reset.{routing}", routing),
        ("nats_subject", f"subject auth.token.{nats}", nats),
        ("conversation_id", f"conversation id reset:{conv}", conv),
        ("correlation_id", f"correlation_id=invite:{corr}", corr),
        ("message_id", f"message id verify:{msg}", msg),
        ("cache_key", f"cache miss for session:{cache}", cache),
        ("password_pair", f"login failed password={password}", password),
        ("bearer", f"Authorization: Bearer {bearer}", bearer),
        ("json_api_key", json.dumps({"api_key": api, "user": "ann"}), api),
    ]  # fmt: skip
    phrase, shown = _code_phrase(code)
    carriers.append(("otp_prose", phrase, shown))
    return carriers + red_team_carriers()


def red_team_carriers() -> list[Carrier]:
    """Shapes a red-team corpus found leaking: a raw ``#``/``?`` in a URL password, HTML
    and multipart form fields, a ``sessions`` path, a quoted token in prose, a path as a
    ``key=`` value, prefixed tokens, JSON text escaped twice (a repr in frame locals),
    name/value pairs, ``<add key value>``, ``.netrc``, ``mysql -p<pw>``, ``bindpw``,
    ``auth=(user, password)``, password hashes, Square and Twitter tokens."""
    raw_hash, raw_query = f"{alnum(6)}#{alnum(6)}", f"{alnum(6)}?{alnum(6)}"
    csrf, meta, part, session = alnum(64), urlsafe(32), alnum(12) + "%*", hexs(40)
    quoted, invite, tok, live, reset, refresh = (
        alnum(32), hexs(32), alnum(28), alnum(28), alnum(32), alnum(32)
    )  # fmt: skip
    twice = repr(json.dumps({"payload": json.dumps({"auth": {"refresh_token": refresh}})}))
    env_value, tag_value, netrc, glued, bind, pair = (
        alnum(24), alnum(30), alnum(10), alnum(12), alnum(20), alnum(30)
    )  # fmt: skip
    bcrypt, quoted_arg = "$2b$12$" + alnum(53), alnum(30)
    square, twitter = "EAAA" + alnum(60), "A" * 22 + alnum(30) + "%3D" + alnum(50)
    named = json.dumps({"env": [{"name": "DB_PASSWORD", "value": env_value}]})
    return [
        ("url_password_hash", f"connecting to mysql+pymysql://app:{raw_hash}@db.internal:3306/m",
         raw_hash),
        ("url_password_query", f"amqp://app:{raw_query}@rabbit:5672/ refused", raw_query),
        ("html_csrf", f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">', csrf),
        ("meta_csrf", f'<meta name="csrf-token" content="{meta}">', meta),
        ("multipart_password", '--b\r\nContent-Disposition: form-data; name="password"\r\n'
         f"\r\n{part}\r\n--b--", part),
        ("sessions_path", f"GET /api/sessions/{session} 404", session),
        ("quoted_token", f"ValueError: invalid token '{quoted}'", quoted),
        ("invite_value", f"key=invite/{invite}", invite),
        ("prefixed_tok", f"token issued tok_{tok}", tok),
        ("prefixed_live", f"api key created: live_{live}", live),
        ("prefixed_reset", f"sent pwreset-{reset} to the user", reset),
        ("json_escaped_twice", f"text = {twice}", refresh),
        ("name_value_pair", named, env_value),
        ("config_add_tag", f'<add key="ApiKey" value="{tag_value}" />', tag_value),
        ("netrc", f"machine api.example.com login bob password {netrc}", netrc),
        ("mysql_glued", f"running mysql -uroot -p{glued} -h db", glued),
        ("bindpw", f"ldap bind dn=cn=admin bindpw={bind}", bind),
        ("auth_tuple", f"auth=('bob', '{pair}')", pair),
        ("bcrypt", f"htpasswd entry bob:{bcrypt}", bcrypt),
        ("square_token", f"square client with {square}", square),
        ("twitter_bearer", f"twitter {twitter}", twitter),
        ("quoted_argument", f"AuthError('bad credentials', '{quoted_arg}')", quoted_arg),
        ("frame_local", f'"locals": {{"ordinary": "\'{quoted_arg}\'"}}', quoted_arg),
    ]  # fmt: skip


def harmless_values() -> list[tuple[str, str]]:
    """Values that are not secrets: they must come through unchanged."""
    order, trace, span = str(uuid.uuid4()), secrets.token_hex(16), secrets.token_hex(8)
    ulid = "01" + "".join(_RANDOM.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(24))
    return [
        ("uuid_path", f"GET /orders/{order} 200"),
        ("uuid_field", f"order_id={order} shipped"),
        ("uuid_query", f"/api/files?id={order}&page=2&per_page=50"),
        ("trace_ids", f"trace_id={trace} span_id={span}"),
        ("traceparent", f"traceparent: 00-{trace}-{span}-01"),
        ("iso_time", "at 2024-05-01T10:00:00.123Z (2024-05-01 10:00:00+02:00)"),
        ("epoch", "ts=1714550400 expires_at=1714554000"),
        ("versions", "version 1.2.3, build 4.2.1.0, v2.10.0-rc.1, Chrome/124.0.0.0"),
        ("status", "HTTP 503 status=404 status_code: 200"),
        ("ports", "listening on 0.0.0.0:8080 port=5432"),
        ("durations", "took 12.5ms duration=1.25s elapsed 350ms timeout=30s"),
        ("sas_harmless", "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o"
         "&sp=rwdl&se=2031-05-01T10%3A00%3A00Z&st=2024-04-01T02%3A00%3A00Z&spr=https"),
        ("aws_harmless", "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240501T000000Z"
         "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"),
        ("cloudfront_expires", "https://d1.cloudfront.net/a.jpg?Expires=1914550400"),
        ("error_codes", "error code 500123, exit code 137, zip code 94107, code: 404"),
        ("retries", "retry 3 of 5 attempt=2 user_id=42 page 7"),
        ("hosts", "host api.example.com module otel_distro.logging._scrub"),
        ("digest", f"image sha256:{secrets.token_hex(32)}"),
        ("ulid", f"event {ulid} stored"),
        ("routing_plain", "routing key orders.eu.created.v1"),
        ("correlation_plain", f"correlation_id=order:{order}"),
        ("query_words", "?policy=strict&t=1714550400&s=20&lang=en&sort=created_at"),
        ("order_codes", "order code 123456 shipped, invoice code 482913"),
        ("image_refs", "pull ghcr.io/acme/api:1.2.3 registry.example.com/app:sha-9f8e7d6"),
        ("topics", "kafka topic orders.v1.created partition 3 offset 482913"),
        ("task_ids", f"task app.tasks.send_reset_email[{order}] succeeded in 0.25s"),
        ("scheme_word", "token.type: bearer auth.method=oidc"),
        ("commit", f"commit {secrets.token_hex(20)} deployed, ETag: \"{secrets.token_hex(16)}\""),
        ("user_agents", "python-httpx/0.27.0 aio-pika/9.4.1 aiormq/6.8.0 (KHTML, like Gecko)"),
        ("token_response", "token_type=Bearer expires_in=3600 scope=read"),
        ("form_plain", '<input type="text" name="comment" value="x"> form-data; name="note"'),
        ("object_ids", "customer cus_NffrFeUfNV2Hib charge ch_3MmlLrLkdIwHu7ix"),
        ("port_query", "https://api.example.org:8443?ref=a@b"),
        ("sessions_route", "GET /api/sessions/{session_id}/refresh"),
    ]  # fmt: skip


# --- channels --------------------------------------------------------------------

Channel = Callable[[str], list[str]]


@pytest.fixture
def spans() -> Iterator[Callable[[dict[str, str], str], list[str]]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("corpus")

    def emit(attributes: dict[str, str], name: str) -> list[str]:
        memory.clear()
        with tracer.start_as_current_span(name, attributes=attributes):
            pass
        (span,) = memory.get_finished_spans()
        return [span.name, *(str(v) for v in (span.attributes or {}).values())]

    yield emit
    provider.shutdown()


def _span_values(text: str) -> dict[str, str]:
    return {
        "app.detail": text,
        "http.request.header.referer": text,
        "messaging.rabbitmq.destination.routing_key": text,
        "messaging.message.conversation_id": text,
        "messaging.message.id": text,
    }


@pytest.mark.usefixtures("clean_logging_state")
def test_planted_secrets_never_leak(log_setup: Logs, spans: Callable[..., list[str]]) -> None:
    """No planted secret reaches the engine's output, the exported records, the distro's
    stdout, a host handler's stream or a span, in any channel."""
    stream = io.StringIO()
    host = logging.StreamHandler(stream)
    host.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("corpus.app")
    logger.addHandler(host)
    structured = get_logger("corpus.struct")
    redactor = Redactor()
    leaks: list[str] = []
    try:
        for shape, text, secret in secret_carriers():
            assert secret in text, shape
            outputs = {
                "engine": [redactor.redact_text(text)],
                "url": [redactor.redact_url(text)] if text.startswith("http") else [],
                "span": spans(_span_values(text), text[:60]),
            }
            logger.info("event %s", text)
            structured.info("event", detail=text)
            try:
                raise RuntimeError(f"failed: {text}")
            except RuntimeError:
                logger.exception("failed")
            records = log_setup.records()
            outputs["records"] = [
                json.dumps([str(r.log_record.body), dict(r.log_record.attributes or {})])
                for r in records
            ]
            outputs["stdout"] = log_setup.lines()
            outputs["host"] = [stream.getvalue()]
            for channel, values in outputs.items():
                if any(_leaked(secret, value) for value in values):
                    leaks.append(f"{shape} via {channel}")
            log_setup.exporter.clear()
            stream.seek(0)
            stream.truncate()
    finally:
        logger.removeHandler(host)
    assert leaks == []


@pytest.mark.usefixtures("clean_logging_state")
def test_harmless_values_are_never_masked(log_setup: Logs, spans: Callable[..., list[str]]) -> None:
    """Ids, trace ids, times, versions, status codes, ports, durations and the harmless
    parameters of signed URLs come through every channel exactly as written."""
    structured = get_logger("corpus.struct")
    logger = logging.getLogger("corpus.app")
    redactor = Redactor()
    with_pii = Redactor(pii=True)
    masked: list[str] = []
    for shape, text in harmless_values():
        checks = {
            "engine": redactor.redact_text(text) == text,
            "engine_pii": shape in ("ports", "traceparent") or with_pii.redact_text(text) == text,
            "mapping": redactor.redact_mapping({"detail": text}) == {"detail": text},
            "span": all(value == text for value in spans(_span_values(text), "op")[1:]),
        }
        logger.info("%s", text)
        structured.info("event", detail=text)
        bodies = [r.log_record.body for r in log_setup.records()]
        details = [dict(r.log_record.attributes or {}).get("detail") for r in log_setup.records()]
        checks["stdlib"] = text in bodies
        checks["structlog"] = text in details
        log_setup.exporter.clear()
        masked.extend(f"{shape} via {channel}" for channel, ok in checks.items() if not ok)
    assert masked == []
