"""The README's table of variables, generated from the variable table."""

from __future__ import annotations

from otel_distro.config._variables import VARIABLES, Variable

__all__ = ["variables_markdown"]


def _default_text(variable: Variable[object]) -> str:
    if variable.default_doc is not None:
        return variable.default_doc
    default = variable.default
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple):
        return f"`{','.join(str(item) for item in default)}`" if default else "(empty)"
    if default == "":
        return "(empty)"
    return f"`{default}`"


def variables_markdown() -> str:
    """The README's table of variables, generated from :data:`VARIABLES`."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for variable in VARIABLES:
        lines.append(f"| `{variable.name}` | {_default_text(variable)} | {variable.help} |")
    return "\n".join(lines)
