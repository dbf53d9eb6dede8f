"""The `simkit` command: run, check, sweep, validate, export and import scenarios.

Exit codes: 0 every target met, 1 a target missed, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from simkit.errors import ScenarioError, SimkitError
from simkit.export.cli import add_commands as add_export_commands
from simkit.units import parse_duration

EXIT_OK, EXIT_MISSED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise SimkitError(f"{self.prog}: {message}")


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SimkitError(f"--set expects KEY=VALUE (e.g. traffic.load.growth=10), got {item!r}")
        out[key] = yaml.safe_load(raw)
    return out


def _duration(text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simkit", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate one scenario and check its targets")
    run.add_argument("scenario", nargs="?", help="scenario YAML (default: the seed platform)")
    _run_options(run)
    run.add_argument("--out", help="write the tables (CSV) and summary.md into this directory")

    check = sub.add_parser("check", help="simulate several scenarios; exit 1 if any misses a target")
    check.add_argument("scenarios", nargs="+", help="scenario YAML files")
    _run_options(check)

    sweep = sub.add_parser("sweep", help="try plans over several seeds; report the cheapest that holds")
    sweep.add_argument("scenario", nargs="?", help="scenario YAML (default: the seed platform)")
    sweep.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a field and the values to try, e.g. cluster.node_pools.0.min_nodes=3,6",
    )
    sweep.add_argument("--seeds", type=int, default=5, help="replications per plan (default 5)")
    sweep.add_argument("--duration", type=_duration, help="simulated time per run, e.g. 1d")
    sweep.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="share of replications that must meet every target (default 0.95)",
    )
    sweep.add_argument("--jobs", type=int, default=-1, help="parallel workers (default: all cores)")
    sweep.add_argument("--out", help="write the per-run table as CSV")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")

    validate = sub.add_parser("validate", help="validate scenario files without simulating")
    validate.add_argument("scenarios", nargs="+", help="scenario YAML files")
    add_export_commands(sub)  # export, import (simkit/export/cli.py)
    return parser


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's simulation.seed)")
    p.add_argument(
        "--duration", type=_duration, help="simulated time, e.g. 7d, 12h (default: the scenario's)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario field, e.g. --set traffic.load.growth=10",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--mode",
        choices=["fast", "request"],
        default="fast",
        help="fast (default): per-tick queueing; request: replay every request (slow, for validation)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from simkit.api import simulate
    from simkit.scenario.loader import load_scenario_file

    loaded = load_scenario_file(args.scenario, overrides=_parse_set(args.set))
    result = simulate(
        loaded,
        seed=args.seed,
        duration=args.duration,
        progress=False if args.no_progress else None,
        mode=args.mode,
    )
    print(result.summary_table())
    for line in result.failures:
        print(f"MISSED: {line}")
    if args.out:
        path = result.write(args.out)
        print(f"wrote {path}")
    return EXIT_OK if result.passed else EXIT_MISSED


def _cmd_check(args: argparse.Namespace) -> int:
    from simkit.api import simulate
    from simkit.scenario.loader import load_scenario_file

    overrides = _parse_set(args.set)
    loaded = [load_scenario_file(p, overrides=overrides) for p in args.scenarios]  # all valid before any run
    worst = EXIT_OK
    for path, sc in zip(args.scenarios, loaded, strict=True):
        result = simulate(
            sc,
            seed=args.seed,
            duration=args.duration,
            progress=False if args.no_progress else None,
            mode=args.mode,
        )
        verdict = "PASS" if result.passed else "FAIL"
        print(
            f"{verdict} {path}: {result.summary.get('availability', 1) * 100:.4f}% available, "
            f"${result.summary.get('cost_usd_month', 0):,.0f}/month"
        )
        for line in result.failures:
            print(f"  MISSED: {line}")
        if not result.passed:
            worst = EXIT_MISSED
    return worst


def _parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key or not raw:
            raise SimkitError(
                f"--vary expects KEY=V1,V2,... (e.g. cluster.node_pools.0.min_nodes=3,6), got {item!r}"
            )
        grid[key] = [yaml.safe_load(v) for v in raw.split(",")]
    return grid


def _cmd_sweep(args: argparse.Namespace) -> int:
    from simkit.sweep import cheapest, summarize, sweep

    if not 0 < args.confidence <= 1:
        raise SimkitError(f"--confidence: expected a share in (0, 1], got {args.confidence}")
    runs = sweep(
        args.scenario,
        _parse_vary(args.vary),
        seeds=range(args.seeds),
        duration=args.duration,
        n_jobs=args.jobs,
        progress=False if args.no_progress else None,
    )
    table = summarize(runs, args.confidence)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(args.out, index=False)
    best = cheapest(table)
    if best is None:
        print(f"no plan met every target in {args.confidence:.0%} of {args.seeds} replications")
        return EXIT_MISSED
    plan = {k: getattr(best[k], "item", lambda v=best[k]: v)() for k in _parse_vary(args.vary)}
    print(f"cheapest plan that holds: {plan} at ${best['cost_usd_month']:,.0f}/month")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from simkit.scenario.loader import load_scenario_file

    for path in args.scenarios:
        loaded = load_scenario_file(path)
        print(f"ok {path}: {loaded.scenario.name} (hash {loaded.sha256})")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `simkit` console script."""
    try:
        args = build_parser().parse_args(argv)
        handler = (
            getattr(args, "handler", None)
            or {"run": _cmd_run, "check": _cmd_check, "validate": _cmd_validate, "sweep": _cmd_sweep}[
                args.command
            ]
        )
        return handler(args)
    except (ScenarioError, SimkitError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `simkit run | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
