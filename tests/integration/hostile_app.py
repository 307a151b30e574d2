"""An app that plants secrets in every way an application can: the red-team target.

Each endpoint takes the secret to plant from the ``secret`` query parameter (a key
redacted in URLs), so one launch can plant many distinct values.  Launched by
``test_redaction_hostile.py``.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Annotated, Any

import httpx
import pydantic
from fastapi import Body, FastAPI, Request, Response
from opentelemetry import trace

from otel_distro import get_logger

if os.environ.get("HOSTILE_BASIC_CONFIG"):  # an app that (re)configures logging itself
    logging.basicConfig(level=logging.INFO, force=True)

app = FastAPI(title="hostile")
log = get_logger("hostile")
std = logging.getLogger("hostile.stdlib")


class Creds:
    """An object whose repr (and str) carries a secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __repr__(self) -> str:
        return f"<Creds user='svc' password='{self.secret}'>"


class Signup(pydantic.BaseModel):
    name: str
    password: Annotated[str, pydantic.StringConstraints(max_length=4)]
    apiKey: str = pydantic.Field(min_length=64)  # the client's camelCase name
    age: int


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/stdlib")
async def stdlib(secret: str) -> dict[str, bool]:
    s = secret
    std.info("pw=%s password=%s", s, s)
    std.warning("login attempt", extra={"api_key": s, "note": f"token={s}", "clientSecret": s})
    std.info("args %s", {"refreshToken": s, "user": "u"})
    std.warning("retry with password=%s after %s", s)  # one argument short: format fails
    std.warning("token=%s", s, "surplus")  # one too many
    return {"ok": True}


@app.get("/structlog")
async def structlog_calls(secret: str) -> dict[str, bool]:
    s = secret
    log.info("connect with password=%s", s)
    log.bind(password=s, user="u").info("bound_password")
    log.info("bytes_value", payload=f"token={s}".encode(), apiKey=s.encode())
    log.info("object_value", creds=Creds(s), items=[Creds(s)])
    log.info("repr_in_event %r", Creds(s))
    return {"ok": True}


@app.get("/exceptions")
async def exceptions(secret: str) -> dict[str, bool]:
    s = secret
    try:
        raise ValueError(f"could not connect: password={s}")
    except ValueError:
        log.exception("connect_failed")
    try:
        try:
            raise KeyError({"api_key": s})
        except KeyError as inner:
            raise RuntimeError("lookup failed") from inner
    except RuntimeError:
        std.exception("chained")
    try:
        raise PermissionError("denied", {"authorization": f"Bearer {s}"}, ("x-api-key", s))
    except PermissionError as exc:
        log.error("args_exception", exc_info=exc)
    return {"ok": True}


@app.get("/validation")
async def validation(secret: str) -> dict[str, bool]:
    s = secret
    try:
        Signup.model_validate({"name": "n", "password": s, "apiKey": s, "age": "not-a-number"})
    except pydantic.ValidationError as exc:
        log.warning("validation_failed", errors=exc.errors(), text=str(exc))
        std.warning("validation failed: %s", exc)
        std.warning("errors: %s", exc.errors())
    return {"ok": True}


@app.get("/thread")
async def thread_failure(secret: str) -> dict[str, bool]:
    def work() -> None:
        raise ConnectionError(f"worker lost its connection: password={secret}")

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    return {"ok": True}


@app.get("/headers-out")
async def headers_out(secret: str, response: Response) -> dict[str, bool]:
    s = secret
    response.set_cookie("session", s)
    response.headers["x-upstream-token"] = s
    response.headers["x-debug"] = f"password={s}"
    return {"ok": True}


@app.get("/span")
async def span_plants(secret: str) -> dict[str, bool]:
    s = secret
    span = trace.get_current_span()
    span.add_event(f"retry with token={s}", {"password": s, "detail": f"api_key={s}"})
    span.set_attribute("db.statement", f"UPDATE users SET password='{s}'")
    span.set_attribute("app.argv", ["--password", s, "--token", s])
    span.set_attribute("app.header_pairs", ["x-api-key", s])
    span.update_name(f"GET /span/token={s}")
    return {"ok": True}


@app.get("/long")
async def long_values(secret: str) -> dict[str, bool]:
    limit = 65536
    token = "ghp_" + (secret * 4)[:36]
    log.info("straddle", blob="a " * ((limit - 12) // 2) + token)
    log.info("straddle_text", blob="b " * ((limit - 30) // 2) + f" password={secret}")
    return {"ok": True}


@app.post("/outbound")
async def outbound(secret: str, request: Request) -> dict[str, Any]:
    s = secret
    url = os.environ["HOSTILE_UPSTREAM_URL"]
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(
            f"{url}?client_secret={s}&pass%77ord={s}",
            json={"clientSecret": s, "nested": {"refreshToken": s}},
            headers={"x-api-key": s},
        )
        token = "ghp_" + (s * 4)[:36]  # cut by EXTERNAL_HTTP_MAX_BODY_BYTES (2048) mid-token
        await client.post(url, content=("a " * 1010 + " " + token).encode())
    return {"status": response.status_code}


@app.post("/echo")
async def echo(payload: Annotated[Any, Body()]) -> dict[str, bool]:
    log.info("echo", payload=payload)
    return {"ok": True}


@app.get("/{rest:path}")
async def anything(rest: str) -> dict[str, str]:
    log.info("anything", path=rest)
    return {"path": rest}
