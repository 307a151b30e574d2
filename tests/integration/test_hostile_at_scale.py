"""Hostile headers at scale, through a real server: same status as without the distro.

Hypothesis generates thousands of requests with malformed, oversized, non-UTF-8 and
CRLF-laden ``traceparent``, ``tracestate``, ``baggage``, ``X-Request-ID``,
``Authorization``, ``X-Forwarded-For``, ``Forwarded``, cookies and paths.  Each is sent,
byte for byte, over a raw socket to the instrumented app and to the same app without
instrumentation.  The statuses must match (never a 5xx caused by instrumentation), no
exported attribute may exceed a bound, and no value may start a line of its own in the
app's output or log file (a planted marker after a newline never begins a line).
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import AppProcess, OtlpCapture, launch_app

pytestmark = pytest.mark.integration

MARKER = f"FORGED{secrets.token_hex(6)}"
LONGEST_ATTRIBUTE = 8192
BATCH = 20
EXAMPLES = 75  # 1,500 requests per app

HEADERS = [
    b"traceparent",
    b"tracestate",
    b"baggage",
    b"x-request-id",
    b"authorization",
    b"x-forwarded-for",
    b"forwarded",
    b"cookie",
]
forge = MARKER.encode()
PIECES = [
    b"%0d%0a" + forge,
    b"%0A" + forge + b": 1",
    b"\\n" + forge,
    b"\xff\xfe\x80",
    "é€😀".encode(),
    b"\x00\x07\x1b[31m",
    b"00-" + b"0" * 32 + b"-" + b"0" * 16 + b"-01",
    b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-ff-extra",
    b"tenant.id=evil;x=%0a" + forge,
    b"user.id=admin,k=" + b"v" * 300,
    b"Bearer ",
    b"Basic \xff\xff",
    b'for="[::1]:80";proto=http\r\n' + forge + b": x",
    b"1.2.3.4, , unknown, 999.999.1.1",
    b"a=b; c",
    b",,,;;;===",
]


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.sampled_from(PIECES) | st.binary(max_size=40), max_size=4))
    value = b"".join(parts)
    if draw(st.booleans()) and draw(st.booleans()):
        value += b"x" * draw(st.integers(2000, 7000))
    return value


@st.composite
def hostile_request(draw: st.DrawFn) -> bytes:
    segment = draw(st.sampled_from(PIECES) | st.binary(max_size=30))
    segment = bytes(b if 0x21 <= b < 0x7F and b not in b"?#" else ord("_") for b in segment)
    base = draw(st.sampled_from([b"/health", b"/sites/", b"/upstream/echo-headers", b"/nope/"]))
    path = base + (segment if base.endswith(b"/") else b"?q=" + segment)
    names = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    lines = [b"GET " + path + b" HTTP/1.1", b"host: 127.0.0.1"]
    for name in names:
        lines.append(name + b": " + draw(header_value()))
    lines += [b"connection: close", b"", b""]
    return b"\r\n".join(lines)


def status_of(port: int, request: bytes) -> int | None:
    """The HTTP status the server answers ``request`` with (None: closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(request)
            head = sock.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return None
    if not head.startswith(b"HTTP/1.1 "):
        return None
    return int(head[9:12])


@pytest.fixture(scope="module")
def capture() -> Iterator[OtlpCapture]:
    with OtlpCapture() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def apps(capture: OtlpCapture) -> Iterator[tuple[AppProcess, AppProcess]]:
    env = {"LOG_TO_FILE": "true", "ENVIRONMENT": "production"}
    with (
        launch_app(capture=capture, env=env) as instrumented,
        launch_app(env=env, instrument=False) as bare,
    ):
        yield instrumented, bare


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(hostile_request(), min_size=BATCH, max_size=BATCH))
def test_same_status_as_without_the_distro(
    apps: tuple[AppProcess, AppProcess], requests: list[bytes]
) -> None:
    """Every hostile request gets the status the uninstrumented app gives it."""
    instrumented, bare = apps
    for request in requests:
        expected = status_of(bare.port, request)
        got = status_of(instrumented.port, request)
        assert got == expected, request[:300]


def test_no_unbounded_attribute(apps: tuple[AppProcess, AppProcess], capture: OtlpCapture) -> None:
    """After the hostile traffic, no exported span or log attribute exceeds the bound."""
    capture.wait_for(lambda: len(capture.spans(kind="SERVER")) > 100, timeout=30.0)
    values = [v for s in capture.spans() for v in s.attributes.values()]
    values += [v for r in capture.logs() for v in r.attributes.values()]
    longest = max((len(str(value)) for value in values), default=0)
    assert longest <= LONGEST_ATTRIBUTE


def test_no_forged_line(apps: tuple[AppProcess, AppProcess]) -> None:
    """No planted newline starts a line in stdout, stderr or the log file; file lines are JSON."""
    instrumented, _bare = apps
    log_file = Path(instrumented.workdir) / "logs" / "app.log"
    outputs = {
        "stdout": instrumented.stdout_text(),
        "stderr": instrumented.stderr_text(),
        "log file": log_file.read_text(errors="replace") if log_file.exists() else "",
    }
    assert outputs["log file"], "the app wrote its log file"
    assert MARKER in outputs["log file"], "hostile values were logged (escaped)"
    for where, text in outputs.items():
        for line in text.splitlines():
            assert not line.lstrip().startswith(MARKER), f"forged line in {where}: {line[:200]}"
    for line in outputs["log file"].splitlines():
        assert isinstance(json.loads(line), dict), line[:200]
