"""`simkit sweep`: try plans over several seeds and report the cheapest that holds its targets."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from simkit.batch import check_backend
from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_backend,
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
from simkit.store import STORE_SUFFIXES, remove_store
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
    add_backend(p)
    add_out(
        p,
        "the per-run table: FILE.sqlite (or .db) is a results store written as each run finishes; "
        "another name is a CSV written at the end. Either way a killed sweep re-run with the same "
        "--out resumes where it stopped",
    )
    add_no_progress(p)
    p.set_defaults(handler=cmd_sweep)


def store_path(out: Path) -> Path:
    """Where the sweep keeps its runs while it works: `--out` itself if it is an SQLite file, else a
    hidden file beside the CSV (removed once the CSV is written)."""
    return out if out.suffix in STORE_SUFFIXES else out.parent / f".{out.name}.simkit-runs.sqlite"


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every plan over the seeds, print the table, and the cheapest plan that holds (else exit 1)."""
    out = Path(os.path.abspath(args.out)) if args.out else None
    if out is not None and out.suffix not in STORE_SUFFIXES:  # before the runs
        check_file_destination(out, args.force)
    if not 0 < args.confidence <= 1:
        raise SimkitError(f"--confidence: expected a share in (0, 1], got {args.confidence}")
    grid = parse_vary(args.vary)
    check_backend(args.backend, args.scheduler)
    runs = sweep(
        args.scenario,
        grid,
        seeds=range(args.seeds),
        duration=args.duration,
        n_jobs=args.jobs,
        progress=progress(args),
        store=None if out is None else store_path(out),
        backend=args.backend,
        scheduler=args.scheduler,
        errors="report",
        force=args.force or (out is not None and store_path(out) != out),  # the hidden one is ours
    )
    if runs.attrs["resumed"]:
        print(f"simkit: resumed: {runs.attrs['resumed']} runs were already stored for {out}", file=sys.stderr)
    failures = runs.attrs["failures"]
    for failure in failures:
        print(f"simkit: run failed: {failure}", file=sys.stderr)
    table = summarize(runs, args.confidence)
    print(table.to_string(index=False, float_format=format_number))
    if failures:
        kept = f"; the {len(runs)} others are stored in {out}: run the same command to retry" if out else ""
        print(f"simkit: {len(failures)} runs failed (listed above){kept}", file=sys.stderr)
        return ExitCode.INTERNAL
    if out is not None and store_path(out) != out:
        write_file(out, runs.to_csv(index=False), args.force)
        remove_store(store_path(out))
    best = cheapest(table)
    if best is None:
        print(f"no plan met every target in {args.confidence:.0%} of {args.seeds} replications")
        return ExitCode.MISSED
    plan = {k: getattr(best[k], "item", lambda v=best[k]: v)() for k in grid}
    print(f"cheapest plan that holds: {plan} at ${best['cost_usd_month']:,.0f}/month")
    return ExitCode.OK
