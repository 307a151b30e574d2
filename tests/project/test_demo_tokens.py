"""``python -m examples.panel.tokens USER TENANT``: the README's token without Docker."""

from __future__ import annotations

import secrets

import jwt
import pytest

from examples.panel.tokens import DEFAULT_SECRET, SECRET_ENV, main


def test_prints_a_token_the_panel_accepts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The printed token is signed with the app's secret and carries the user and tenant."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    user, tenant = f"u-{secrets.token_hex(3)}", f"t-{secrets.token_hex(3)}"
    assert main([user, tenant]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), DEFAULT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["team_id"]) == (user, tenant)


def test_wrong_arguments_print_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """Anything but two arguments is exit status 2 with a usage line."""
    assert main(["only-one"]) == 2
    assert "usage:" in capsys.readouterr().err
