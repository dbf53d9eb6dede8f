"""`simkit diff BASE HEAD`: what changes between two plans, in cost, targets and capacity.

Each side is a `simkit run --out` directory, a scenario file (simulated here, with the same --seed,
--duration and --set for both), or a scenario at a git revision, `REV:path` (read with `git show`;
the path is relative to the current directory, and its `extends:` resolve in the working tree).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

from simkit.api import simulate
from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import add_duration, add_no_progress, add_seed, add_set, parse_set, progress
from simkit.errors import SimkitError
from simkit.report.diff import Snapshot, compare, from_dir, from_result, is_result_dir, to_markdown, to_text
from simkit.scenario.loader import LoadedScenario, load_scenario_file, parse_scenario, scenario_hash


def add_diff(sub: Any) -> None:
    p = sub.add_parser("diff", help="compare two scenarios or run directories: cost, targets, capacity")
    for side in ("base", "head"):
        p.add_argument(side, help="a `simkit run --out` directory, a scenario YAML, or REV:path (git)")
    add_seed(p)
    add_duration(p)
    add_set(p)
    add_no_progress(p)
    p.add_argument("--markdown", action="store_true", help="print Markdown for a pull-request comment")
    p.set_defaults(handler=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    """Print the diff; 0 (a diff is information, not a verdict: `simkit check` gates)."""
    overrides = parse_set(args.set)
    base, head = (_load(arg, overrides) for arg in (args.base, args.head))  # both valid before any run
    diff = compare(_snapshot(args.base, base, args), _snapshot(args.head, head, args))
    print(to_markdown(diff) if args.markdown else to_text(diff), end="")
    return ExitCode.OK


def _load(arg: str, overrides: dict[str, Any]) -> LoadedScenario | None:
    """The scenario `arg` names, or None for a run directory."""
    if is_result_dir(arg):
        return None
    if Path(arg).is_file():
        return load_scenario_file(arg, overrides=overrides)
    rev, sep, path = arg.partition(":")
    if sep and rev and path:
        return _at_revision(rev, path, overrides)
    if Path(arg).is_dir():
        raise SimkitError(f"{arg}: not a `simkit run --out` directory (no .simkit-run in it)")
    raise SimkitError(f"{arg}: no such file; expected a run directory, a scenario YAML or REV:path")


def _at_revision(rev: str, path: str, overrides: dict[str, Any]) -> LoadedScenario:
    """The scenario file `path` as it is at git revision `rev`."""
    spec = path if path.startswith(("./", "../", "/")) else f"./{path}"
    try:
        done = subprocess.run(
            ["git", "show", f"{rev}:{spec}"], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SimkitError(f"{rev}:{path}: git show failed ({exc})") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["git show failed"])[0]
        raise SimkitError(f"{rev}:{path}: {first}")
    source = Path(path).resolve()
    text, shown = done.stdout, f"{rev}:{path}"
    scenario = parse_scenario(text, source=shown, overrides=overrides, base_dir=source.parent)
    return LoadedScenario(scenario, source, scenario_hash(scenario))


def _snapshot(arg: str, loaded: LoadedScenario | None, args: argparse.Namespace) -> Snapshot:
    if loaded is None:
        return from_dir(arg)
    result = simulate(loaded, seed=args.seed, duration=args.duration, progress=progress(args))
    return from_result(arg, result)
