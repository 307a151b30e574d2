"""The start-up hint for a service without a name."""

from __future__ import annotations

from otel_distro.config._service_name import service_name_hint


def test_no_name_anywhere_gives_one_line_naming_the_variable() -> None:
    """Neither variable set: a single line that names OTEL_SERVICE_NAME."""
    hint = service_name_hint({})
    assert hint is not None and "OTEL_SERVICE_NAME" in hint and "\n" not in hint


def test_otel_service_name_silences_it() -> None:
    """OTEL_SERVICE_NAME set: no hint."""
    assert service_name_hint({"OTEL_SERVICE_NAME": "billing"}) is None


def test_service_name_in_resource_attributes_silences_it() -> None:
    """service.name among OTEL_RESOURCE_ATTRIBUTES: no hint."""
    env = {"OTEL_RESOURCE_ATTRIBUTES": "team=core, service.name = billing"}
    assert service_name_hint(env) is None


def test_blank_values_still_give_the_hint() -> None:
    """An empty OTEL_SERVICE_NAME or service.name= names nothing."""
    env = {"OTEL_SERVICE_NAME": " ", "OTEL_RESOURCE_ATTRIBUTES": "service.name=,team=core"}
    assert service_name_hint(env) is not None
