"""The variable table and the typed ``Settings`` fields are one list, kept in step."""

from __future__ import annotations

import dataclasses
import secrets
import typing

import pytest

from otel_distro.config import VARIABLES, Settings, Variable, load_settings

# problems and explicit describe the load, not a variable
FIELDS = {
    f.name: f for f in dataclasses.fields(Settings) if f.name not in ("problems", "explicit")
}
TYPES = typing.get_type_hints(Settings)


def test_every_variable_has_a_field_and_every_field_a_variable() -> None:
    """A row added to the table without a field (or a field without a row) fails here."""
    assert sorted(v.attr for v in VARIABLES) == sorted(FIELDS)


def test_attribute_names_are_unique() -> None:
    """No two variables fill the same field, and no variable is listed twice."""
    assert len({v.attr for v in VARIABLES}) == len(VARIABLES)
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_field_type_is_what_the_parser_returns(variable: Variable[object]) -> None:
    """The annotation of each field equals the return annotation of its variable's parser."""
    returned = typing.get_type_hints(variable.parse)["return"]
    assert TYPES[variable.attr] == returned


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_field_default_is_the_tables_default(variable: Variable[object]) -> None:
    """``Settings()`` holds the table's defaults, of the field's type."""
    assert getattr(Settings(), variable.attr) == variable.default
    origin = typing.get_origin(TYPES[variable.attr]) or TYPES[variable.attr]
    assert isinstance(variable.default, origin)


def test_settings_answers_only_its_fields() -> None:
    """An unknown name is an AttributeError, not a silent lookup."""
    with pytest.raises(AttributeError):
        load_settings({}).no_such_setting  # type: ignore[attr-defined]


def test_settings_are_frozen() -> None:
    """A field cannot be reassigned after loading."""
    settings = load_settings({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.access_log = False  # type: ignore[misc]


def test_every_secret_is_hidden_in_the_repr() -> None:
    """Each secret variable's value is masked; other values are shown."""
    hidden = [v for v in VARIABLES if v.secret]
    assert hidden
    planted = {v.name: secrets.token_urlsafe(16) for v in hidden}
    settings = load_settings({**planted, "LOG_DIR": "/var/log/shown"})
    text = repr(settings)
    assert all(value not in text for value in planted.values())
    assert "'/var/log/shown'" in text
    assert text.count("<redacted>") == len(hidden)
