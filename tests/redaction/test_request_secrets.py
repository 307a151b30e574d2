"""Per-request secrets: OAuth/SAML query values, Referer/Location headers, path tokens."""

from __future__ import annotations

import uuid

import pytest

from otel_distro.redaction import REDACTED, Redactor

from ._plant import alnum, digits, hexs, lower_alnum, urlsafe

QUERY_NAMES = ["code", "state", "SAMLResponse", "RelayState", "SAMLRequest", "session_state"]
URL_KEYS = ["http.target", "url.path", "http.url", "url.full"]


@pytest.mark.parametrize("name", QUERY_NAMES)
@pytest.mark.parametrize("key", ["url.query", "url.full", "http.target"])
def test_oauth_and_saml_query_values(plain: Redactor, name: str, key: str) -> None:
    """OAuth ``code``/``state`` and SAML parameters are replaced, other parameters kept."""
    secret = urlsafe()
    query = f"page=2&{name}={secret}&lang=en"
    value = query if key == "url.query" else f"https://idp.example/cb?{query}"
    if key == "http.target":
        value = f"/cb?{query}"
    out = plain.redact_value(value, key)
    assert secret not in out
    assert f"{name}={REDACTED}" in out and "page=2" in out and "lang=en" in out


@pytest.mark.parametrize("header", ["referer", "location", "content_location"])
def test_referer_and_location_headers(plain: Redactor, header: str) -> None:
    """Captured ``Referer``/``Location`` values lose OAuth codes, state and path tokens."""
    code, state, token = urlsafe(), alnum(20), urlsafe()
    value = (f"https://app.example/reset/{token}?code={code}&state={state}",)
    out = plain.redact_value(value, f"http.response.header.{header}")
    assert not {code, state, token} & set(str(out).replace("/", " ").replace("=", " ").split())
    assert all(s not in str(out) for s in (code, state, token))


@pytest.mark.parametrize(
    "template",
    [
        "/reset/{t}",
        "/password-reset/{t}/confirm",
        "/api/keys/{t}",
        "/api/v1/api-keys/{t}/rotate",
        "/hooks/{n}/{t}",
        "/webhooks/{n}/{t}",
        "/services/T{a}/B{b}/{t}",
        "/invite/{t}",
        "/magic-link/{t}",
        "/verify-email/{t}",
        "/tokens/{t}",
    ],
)
@pytest.mark.parametrize("key", [*URL_KEYS, None])
def test_path_segment_tokens(plain: Redactor, template: str, key: str | None) -> None:
    """A generated segment after a segment naming a secret is replaced, in URLs and text."""
    token = urlsafe(24)
    path = template.format(t=token, n=digits(12), a=alnum(9).upper(), b=alnum(9).upper())
    value = f"https://hooks.example.com{path}" if key in ("http.url", "url.full") else path
    if key is None:  # a span name or an access-log line
        value = f"POST {path} 200"
    out = plain.redact_value(value, key)
    assert token not in out
    assert REDACTED in out


def test_slack_style_webhook_all_parts(plain: Redactor) -> None:
    """In ``/services/<a>/<b>/<secret>`` every generated part is replaced."""
    a, b, secret = "T" + alnum(8).upper(), "B" + alnum(8).upper(), alnum(24)
    out = plain.redact_text(f"POST https://hooks.slack.com/services/{a}/{b}/{secret}")
    assert out == f"POST https://hooks.slack.com/services/{REDACTED}/{REDACTED}/{REDACTED}"


def test_uuid_after_sensitive_segment(plain: Redactor) -> None:
    """A UUID right after ``/reset/`` is a reset token and is replaced."""
    token = str(uuid.uuid4())
    assert plain.redact_value(f"/reset/{token}", "url.path") == f"/reset/{REDACTED}"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders/{n}",
        "/api/v1/users/{u}/orders/{n}",
        "/reset/confirm",
        "/api/keys/{short}",
        "/api/keys/{n}/rotate",
        "/hooks/stripe/events",
        "/static/app-{h8}.js",
        "/download/report-2024.pdf",
        "/repos/acme/widgets/commit/{sha}",
        "/items/{u}",
        "/docs/ResetPasswordGuide",
    ],
)
def test_ordinary_ids_are_kept(plain: Redactor, path: str) -> None:
    """Numeric ids, UUIDs and hashes outside sensitive segments, and route words, stay."""
    value = path.format(n=digits(6), u=uuid.uuid4(), short=digits(3), h8=hexs(8), sha=hexs(40))
    assert plain.redact_value(value, "url.path") == value
    assert plain.redact_text(f"GET {value} 200") == f"GET {value} 200"


def test_strongly_random_segment_anywhere(plain: Redactor) -> None:
    """A long mixed-case token segment is replaced even under an ordinary segment."""
    token = alnum(32)
    assert plain.redact_value(f"/files/{token}/view", "url.path") == f"/files/{REDACTED}/view"


def test_lowercase_token_after_sensitive_segment(plain: Redactor) -> None:
    """Lower-case letters and digits (hex-like) after ``/reset/`` are replaced."""
    token = lower_alnum(20)
    assert token not in plain.redact_value(f"/reset/{token}", "http.target")


def test_relative_path_without_leading_slash(plain: Redactor) -> None:
    """A path logged without its leading slash (``reset-password/<token>``) is read too."""
    token = urlsafe(20)
    assert plain.redact_value({"path": f"reset-password/{token}"}, "log") == {
        "path": f"reset-password/{REDACTED}"
    }
