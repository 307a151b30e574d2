"""Environment -> one frozen :class:`Settings`, read once and validated.

Every variable the distro reads is a row of :data:`VARIABLES` (name, parser,
default, help).  The README table is checked against that table by a test.
A bad value never raises: it is reported once (naming the variable, the value
and what is allowed) and the safe default is used instead.

The ``OTEL_*`` variables the SDK reads itself are checked the same way
(``_otlp_checks``, ``_sdk_checks``): each check returns corrections, and
``_environ`` is the one module that applies them to ``os.environ``.  This
package imports only the standard library and :mod:`otel_distro._report`.
"""

from otel_distro._report import report
from otel_distro.config._markdown import variables_markdown
from otel_distro.config._parsers import Network
from otel_distro.config._settings import (
    Settings,
    get_settings,
    load_settings,
    report_problems,
    reset_settings,
)
from otel_distro.config._variables import VARIABLES, Variable

__all__ = [
    "VARIABLES",
    "Network",
    "Settings",
    "Variable",
    "get_settings",
    "load_settings",
    "report",
    "report_problems",
    "reset_settings",
    "variables_markdown",
]
