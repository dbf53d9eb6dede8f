"""`simkit recommend SCENARIO --plan NAME --seeds N`: the fastest settings of one deployment plan
that keep every target in >= --require of seeds (`simkit.recommend_plan`).

It tries a small grid of the plan's own knobs (rollout: maxSurge x maxUnavailable; node-pool-upgrade:
the provider's maxUnavailable/maxSurge), each over the same seeds, prints one row per candidate
(acceptable ones first, by duration P95) and the pick. Exit 0 with a pick, 1 without one.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_duration,
    add_no_progress,
    add_scenario,
    add_seed,
    add_set,
    count,
    jobs,
    parse_set,
    probability,
    progress,
)
from simkit.plan_search import Recommendation, recommend_plan
from simkit.scenario.loader import load_scenario_file
from simkit.units import format_duration


def add_recommend(sub: Any) -> None:
    p = sub.add_parser(
        "recommend", help="search a plan's maxSurge/maxUnavailable for the fastest that keeps every target"
    )
    add_scenario(p)
    p.add_argument("--plan", required=True, metavar="NAME", help="the plan (plans[].name) to tune")
    p.add_argument("--seeds", type=count, default=20, metavar="N", help="seeds per candidate (default 20)")
    p.add_argument(
        "--require",
        type=probability,
        default=0.95,
        metavar="P",
        help="the share of seeds every target must hold in, as the Wilson 95%% lower bound (default 0.95)",
    )
    p.add_argument("--jobs", type=jobs, default=-1, help="parallel workers (default: all cores)")
    add_seed(p, help="first seed (default: the scenario's simulation.seed)")
    add_duration(p)
    add_set(p)
    add_no_progress(p)
    p.set_defaults(handler=cmd_recommend)


def cmd_recommend(args: argparse.Namespace) -> int:
    loaded = load_scenario_file(args.scenario, parse_set(args.set), args.allow_dir)
    first = loaded.scenario.simulation.seed if args.seed is None else args.seed
    rec = recommend_plan(
        loaded,
        plan=args.plan,
        seeds=range(first, first + args.seeds),
        require=args.require,
        duration=args.duration,
        n_jobs=args.jobs,
        progress=progress(args),
    )
    print(
        f"plan {rec.plan}: {len(rec.table)} candidates x {len(rec.seeds)} seeds ({first} to "
        f"{first + len(rec.seeds) - 1}); acceptable when every target held with a Wilson 95% lower "
        f"bound >= {rec.require:g}"
    )
    print(format_recommendation(rec))
    if rec.pick is None:
        print(f"NO PICK: {rec.note}")
        return ExitCode.MISSED
    best = rec.table[rec.table["pick"]].iloc[0]
    print(f"PICK: {best['settings']} (duration P95 {_dur(best['duration_p95_s'])})")
    return ExitCode.OK


def _dur(seconds: float) -> str:
    return "-" if math.isnan(seconds) else format_duration(round(seconds))


def _usd(value: float) -> str:
    return "-" if math.isnan(value) else f"${value:.2f}"


def format_recommendation(rec: Recommendation) -> str:
    """The candidates as the CLI prints them."""
    rows = [
        {
            "settings": r["settings"],
            "met": f"{r['met']}/{r['n']}",
            "lower bound": f"{r['ci_low']:.3f}",
            "P(Complete)": "-" if math.isnan(r["p_complete"]) else f"{r['p_complete']:.3f}",
            "duration P50": _dur(r["duration_p50_s"]),
            "duration P95": _dur(r["duration_p95_s"]),
            "extra cost P95": "-"
            if math.isnan(r["extra_cost_p95_usd"])
            else f"${r['extra_cost_p95_usd']:.2f}",
            "": "PICK" if r["pick"] else ("ok" if r["acceptable"] else ""),
        }
        for r in rec.table.to_dict("records")
    ]
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}

    def line(cells: dict[str, str]) -> str:
        return "  ".join(
            v.ljust(widths[k]) if k in ("settings", "") else v.rjust(widths[k]) for k, v in cells.items()
        ).rstrip()

    return "\n".join([line({k: k for k in widths}), *(line(r) for r in rows)])
