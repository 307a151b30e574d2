"""The table of every variable the distro reads, assembled from one module per concern.

Each ``_vars_*`` module holds the rows of one concern; their order here is the order of the
README's table (``variables_markdown``).
"""

from __future__ import annotations

from otel_distro.config._variable import Variable
from otel_distro.config._vars_app import APP
from otel_distro.config._vars_auth import AUTH
from otel_distro.config._vars_logs import LOGS
from otel_distro.config._vars_request import REQUEST
from otel_distro.config._vars_runtime import RUNTIME
from otel_distro.config._vars_security import SECURITY

__all__ = ["VARIABLES", "Variable"]

VARIABLES: tuple[Variable[object], ...] = (*APP, *REQUEST, *AUTH, *SECURITY, *LOGS, *RUNTIME)
