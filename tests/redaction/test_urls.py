"""URL rules: textual rewrite of userinfo, sensitive query values and fragments."""

from __future__ import annotations

import pytest

from otel_distro.redaction import REDACTED, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_userinfo_becomes_redacted_pair(redactor: Redactor) -> None:
    """Credentials in the authority become ``REDACTED:REDACTED@``."""
    assert redactor.redact_url("https://bob:pw@example.com/x") == (
        "https://REDACTED:REDACTED@example.com/x"
    )


def test_username_only_userinfo_is_redacted(redactor: Redactor) -> None:
    """A token used as the user name is redacted too."""
    assert redactor.redact_url("https://tok@example.com") == "https://REDACTED:REDACTED@example.com"


@pytest.mark.parametrize(
    "key",
    [
        "AWSAccessKeyId",
        "Signature",
        "sig",
        "X-Goog-Signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "x-amz-signature",
    ],
)
def test_semconv_query_keys_are_redacted(redactor: Redactor, key: str) -> None:
    """The semantic-convention query keys keep the key and lose the value."""
    assert redactor.redact_url(f"https://h/p?{key}=v1&a=b") == f"https://h/p?{key}={REDACTED}&a=b"


def test_key_rule_query_values_are_redacted(redactor: Redactor) -> None:
    """Query parameters whose name matches a key rule are redacted."""
    assert redactor.redact_url("/login?user=bob&password=pw&api_key=k") == (
        f"/login?user=bob&password={REDACTED}&api_key={REDACTED}"
    )


def test_rewrite_is_textual(redactor: Redactor) -> None:
    """Encoding, valueless and repeated parameters survive byte for byte."""
    url = "https://h/p?q=a%20b+c&flag&x=1&x=2&token=t#top"
    assert redactor.redact_url(url) == f"https://h/p?q=a%20b+c&flag&x=1&x=2&token={REDACTED}#top"


def test_fragment_parameters_are_redacted(redactor: Redactor) -> None:
    """OAuth implicit-flow fragments (``#access_token=...``) are redacted."""
    assert redactor.redact_url("https://h/cb#access_token=abc&state=s") == (
        f"https://h/cb#access_token={REDACTED}&state={REDACTED}"
    )


def test_percent_encoded_key_is_matched(redactor: Redactor) -> None:
    """A percent-encoded parameter name is decoded before matching."""
    assert redactor.redact_url("/p?api%5Fkey=k") == f"/p?api%5Fkey={REDACTED}"


def test_url_inside_text_is_rewritten(redactor: Redactor) -> None:
    """URLs embedded in free text get the same rules."""
    text = "GET postgres://app:s3cret@db:5432/x failed"
    assert redactor.redact_text(text) == "GET postgres://REDACTED:REDACTED@db:5432/x failed"


def test_url_query_attribute_is_a_query(redactor: Redactor) -> None:
    """``url.query`` values are parsed as a query string."""
    assert redactor.redact_value("a=1&sig=abc", "url.query") == f"a=1&sig={REDACTED}"


def test_clean_url_is_unchanged(redactor: Redactor) -> None:
    """A URL without credentials comes back identical."""
    url = "https://example.com/items/42?page=2&size=10#reviews"
    assert redactor.redact_url(url) == url


@pytest.mark.parametrize(
    "text",
    [
        "GET /download#sig=abcdef123456 200",
        "redirected to /cb#state=1&sig=abcdef123456",
        "/a?x=1#sig=abcdef123456",
    ],
)
def test_fragment_parameters_of_relative_urls_in_text(redactor: Redactor, text: str) -> None:
    """``#sig=...`` after a relative path in free text (no scheme) is read like a query."""
    redacted = redactor.redact_text(text)
    assert "abcdef123456" not in redacted and f"sig={REDACTED}" in redacted


def test_fragments_without_parameters_are_left_alone(redactor: Redactor) -> None:
    text = "color #ff0000, see #section-2 and a=b"
    assert redactor.redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    ["//bob:hunter2x@db.example/x", "proxy at //bob:hunter2x@db.example:5432 is down"],
)
def test_scheme_relative_userinfo_in_text(redactor: Redactor, text: str) -> None:
    """``//user:pass@host`` without a scheme still loses its credentials."""
    redacted = redactor.redact_text(text)
    assert "hunter2x" not in redacted and f"//{REDACTED}:{REDACTED}@db.example" in redacted


def test_scheme_relative_url_attribute_userinfo(redactor: Redactor) -> None:
    assert redactor.redact_mapping({"url.full": "//tok3n@cdn.example/a"}) == {
        "url.full": f"//{REDACTED}:{REDACTED}@cdn.example/a"
    }


def test_double_slashes_in_paths_and_comments_are_not_userinfo(redactor: Redactor) -> None:
    for text in ["http://h//x:y@z", "a //x: y@b", "email bob@example.com // note"]:
        assert redactor.redact_text(text) == text
