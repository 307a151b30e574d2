"""Red-team regressions, URLs: query strings, fragments and path segments that once leaked."""

from __future__ import annotations

import pytest

from otel_distro.redaction import Redactor
from tests.support.redaction import SECRET, as_text

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- query strings --------------------------------------------------------------

QUERIES = [
    f"pass%77ord={SECRET}",
    f"%70assword={SECRET}",
    f"token[]={SECRET}",
    f"token%5B%5D={SECRET}",
    f"user%5Bpassword%5D={SECRET}",
    f"a=1;password={SECRET}",
    f"PASSWORD={SECRET}",
    f"api_key=x&api_key={SECRET}",
    f"redirect=https%3A%2F%2Fidp.example%2Fcb%3Fstate%3D1%26access_token%3D{SECRET}",
    f"next=%2Flogin%3Fpassword%3D{SECRET}",
    f"next=https%3A%2F%2Fsvc%3A{SECRET}%40db.example%2F",
    f"r=https%253A%252F%252Fx%252Fcb%253Ftoken%253D{SECRET}",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("key", ["url.query", "http.target", "url.full", "http.url"])
def test_query_shapes_are_redacted_under_every_url_attribute(
    redactor: Redactor, query: str, key: str
) -> None:
    """Encoded keys, array keys, ``;``, repeats and URLs encoded inside values."""
    value = {"url.query": query, "http.target": f"/p?{query}"}.get(key, f"https://h/p?{query}")
    assert SECRET not in redactor.redact_value(value, key)
    target = f"/p?{query}" if key == "url.query" else value
    assert SECRET not in redactor.redact_text(f"GET {target} HTTP/1.1")


def test_fragment_parameters_and_relative_urls_in_text(redactor: Redactor) -> None:
    """A relative target in free text (an access-log line) is read as a query."""
    text = f"GET /cb?state=1&token[]={SECRET}#access_token={SECRET} 200"
    assert SECRET not in redactor.redact_text(text)
    assert SECRET not in redactor.redact_url(f"/cb#id_token={SECRET}&x=1")


def test_benign_queries_are_unchanged(redactor: Redactor) -> None:
    """Ordinary and encoded-but-clean parameters keep every byte."""
    for url in (
        "/search?q=author%3Djane&page=2&token_count=12",
        "https://h/p?next=%2Fcb%3Fa%3D1%26b%3D2&sort=name",
        "/p?what? yes=1",
    ):
        assert redactor.redact_value(url, "http.target") == url
        assert redactor.redact_text(f"GET {url}") == f"GET {url}"


def test_nested_url_keeps_its_encoding_and_other_parameters(redactor: Redactor) -> None:
    url = "https://h/p?redirect=https%3A%2F%2Fx%2Fcb%3Ftoken%3Dabc%26view%3Dfull&page=2"
    assert redactor.redact_url(url) == (
        "https://h/p?redirect=https%3A%2F%2Fx%2Fcb%3Ftoken%3DREDACTED%26view%3Dfull&page=2"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/reset-password/{}",
        "/api/v1/password_reset/{}/confirm",
        "/invite/token/{}",
        "/api-keys/{}/rotate",
    ],
)
def test_generated_path_segment_after_a_sensitive_one(redactor: Redactor, path: str) -> None:
    """Reset links and similar: the secret is a path segment named by the one before it."""
    token = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"
    target = path.format(token)
    for key in ("url.path", "http.target", "app.note"):
        assert token not in as_text(redactor.redact_value(target, key))
    assert token not in redactor.redact_text(f"GET https://app.example{target}?x=1 200")


def test_ordinary_paths_are_kept(redactor: Redactor) -> None:
    """Route words after a sensitive segment, and ids under ordinary segments, stay."""
    for path in (
        "/auth/login",
        "/api/tokens/list",
        "/password/reset",
        "/users/3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b",
        "/sites/site-42/status",
    ):
        assert redactor.redact_value(path, "url.path") == path
