"""The `simkit` command: run, check, sweep, optimize, diff, report, validate, export and import scenarios.

Exit codes (`ExitCode`): 0 every target met, 1 a target missed, 2 bad input (one line on stderr, no
traceback), 70 an internal error (one line on stderr naming the file the traceback was written to),
130 interrupted.

A command is a module here with an `add_<command>(subparsers)` that adds its parser, its options
(shared ones from `options`) and `handler=cmd_<command>`; `COMMANDS` lists them in help order and
`main` calls the handler. Errors a user can cause are `SimkitError`s, raised anywhere; `main` turns
them into one line and exit code 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from simkit.cli.diff import add_diff
from simkit.cli.exitcodes import ExitCode
from simkit.cli.export import add_export, add_import
from simkit.cli.optimize import add_optimize
from simkit.cli.options import Parser
from simkit.cli.recommend import add_recommend
from simkit.cli.report import add_report
from simkit.cli.run import add_check, add_run, add_validate
from simkit.cli.sweep import add_sweep
from simkit.errors import ScenarioError, SimkitError

COMMANDS: tuple[Callable[[Any], None], ...] = (
    add_run,
    add_check,
    add_sweep,
    add_optimize,
    add_recommend,
    add_diff,
    add_report,
    add_validate,
    add_export,
    add_import,
)
"""Each adds one subcommand (with `handler` in its namespace), in the order `simkit --help` lists them."""


def build_parser() -> Parser:
    """The `simkit` argument parser with every command of `COMMANDS`."""
    parser = Parser(prog="simkit", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `simkit` console script; returns the exit code (`ExitCode`)."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except SimkitError as exc:  # includes ScenarioError: bad input, one line per error
        for line in exc.lines() if isinstance(exc, ScenarioError) else [str(exc)]:
            print(f"error: {line}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `simkit run | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:  # a bug, or the machine (disk full, ...): not a missed target
        return internal_error(exc)


def internal_error(exc: BaseException) -> int:
    """Say in one line that simkit failed and where its traceback went; `ExitCode.INTERNAL`."""
    what = f"{type(exc).__name__}: {exc}".splitlines()[0]
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="simkit-traceback-", suffix=".txt", delete=False, encoding="utf-8"
        ) as f:
            traceback.print_exception(exc, file=f)
        where = f"traceback in {f.name}"
    except OSError:  # nowhere to write it: better a traceback on stderr than none
        traceback.print_exception(exc, file=sys.stderr)
        where = "traceback above"
    print(f"error: internal error ({what}); {where}; please report it", file=sys.stderr)
    return ExitCode.INTERNAL


__all__ = ["COMMANDS", "ExitCode", "build_parser", "internal_error", "main"]
