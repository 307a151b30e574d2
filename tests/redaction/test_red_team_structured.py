"""Structured and PII shapes of the red-team corpus (random values): name/value pairs,
argument lists of clients taking a glued ``-p`` password, bytes bodies, encoded e-mail
addresses with PII masking on; and what must stay (ordinary name/value pairs, ``-p``
ports, a redacted userinfo before a host not read as an e-mail address)."""

from __future__ import annotations

import json
import urllib.parse

from otel_distro.redaction import REDACTED, Redactor

from ._plant import alnum, lower_alnum


def test_name_value_pairs_named_like_secrets(plain: Redactor) -> None:
    """Kubernetes env lists, HAR headers and AWS tags: the value of a sensitive name."""
    env, har, tag = alnum(24), alnum(24), alnum(24)
    value = {
        "env": [{"name": "API_TOKEN", "value": env}, {"name": "REGION", "value": "eu-1"}],
        "har": [{"name": "X-Auth-Token", "value": har}],
        "Tags": [{"Key": "client_secret", "Value": tag}, {"Key": "team", "Value": "core"}],
    }
    out = plain.redact_mapping(value)
    text = json.dumps(out)
    assert env not in text and har not in text and tag not in text
    assert out["env"][1] == {"name": "REGION", "value": "eu-1"}
    assert out["Tags"][1] == {"Key": "team", "Value": "core"}
    assert out["env"][0] == {"name": "API_TOKEN", "value": REDACTED}


def test_glued_password_in_argument_lists(plain: Redactor) -> None:
    glued = alnum(12)
    out = plain.redact_mapping({"argv": ["/usr/bin/mysql", "-uroot", f"-p{glued}", "-P3306"]})
    assert out["argv"] == ["/usr/bin/mysql", "-uroot", REDACTED, "-P3306"]
    kept = ["pytest", "-pxdist", "-q"]  # a glued -p of another program is not a password
    assert plain.redact_mapping({"argv": kept}) == {"argv": kept}


def test_bytes_bodies(plain: Redactor) -> None:
    secret = alnum(24)
    out = plain.redact_mapping(
        {"form": f"client_secret={secret}&x=1".encode(), "json": json.dumps({"t": 1}).encode()}
    )
    assert secret not in str(out)


def test_encoded_email_with_pii(with_pii: Redactor) -> None:
    email = f"{lower_alnum(8)}@example.org"
    for text in (f"GET /users/{urllib.parse.quote(email)}/profile", f"?e={email}"):
        assert "example.org" not in with_pii.redact_text(text)


def test_redacted_userinfo_keeps_its_host_with_pii(with_pii: Redactor) -> None:
    out = with_pii.redact_text(f"redis://:{alnum(6)}#{alnum(6)}@cache.internal:6379/0")
    assert out == "redis://REDACTED:REDACTED@cache.internal:6379/0"
