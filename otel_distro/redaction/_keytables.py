"""The word tables behind the key rules (see :mod:`._keys` for how they are read)."""

from __future__ import annotations

# fmt: off
# stem -> rule name; a word matches if it equals the stem, the stem + "s",
# or ends with the stem (``userpassword``, ``accesstoken``, ``setcookie``).
STEMS: dict[str, str] = {
    "password": "password",
    "passwd": "password",
    "pwd": "password",
    "passphrase": "password",
    "secret": "secret",
    "token": "token",
    "credential": "credential",
    "cookie": "cookie",
    "auth": "auth",
    "authorization": "auth",
    "authorisation": "auth",
    "csrf": "csrf",
    "xsrf": "csrf",
    "jwt": "jwt",
    "ssn": "ssn",
    "apikey": "api_key",
    "apitoken": "token",
    "accesskey": "api_key",
    "secretkey": "secret",
    "privatekey": "private_key",
    "sessionid": "session",
    "sessid": "session",
}

# Words that may only match exactly (as a compound suffix they are too common).
EXACT_WORDS: dict[str, str] = {
    "pass": "password",
    "pw": "password",
    "bindpw": "password",
    "rootpw": "password",
    "passcode": "password",
    "otp": "password",
    "bearer": "auth",
    "authentication": "auth",
    "authn": "auth",
    "authz": "auth",
    "creds": "credential",
    "cred": "credential",
    "totp": "password",
    "signature": "signature",
    "cvv": "card",
    "cvv2": "card",
    "cvc": "card",
    "iban": "iban",
    "fernet": "private_key",
    "hmac": "signature",
    "saml": "auth",
    "samlresponse": "auth",
    "relaystate": "auth",
    "mfa": "password",
}

PAIRS: dict[tuple[str, str], str] = {
    ("api", "key"): "api_key",
    ("api", "keys"): "api_key",
    ("private", "key"): "private_key",
    ("access", "key"): "api_key",
    ("signing", "key"): "private_key",
    ("encryption", "key"): "private_key",
    ("master", "key"): "private_key",
    ("card", "number"): "card",
    ("credit", "card"): "card",
    ("cc", "number"): "card",
    ("social", "security"): "ssn",
    ("priv", "key"): "private_key",
    ("ssh", "key"): "private_key",
    ("hmac", "key"): "private_key",
    ("enc", "key"): "private_key",
    ("id", "rsa"): "private_key",
    ("id", "ed25519"): "private_key",
    ("license", "key"): "api_key",
    ("mfa", "code"): "password",
    ("otp", "code"): "password",
    ("pin", "code"): "password",
    ("verification", "code"): "password",
    ("reset", "code"): "password",
    ("recovery", "code"): "password",
    ("backup", "code"): "password",
    ("recovery", "codes"): "password",
    ("backup", "codes"): "password",
    ("account", "key"): "api_key",
    ("app", "key"): "api_key",
    ("application", "key"): "api_key",
    ("client", "key"): "api_key",
    ("subscription", "key"): "api_key",
    ("functions", "key"): "api_key",
    ("function", "key"): "api_key",
    ("host", "key"): "api_key",
    ("shared", "key"): "api_key",
    ("storage", "key"): "api_key",
    ("fernet", "key"): "private_key",
    ("secret", "key"): "secret",
    ("auth", "code"): "password",
    ("authorization", "code"): "password",
    ("activation", "code"): "password",
    ("confirmation", "code"): "password",
    ("security", "code"): "password",
    ("sms", "code"): "password",
    ("login", "code"): "password",
    ("access", "code"): "password",
    ("one", "time"): "password",
    ("honeycomb", "team"): "api_key",
    ("saml", "response"): "auth",
    ("relay", "state"): "auth",
    ("oauth", "verifier"): "auth",
    ("client", "assertion"): "auth",
}

# Whole keys (normalised, leading ``_``/``x_`` and header prefixes removed).
EXACT_KEYS: dict[str, str] = {
    "session": "session",
    "session_id": "session",
    "sessionid": "session",
    "sid": "session",
    "phpsessid": "session",
    "jsessionid": "session",
    "connect_sid": "session",
    "user_session": "session",
    "asp_net_sessionid": "session",
    "session_key": "session",
    "samlresponse": "auth",
    "samlrequest": "auth",
    "relaystate": "auth",
    "oauth_verifier": "auth",
    "fernet_key": "private_key",
    "dsn": "credential",
    "sentry_dsn": "credential",
}

# Query parameters whose values are credentials in a URL (OAuth, OpenID Connect,
# SAML, CAS, signed links), though the same words are harmless as attribute keys.
QUERY_ONLY_KEYS: dict[str, str] = {
    "code": "auth",
    "code_verifier": "auth",
    "samlart": "auth",
    "wresult": "auth",
    "login_ticket": "auth",
    "service_ticket": "auth",
    "state": "auth",
    "session_state": "auth",
    "ticket": "auth",
    "key": "api_key",
    "oauth_token": "auth",
    "assertion": "auth",
    "hash": "signature",
    "hmac": "signature",
    "magic": "token",
    "invite": "token",
    "reset": "token",
    "verify": "token",
    "confirm": "token",
    "key_pair_id": "api_key",  # CloudFront signed URLs (with ``Signature`` and ``Policy``)
    "googleaccessid": "api_key",  # GCS V2 signed URLs (``GoogleAccessId`` + ``Signature``)
    "x_goog_credential": "api_key",
    "x_amz_credential": "api_key",
    "sas_token": "token",
}

# Query parameters that hold a credential when their value looks generated and is not a
# time: CAS ``st`` / SAS-style short names (``st=<token>``, while Azure SAS's own ``st``
# is a start time, kept), CloudFront ``Policy`` (base64 JSON; ``policy=strict`` stays),
# one-letter token parameters (``?t=<token>``, ``?k=<key>``; ``t=1714550400`` stays).
QUERY_SHAPED_KEYS: dict[str, str] = {
    "st": "auth",
    "policy": "signature",
    "t": "token",
    "tk": "token",
    "k": "api_key",
    "s": "token",
    "sk": "api_key",
    "h": "signature",
    "auth_token": "token",
    "nonce": "auth",
}

# A word after (or ``max``/``min``/``num`` before) a sensitive word that makes the key
# describe the secret rather than hold it: ``auth_provider``, ``password_changed_at``,
# ``cookie_consent``, ``token_ttl_seconds``, ``max_password_retries``.
META_WORDS = frozenset(
    {
        "provider", "providers", "method", "methods", "type", "types", "mode", "scheme",
        "strategy", "status", "state", "url", "uri", "endpoint", "domain", "server",
        "service", "enabled", "disabled", "required", "flow", "level", "result", "success",
        "succeeded", "failed", "failure", "failures", "error", "errors", "attempt", "attempts",
        "retry", "retries", "count", "counts", "changed", "updated", "created", "at",
        "date", "time", "timestamp", "expires", "expiry", "expiration", "expired", "ttl",
        "seconds", "secs", "sec", "minutes", "mins", "hours", "days", "ms", "millis",
        "rotation", "rotated", "age", "version", "policy", "length", "strength", "consent",
        "banner", "samesite", "secure", "httponly", "path", "name", "names", "label",
        "field", "fields", "lifetime", "duration", "interval", "timeout", "rules",
        "config", "settings", "changes", "period", "format", "algorithm", "alg", "kind",
        "id", "ids", "prefix", "suffix", "scope", "scopes", "issuer", "audience", "used",
        "last", "history", "visible", "shown", "min", "max", "limit", "window",
    }
)
META_BEFORE = frozenset({"max", "min", "num", "number", "last", "is", "has", "use"})

# Qualifiers of a ``*_key`` name that say it is not a credential (a cache key, ...).
NON_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "cache", "partition", "routing", "sort", "primary", "foreign", "object", "idempotency",
        "dedup", "dedupe", "deduplication", "public", "bucket", "lookup", "group", "message",
        "translation", "i18n", "row", "hash", "range", "shard", "composite", "natural",
        "lock", "queue", "stream", "redis", "storage", "s3", "file", "entity", "record",
        "index", "map", "dict", "api_key_id", "event", "request", "trace", "span",
        "correlation", "cursor", "page", "item", "unique", "surrogate", "user", "customer",
    }
)

# Members of a JSON Web Key object that hold private or symmetric key material.
JWK_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")

# A "token" key next to one of these words counts tokens; it is not a secret.
COUNT_WORDS = frozenset(
    {
        "count",
        "counts",
        "usage",
        "used",
        "limit",
        "limits",
        "max",
        "min",
        "total",
        "input",
        "output",
        "prompt",
        "completion",
        "cached",
        "reasoning",
        "num",
        "number",
        "length",
        "len",
        "type",
        "budget",
        "estimate",
        "estimated",
        "rate",
        "size",
        "remaining",
        "index",
        "idx",
        "position",
        "offset",
        "kind",
    }
)

PII_KEYS: dict[str, str] = {
    "x_forwarded_for": "pii_ip",
    "x_real_ip": "pii_ip",
    "ip_address": "pii_ip",
    "remote_addr": "pii_ip",
    "email": "pii_email",
    "email_address": "pii_email",
    "phone": "pii_phone",
    "phone_number": "pii_phone",
}
# fmt: on
