"""Errors a user can cause, each naming where in their input the problem is."""

from __future__ import annotations


class SimkitError(Exception):
    """Base class for errors simkit reports to users as one line (CLI exit code 2)."""


class ScenarioError(SimkitError, ValueError):
    """A scenario is invalid. Carries the YAML path (``node_pools[1].max_nodes``) and line, if known."""

    def __init__(
        self,
        message: str,
        path: str = "",
        line: int | None = None,
        source: str = "",
        also: tuple[str, ...] = (),
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.source = source
        self.also = also  # the other errors of the same input, each "path: message (line N)"
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        line = f" (line {self.line})" if self.line else ""
        return self._one_line(f"{where}{self.message}{line}")

    def _one_line(self, text: str) -> str:
        src = f"{self.source}: " if self.source else ""
        return f"{src}{text}".replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever the input held

    def lines(self) -> list[str]:
        """Every error of the input, one line each (the first is `str(self)`): none is hidden."""
        return [str(self), *(self._one_line(a) for a in self.also)]


class ExportError(SimkitError):
    """An export cannot be written safely (bad name, path outside the output directory, ...)."""
