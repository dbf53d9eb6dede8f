"""`simkit run`, `simkit check` and `simkit validate`: simulate scenarios and check their targets."""

from __future__ import annotations

import argparse
from typing import Any

from simkit import tablefiles
from simkit.analysis.schedulable import validation_warnings
from simkit.api import simulate
from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_ci_outputs,
    add_duration,
    add_no_limits,
    add_no_progress,
    add_out,
    add_replications,
    add_scenario,
    add_scenarios,
    add_seed,
    add_set,
    ci_outputs,
    duration,
    finish,
    parse_set,
    progress,
)
from simkit.cli.seeds import is_batch, run_batch
from simkit.errors import SimkitError
from simkit.export.import_reminder import import_reminder
from simkit.outputs import check_destination
from simkit.report.ci import from_result
from simkit.results import RunResult
from simkit.scenario import preflight
from simkit.scenario.loader import load_scenario_file
from simkit.units import format_time


def _simulation_options(p: argparse.ArgumentParser) -> None:
    """The options of every command that simulates: seed, duration, overrides, progress, mode."""
    add_seed(p)
    add_duration(p)
    add_set(p)
    add_no_progress(p)
    add_replications(p)
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
    add_out(run, "write the tables (Parquet; --format csv), summary.csv and summary.md into this directory")
    _table_options(run)
    add_ci_outputs(run)
    run.set_defaults(handler=cmd_run)


def _table_options(p: argparse.ArgumentParser) -> None:
    """What `--out` writes: the format, which tables, and the resolution of the per-tick tables."""
    p.add_argument(
        "--format", choices=tablefiles.FORMATS, default="parquet", help="table files (default: parquet)"
    )
    p.add_argument(
        "--tables",
        metavar="NAMES",
        help=f"only these tables, comma-separated (always with {','.join(tablefiles.ALWAYS)})",
    )
    p.add_argument(
        "--resolution",
        type=duration,
        metavar="DURATION",
        help="downsample the per-tick tables (services, routes, queues) to this step, e.g. 5m",
    )


def add_check(sub: Any) -> None:
    check = sub.add_parser("check", help="simulate several scenarios; exit 1 if any misses a target")
    add_scenarios(check)
    _simulation_options(check)
    add_ci_outputs(check)
    check.set_defaults(handler=cmd_check)


def add_validate(sub: Any) -> None:
    validate = sub.add_parser("validate", help="validate scenario files without simulating")
    add_scenarios(validate)
    add_no_limits(validate)
    validate.set_defaults(handler=cmd_validate)


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate, print the summary and one `MISSED:` line per missed target; write the tables if asked."""
    loaded = load_scenario_file(args.scenario, parse_set(args.set), args.allow_dir)
    ci_outputs(args)  # their destinations are checked before anything is simulated
    if not args.out and (args.tables or args.resolution or args.format != "parquet"):
        raise SimkitError("--format, --tables and --resolution say what --out writes: give --out too")
    if is_batch(args, [loaded]):  # --seeds N or zone: each
        return run_batch(args, [(args.scenario or "", loaded)])
    if args.out:  # before the simulation: a bad --out costs nothing
        check_destination(args.out, args.force)
        tablefiles.select(args.tables)
    result = simulate(loaded, args.seed, args.duration, progress(args), args.mode, not args.no_limits)
    print(result.summary_table())
    reminder = import_reminder(args.scenario)  # an imported scenario: the guesses still in effect
    if reminder:
        print(reminder)
    block = plan_block(result)
    if block:
        print("\n".join(["", *block]))
    for line, cause in result.missed:
        print(f"MISSED: {line}")
        if cause:
            print(f"  cause: {cause}")
    if args.out:
        path = result.write(
            args.out, args.force, format=args.format, tables=args.tables, resolution=args.resolution
        )
        print(f"wrote {path}")
    return finish(args, [from_result(args.scenario or "", result)])


def plan_block(result: RunResult) -> list[str]:
    """One block per deployment plan: window, outcome, peak pods/nodes, extra cost, SLO during it."""
    lines = []
    for p in result.plans.to_dict("records"):
        lines.append(
            f"plan {p['plan']} ({p['kind']} of {p['target']}): {p['outcome']} after "
            f"{format_time(p['duration_s'])} (t={format_time(p['start_s'])} -> "
            f"{format_time(p['end_s'])})"
        )
        lines.append(
            f"  peak pods {p['peak_pods']}  min available {p['min_available']}  "
            f"peak nodes {p['peak_nodes']}  "
            f"extra {p['extra_node_hours']:.2f} node-h = ${p['extra_cost_usd_total']:.2f}"
            + (f" (its share; overlaps {p['concurrent_with']})" if p.get("concurrent_with") else "")
        )
        avail = p["availability"]
        slo = (
            f"availability {100 * avail:.3f}%  p95 {p['p95_ms']:.1f} ms"
            if avail == avail
            else "no requests or tasks in its window"
        )
        what = "tasks" if str(p.get("measured_on", "")).startswith("tasks") else "requests"
        lines.append(
            f"  during the plan ({p.get('measured_on', '')}): {what} {p['requests']:,.0f}  "
            f"errors {p['errors']:,.0f}  {slo}"
        )
        lines += _versions(p)
        if p["message"]:
            lines.append(f"  why: {p['message']}")
    return lines


def _versions(p: dict) -> list[str]:
    """Canary / blue-green plans: each version's own figures at the target (result.plans new_/old_)."""
    new_requests = p.get("new_requests", float("nan"))
    if new_requests != new_requests:  # NaN: not a progressive plan
        return []

    def one(side: str) -> str:
        p95 = p[f"{side}_p95_ms"]
        return f"requests {p[f'{side}_requests']:,.0f}  errors {p[f'{side}_errors']:,.0f}  " + (
            f"p95 {p95:.1f} ms" if p95 == p95 else "no requests"
        )

    return [f"  new version: {one('new')}", f"  old version: {one('old')}"]


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every scenario first, then simulate each: one PASS/FAIL line each; 1 if any missed."""
    overrides = parse_set(args.set)
    loaded = [load_scenario_file(p, overrides, args.allow_dir) for p in args.scenarios]  # all valid first
    ci_outputs(args)
    if is_batch(args, loaded):  # --seeds N or zone: each
        return run_batch(args, list(zip(args.scenarios, loaded, strict=True)), count=True)
    verdicts = []
    for path, sc in zip(args.scenarios, loaded, strict=True):
        result = simulate(sc, args.seed, args.duration, progress(args), args.mode, not args.no_limits)
        verdict = "PASS" if result.passed else "FAIL"
        print(
            f"{verdict} {path}: {result.summary.get('availability', 1) * 100:.4f}% available, "
            f"${result.summary.get('cost_usd_month', 0):,.0f}/month"
        )
        for line, cause in result.missed:
            print(f"  MISSED: {line}")
            if cause:
                print(f"    cause: {cause}")
        verdicts.append(from_result(path, result))
    return finish(args, verdicts, count=True)


def cmd_validate(args: argparse.Namespace) -> int:
    """Parse and validate each file; one `ok` line each (the first bad one is a one-line error),
    then one `warning:` line per workload no pool can run or `--nodes` range unlike its pool (exit 0)."""
    for path in args.scenarios:
        loaded = load_scenario_file(path, allow_dirs=args.allow_dir)
        preflight.check(loaded.scenario, limits=not args.no_limits)
        print(f"ok {path}: {loaded.scenario.name} (hash {loaded.sha256})")
        for line in validation_warnings(loaded.scenario):
            print(f"warning: {path}: {line}")
    return ExitCode.OK
