"""otel-distro's own variables, registered so ``opentelemetry-instrument --help`` lists them.

The ``opentelemetry_environment_variables`` entry point turns each ``OTEL_*``
constant here into a command-line flag (``--distro_jwt_secret`` sets
``OTEL_DISTRO_JWT_SECRET``).  The list is derived from the settings table.
"""

from otel_distro.config import VARIABLES as _VARIABLES

for _variable in _VARIABLES:
    if _variable.name.startswith("OTEL_"):
        globals()[_variable.name] = _variable.name

__all__ = [_v.name for _v in _VARIABLES if _v.name.startswith("OTEL_")]
