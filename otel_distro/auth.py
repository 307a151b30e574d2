"""Optional tenant resolution from a verified ``Authorization: Bearer`` JWT.

Verification is PyJWT's (never hand-rolled): the signature, ``exp``/``nbf``,
and, when configured, ``aud``/``iss`` and a required ``exp``
(``OTEL_DISTRO_JWT_REQUIRE_EXP``).  Only the algorithms configured are accepted,
so ``alg: none`` and algorithm-confusion tokens are rejected.  With no key
configured nothing is read from tokens.  A rejection carries a reason only, never
any part of the token; the ASGI hook turns it into a ``token_<reason>`` security
event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otel_distro.config import Settings, report

__all__ = ["TokenResult", "TokenVerifier", "build_verifier"]

MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class TokenResult:
    """Outcome of one bearer token: ids when verified, else a rejection reason."""

    tenant_id: object = None
    user_id: object = None
    rejected: str | None = None


class TokenVerifier:
    """Verifies bearer tokens with one key and maps claims to tenant/user ids."""

    def __init__(
        self,
        key: Any,
        algorithms: tuple[str, ...],
        audience: str,
        issuer: str,
        tenant_claim: str,
        user_claim: str,
        require_exp: bool = False,
    ) -> None:
        self._key = key
        self._algorithms = list(algorithms)
        self._audience = audience or None
        self._issuer = issuer or None
        self._tenant_claim = tenant_claim
        self._user_claim = user_claim
        self._require = ["exp"] if require_exp else []

    def __repr__(self) -> str:
        return f"TokenVerifier(algorithms={self._algorithms!r}, key=<redacted>)"

    def verify_header(self, authorization: str | None) -> TokenResult | None:
        """None when there is no bearer token; else the verification outcome."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return TokenResult(rejected="malformed")
        return self.verify(token)

    def verify(self, token: str) -> TokenResult:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return TokenResult(rejected="malformed")
        if str(header.get("alg", "")).lower() == "none":
            return TokenResult(rejected="alg_none")
        if header.get("alg") not in self._algorithms:
            return TokenResult(rejected="algorithm_not_allowed")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"verify_aud": self._audience is not None, "require": self._require},
            )
        except jwt.ExpiredSignatureError:
            return TokenResult(rejected="expired")
        except jwt.ImmatureSignatureError:
            return TokenResult(rejected="not_yet_valid")
        except jwt.InvalidSignatureError:
            return TokenResult(rejected="bad_signature")
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            return TokenResult(rejected="wrong_audience_or_issuer")
        except jwt.MissingRequiredClaimError as exc:
            return TokenResult(rejected="missing_exp" if exc.claim == "exp" else "missing_claim")
        except jwt.DecodeError:
            return TokenResult(rejected="malformed")
        except jwt.PyJWTError:
            return TokenResult(rejected="invalid")
        except Exception:  # a hostile token PyJWT trips over is a bad token, not our failure
            return TokenResult(rejected="invalid")
        return TokenResult(
            tenant_id=_identifier(claims.get(self._tenant_claim)),
            user_id=_identifier(claims.get(self._user_claim)),
        )


def _identifier(claim: object) -> object:
    """A claim usable as an id: a string or an integer; objects, lists and booleans are not
    (their text would be an id nobody issued)."""
    if isinstance(claim, bool) or not isinstance(claim, (str, int)):
        return None
    return claim


MAX_KEY_FILE_BYTES = 64 * 1024


def _read_key_file(key_path: str) -> str | None:
    """The PEM text of ``OTEL_DISTRO_JWT_PUBLIC_KEY``, or None (reported once).

    Only a regular file of bounded size is read: ``/dev/zero`` or a FIFO would hang
    start-up, and a binary (DER) file must not raise into the request hook.
    """
    problem = None
    try:
        path = Path(key_path)
        if not path.is_file():
            problem = "it is not a regular file" if path.exists() else "No such file or directory"
        else:
            with path.open("rb") as handle:
                data = handle.read(MAX_KEY_FILE_BYTES + 1)
            if len(data) > MAX_KEY_FILE_BYTES:
                problem = f"it is larger than {MAX_KEY_FILE_BYTES} bytes"
            else:
                return data.decode("ascii")
    except OSError as exc:
        problem = exc.strerror or type(exc).__name__
    except UnicodeDecodeError:
        problem = "it is not text (a DER key? convert it to PEM)"
    report(
        f"OTEL_DISTRO_JWT_PUBLIC_KEY={key_path!r} cannot be read ({problem}); "
        "expected a readable PEM file; tokens will not set the tenant"
    )
    return None


def _usable_algorithms(key: Any, algorithms: tuple[str, ...], key_path: str) -> tuple[str, ...]:
    """The algorithms the key can verify; a key none can use is reported once.

    Without this check an unusable key (a file that is not a PEM public key, a PEM
    given as the HMAC secret, an RSA key with only ``ES256`` allowed) rejects every
    token silently.
    """
    import jwt

    usable: list[str] = []
    problems: list[str] = []
    for name in algorithms:
        try:
            jwt.get_algorithm_by_name(name).prepare_key(key)
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            usable.append(name)
    if not usable:
        variable = (
            f"OTEL_DISTRO_JWT_PUBLIC_KEY={key_path!r}"
            if key_path
            else "OTEL_DISTRO_JWT_SECRET=<redacted>"
        )
        expected = "a PEM public key" if key_path else "an HMAC secret (not a PEM key)"
        report(
            f"{variable} cannot be used with OTEL_DISTRO_JWT_ALGORITHMS="
            f"{','.join(algorithms)!r} ({'; '.join(problems)[:300]}); expected {expected}; "
            "tokens will not set the tenant"
        )
    return tuple(usable)


def build_verifier(settings: Settings) -> TokenVerifier | None:
    """A verifier from ``OTEL_DISTRO_JWT_*``, or None (no key, or unusable setup)."""
    secret: str = settings.jwt_secret
    key_path: str = settings.jwt_public_key
    if not secret and not key_path:
        return None
    try:
        import jwt  # noqa: F401
    except ImportError:
        report(
            "OTEL_DISTRO_JWT_* is set but PyJWT is not installed "
            "(pip install 'otel-distro[jwt]'); tokens will not set the tenant"
        )
        return None
    key: Any = secret
    if key_path:
        key = _read_key_file(key_path)
        if key is None:
            return None
    algorithms = settings.effective_jwt_algorithms
    if key_path and any(alg.upper().startswith("HS") for alg in algorithms):
        report(
            f"OTEL_DISTRO_JWT_ALGORITHMS={','.join(algorithms)!r} mixes HMAC with a public key; "
            "expected asymmetric algorithms only (RS*, ES*, PS*, EdDSA); using RS256,ES256"
        )
        algorithms = ("RS256", "ES256")
    algorithms = _usable_algorithms(key, algorithms, key_path)
    if not algorithms:
        return None
    return TokenVerifier(
        key,
        algorithms,
        settings.jwt_audience,
        settings.jwt_issuer,
        settings.jwt_tenant_claim,
        settings.jwt_user_claim,
        require_exp=bool(settings.jwt_require_exp),
    )
