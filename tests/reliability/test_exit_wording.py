"""The demo says how the app ended in words: a stop by SIGTERM reads as a normal stop."""

from __future__ import annotations

import signal

import pytest

from examples.panel.runner import describe_exit


@pytest.mark.parametrize("code", [-signal.SIGTERM, 128 + signal.SIGTERM])
def test_sigterm_is_a_normal_stop(code: int) -> None:
    """Both spellings of death by SIGTERM (subprocess's and the shell's) read as normal."""
    assert describe_exit(code) == "ended by SIGTERM, a normal stop"


def test_sigkill_reads_as_killed() -> None:
    """A process that had to be killed is not called a normal stop."""
    assert describe_exit(-signal.SIGKILL) == "ended by SIGKILL, killed"


def test_plain_statuses() -> None:
    """Ordinary exit statuses are said as such."""
    assert describe_exit(0) == "exited normally"
    assert describe_exit(3) == "exited with status 3"
