"""Values that look sensitive by name or shape but are not, and one that is missed without PII."""

from __future__ import annotations

import random
import uuid

import pytest

from otel_distro.redaction import REDACTED, Redactor

from ._plant import digits

DESCRIPTIVE = {
    "auth_provider": "google",
    "oauth_provider": "github",
    "password_changed_at": "2024-05-01T10:00:00Z",
    "cookie_consent": "accepted",
    "authMethod": "oidc",
    "token_type": "Bearer",
    "secret_name": "prod/db",
    "session_expires_at": "2024-05-01T10:00:00Z",
}
COUNTERS = [
    "auth_attempts",
    "login_token_ttl_seconds",
    "session_ttl_seconds",
    "max_password_retries",
    "max_auth_retries",
    "secret_rotation_days",
    "api_key_rotation_days",
    "password_min_length",
    "failed_auth_count",
]


@pytest.mark.parametrize("key", list(DESCRIPTIVE))
def test_descriptive_keys_are_kept(plain: Redactor, key: str) -> None:
    """Keys that describe a secret (provider, timestamp, consent) keep their value."""
    assert plain.redact_mapping({key: DESCRIPTIVE[key]}) == {key: DESCRIPTIVE[key]}


@pytest.mark.parametrize("key", COUNTERS)
def test_counter_keys_are_kept(plain: Redactor, key: str) -> None:
    """Numbers under counter-like keys stay numbers, as attributes and in text."""
    number = random.randint(1, 10_000)
    assert plain.redact_mapping({key: number}) == {key: number}
    assert plain.redact_text(f"{key}={number}") == f"{key}={number}"


def test_working_directory_is_kept(plain: Redactor) -> None:
    """``PWD`` / ``OLDPWD`` holding a path are the working directory, not a password."""
    env = {"PWD": "/srv/app", "OLDPWD": "/home/app"}
    assert plain.redact_mapping(env) == env
    assert plain.redact_text("PWD=/srv/app OLDPWD=/home/app") == "PWD=/srv/app OLDPWD=/home/app"
    assert plain.redact_mapping({"pwd": "hunter2x"}) == {"pwd": REDACTED}


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/{v}.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/{v}.0.{b}.{p} Safari/537.36",
    ],
)
def test_user_agents_with_pii_on(with_pii: Redactor, agent: str) -> None:
    """Browser versions in a user agent are not IP addresses."""
    value = agent.format(
        v=random.randint(90, 140), b=random.randint(1000, 6999), p=random.randint(1, 200)
    )
    assert with_pii.redact_value(value, "user_agent.original") == value


@pytest.mark.parametrize(
    "template",
    [
        "build {a}.{b}.{c}.0",
        "version {a}.{b}.{c}.{d}",
        "v{a}.{b}.{c}.{d}",
        "release: {a}.{b}.{c}.{d}",
    ],
)
def test_build_versions_with_pii_on(with_pii: Redactor, template: str) -> None:
    """Four-part versions are not IP addresses."""
    text = template.format(
        a=random.randint(1, 9),
        b=random.randint(0, 20),
        c=random.randint(0, 20),
        d=random.randint(1, 99),
    )
    assert with_pii.redact_text(text) == text


def test_ip_addresses_still_masked_with_pii_on(with_pii: Redactor) -> None:
    """Real client addresses are still masked."""
    octets = [random.randint(11, 200), random.randint(0, 255), random.randint(0, 255)]
    ip = ".".join(map(str, [*octets, random.randint(1, 254)]))
    assert ip not in with_pii.redact_text(f"client {ip} connected")


def test_uuids_and_order_ids_with_pii_on(with_pii: Redactor) -> None:
    """UUID groups and grouped order numbers are not phone numbers."""
    numeric_uuid = uuid.UUID(int=int(digits(30)))
    values = [
        str(uuid.uuid4()),
        str(numeric_uuid),
        f"order {digits(4)}-{digits(4)}-{digits(4)}",
        f"ORD-{digits(4)}-{digits(4)}-{digits(4)}",
        f"invoice #{digits(3)}-{digits(3)}-{digits(4)}",
        f"id: {digits(3)} {digits(3)} {digits(4)}",
    ]
    for value in values:
        assert with_pii.redact_text(value) == value


def test_dotted_card_with_pii_off(plain: Redactor) -> None:
    """A Luhn-valid card number grouped with dots is masked without PII mode."""
    card = _luhn_card()
    dotted = ".".join(card[i : i + 4] for i in range(0, 16, 4))
    assert plain.redact_text(f"paid with {dotted} today") == f"paid with {REDACTED} today"


def _luhn_card() -> str:
    body = "4" + digits(14)
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)
