"""Errors a user can cause, each naming where in their input the problem is."""

from __future__ import annotations


class SimkitError(Exception):
    """Base class for errors simkit reports to users as one line (CLI exit code 2)."""


class ScenarioError(SimkitError, ValueError):
    """A scenario is invalid. Carries the YAML path (``node_pools[1].max_nodes``) and line, if known."""

    def __init__(self, message: str, path: str = "", line: int | None = None, source: str = "") -> None:
        self.message = message
        self.path = path
        self.line = line
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        line = f" (line {self.line})" if self.line else ""
        src = f"{self.source}: " if self.source else ""
        text = f"{src}{where}{self.message}{line}"
        return text.replace("\r", "\\r").replace("\n", "\\n")  # always one line, whatever the input held


class ExportError(SimkitError):
    """An export cannot be written safely (bad name, path outside the output directory, ...)."""
