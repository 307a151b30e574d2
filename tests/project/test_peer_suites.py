"""The peer-suite harness's expected-difference list stays well-formed and documented."""

from __future__ import annotations

from peer_suites.__main__ import SUITES, check_documented, expected_differences


def test_every_expected_difference_has_a_documented_reason() -> None:
    """Each reason in expected-differences.txt is explained in docs/peer-suites.md."""
    assert check_documented(expected_differences()) == []


def test_expected_differences_name_known_suites_and_tests() -> None:
    """Entries name one of the three suites and a pytest node id under its tests/."""
    expected = expected_differences()
    assert set(expected) == set(SUITES) == {"structlog", "starlette", "httpx"}
    for tests in expected.values():
        for test in tests:
            assert test.startswith("tests/") and "::" in test
