"""`simkit sweep`: try plans over several seeds and report the cheapest that holds its targets."""

from __future__ import annotations

import argparse
from typing import Any

from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_duration,
    add_no_progress,
    add_out,
    add_scenario,
    count,
    jobs,
    parse_vary,
    progress,
)
from simkit.errors import SimkitError
from simkit.outputs import check_file_destination, write_file
from simkit.sweep import cheapest, summarize, sweep
from simkit.units import format_number


def add_sweep(sub: Any) -> None:
    p = sub.add_parser("sweep", help="try plans over several seeds; report the cheapest that holds")
    add_scenario(p)
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a field and the values to try, e.g. cluster.node_pools.0.min_nodes=3,6",
    )
    p.add_argument("--seeds", type=count, default=5, help="replications per plan (default 5)")
    add_duration(p, help="simulated time per run, e.g. 1d")
    p.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="share of replications that must meet every target (default 0.95)",
    )
    p.add_argument("--jobs", type=jobs, default=-1, help="parallel workers (default: all cores)")
    add_out(p, "write the per-run table as CSV")
    add_no_progress(p)
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every plan over the seeds, print the table, and the cheapest plan that holds (else exit 1)."""
    if args.out:  # before the runs
        check_file_destination(args.out, args.force)
    if not 0 < args.confidence <= 1:
        raise SimkitError(f"--confidence: expected a share in (0, 1], got {args.confidence}")
    grid = parse_vary(args.vary)
    runs = sweep(
        args.scenario,
        grid,
        seeds=range(args.seeds),
        duration=args.duration,
        n_jobs=args.jobs,
        progress=progress(args),
    )
    table = summarize(runs, args.confidence)
    print(table.to_string(index=False, float_format=format_number))
    if args.out:
        write_file(args.out, runs.to_csv(index=False), args.force)
    best = cheapest(table)
    if best is None:
        print(f"no plan met every target in {args.confidence:.0%} of {args.seeds} replications")
        return ExitCode.MISSED
    plan = {k: getattr(best[k], "item", lambda v=best[k]: v)() for k in grid}
    print(f"cheapest plan that holds: {plan} at ${best['cost_usd_month']:,.0f}/month")
    return ExitCode.OK
