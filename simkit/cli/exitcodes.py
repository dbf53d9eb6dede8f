"""The exit codes of the `simkit` command, defined once (CI reads them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `simkit` exits with."""

    OK = 0
    """Every target met (or the command did what it was asked)."""
    MISSED = 1
    """A target missed: one `MISSED:` line per target."""
    BAD_INPUT = 2
    """Bad input or usage: one line on stderr naming the file, YAML path and line; no traceback."""
    INTERNAL = 70
    """An unexpected error inside simkit (sysexits' EX_SOFTWARE): one line on stderr naming the file
    the traceback was written to. Never 1, so that CI does not read a crash as a missed target."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C), as a shell reports SIGINT."""
