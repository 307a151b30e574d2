"""A million distinct client addresses keep the abuse detector within its memory bound.

Measured in a fresh interpreter (RSS from ``/proc/self/status``), so nothing else the
test session allocated counts.  The documented bound is about 20 MB for both tables at
the default settings; the limit here is generous (64 MB) to stay clear of allocator noise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.ci import require

LIMIT_BYTES = 64 * 1024 * 1024

SCRIPT = r"""
import json
from otel_distro.config import load_settings
from otel_distro.security._state import SecurityState

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmRSS")

# default thresholds and key bound; a window long enough that the abuser cannot cool down
state = SecurityState(load_settings({"OTEL_DISTRO_ABUSE_WINDOW_SECONDS": "3600"}))
for _ in range(state.hosts.threshold):
    state.hosts.record("198.51.100.66")  # an abuser, over its threshold from the start
before = rss()
for n in range(1_000_000):
    state.hosts.record(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
    state.users.record(f"user-{n}")
print(json.dumps({
    "growth": rss() - before,
    "hosts": len(state.hosts),
    "users": len(state.users),
    "max_keys": state.hosts.max_keys,
    "abuser_tracked": state.hosts.is_over("198.51.100.66"),
}))
"""


def test_a_million_distinct_keys_stay_within_the_memory_bound() -> None:
    """RSS growth stays under the limit, both tables hold at most ``max_keys``, the abuser stays."""
    require(Path("/proc/self/status").exists(), "RSS is read from /proc/self/status")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["hosts"] <= found["max_keys"] and found["users"] <= found["max_keys"]
    assert found["abuser_tracked"] is True
    assert found["growth"] < LIMIT_BYTES, found
