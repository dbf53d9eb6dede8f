"""`simkit run`, `simkit check` and `simkit validate`: simulate scenarios and check their targets."""

from __future__ import annotations

import argparse
from typing import Any

from simkit.api import simulate
from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_duration,
    add_no_limits,
    add_no_progress,
    add_out,
    add_scenario,
    add_scenarios,
    add_seed,
    add_set,
    parse_set,
    progress,
)
from simkit.outputs import check_destination
from simkit.scenario import preflight
from simkit.scenario.loader import load_scenario_file


def _simulation_options(p: argparse.ArgumentParser) -> None:
    """The options of every command that simulates: seed, duration, overrides, progress, mode."""
    add_seed(p)
    add_duration(p)
    add_set(p)
    add_no_progress(p)
    add_no_limits(p)
    p.add_argument(
        "--mode",
        choices=["fast", "request"],
        default="fast",
        help="fast (default): per-tick queueing; request: replay every request (slow, for validation)",
    )


def add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="simulate one scenario and check its targets")
    add_scenario(run)
    _simulation_options(run)
    add_out(run, "write the tables (CSV) and summary.md into this directory")
    run.set_defaults(handler=cmd_run)


def add_check(sub: Any) -> None:
    check = sub.add_parser("check", help="simulate several scenarios; exit 1 if any misses a target")
    add_scenarios(check)
    _simulation_options(check)
    check.set_defaults(handler=cmd_check)


def add_validate(sub: Any) -> None:
    validate = sub.add_parser("validate", help="validate scenario files without simulating")
    add_scenarios(validate)
    add_no_limits(validate)
    validate.set_defaults(handler=cmd_validate)


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate, print the summary and one `MISSED:` line per missed target; write the tables if asked."""
    loaded = load_scenario_file(args.scenario, parse_set(args.set), args.allow_dir)
    if args.out:  # before the simulation: a bad --out costs nothing
        check_destination(args.out, args.force)
    result = simulate(loaded, args.seed, args.duration, progress(args), args.mode, not args.no_limits)
    print(result.summary_table())
    for line in result.failures:
        print(f"MISSED: {line}")
    if args.out:
        path = result.write(args.out, args.force)
        print(f"wrote {path}")
    return ExitCode.OK if result.passed else ExitCode.MISSED


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every scenario first, then simulate each: one PASS/FAIL line each; 1 if any missed."""
    overrides = parse_set(args.set)
    loaded = [load_scenario_file(p, overrides, args.allow_dir) for p in args.scenarios]  # all valid first
    worst = ExitCode.OK
    for path, sc in zip(args.scenarios, loaded, strict=True):
        result = simulate(sc, args.seed, args.duration, progress(args), args.mode, not args.no_limits)
        verdict = "PASS" if result.passed else "FAIL"
        print(
            f"{verdict} {path}: {result.summary.get('availability', 1) * 100:.4f}% available, "
            f"${result.summary.get('cost_usd_month', 0):,.0f}/month"
        )
        for line in result.failures:
            print(f"  MISSED: {line}")
        if not result.passed:
            worst = ExitCode.MISSED
    return worst


def cmd_validate(args: argparse.Namespace) -> int:
    """Parse and validate each file; one `ok` line each (the first bad one is a one-line error)."""
    for path in args.scenarios:
        loaded = load_scenario_file(path, allow_dirs=args.allow_dir)
        preflight.check(loaded.scenario, limits=not args.no_limits)
        print(f"ok {path}: {loaded.scenario.name} (hash {loaded.sha256})")
    return ExitCode.OK
