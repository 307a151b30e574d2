"""The public surface is exactly what the facade declares."""

from __future__ import annotations

import otel_distro


def test_all_is_exact() -> None:
    assert sorted(otel_distro.__all__) == [
        "__version__",
        "correlation_id",
        "current_tenant",
        "get_logger",
        "set_tenant",
    ]
    public = {name for name in vars(otel_distro) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(otel_distro, name)).__name__ == "module"}
    assert public - modules - {"annotations", "Any"} == set(otel_distro.__all__) - {"__version__"}


def test_get_logger_binds_initial_values() -> None:
    logger = otel_distro.get_logger("facade", component="billing")
    assert logger is not None
    assert callable(logger.info)


def test_version_matches_the_distribution() -> None:
    from importlib.metadata import version

    assert otel_distro.__version__ == version("otel-distro")
