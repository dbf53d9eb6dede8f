"""`simkit run|check --seeds N` and zone batches: a verdict over seeds (and zones), not one run's.

Each scenario runs over seeds `--seed`, `--seed`+1, ... (`simkit.replicate`, all cores; seed s is
exactly `simkit run --seed s`, so a surprising replication can be rerun alone) and, if an outage
says `zone: each`, once per zone. Per target it prints the share of seeds in which it held with its
Wilson 95 % interval, and its value's mean (95 % interval) and percentiles; the rule that decided is
printed above the table. Exit codes as for one run: 0 every target passes, 1 one does not.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from simkit.analysis.montecarlo import (
    ALL_TARGETS,
    plan_stats,
    seeds_needed,
    summarize_runs,
    targets,
    wilson_interval,
    worst_per_seed,
)
from simkit.analysis.slo import format_value
from simkit.cli.options import finish, progress
from simkit.errors import SimkitError
from simkit.replicate import replicate, zone_variants
from simkit.report.ci import ScenarioVerdict, from_summary
from simkit.scenario.loader import LoadedScenario
from simkit.units import format_duration


def is_batch(args: argparse.Namespace, scenarios: list[LoadedScenario]) -> bool:
    """Whether this `run`/`check` is a batch: `--seeds N`, or an outage with `zone: each`."""
    return args.seeds is not None or any(len(zone_variants(sc)) > 1 for sc in scenarios)


def run_batch(
    args: argparse.Namespace, scenarios: list[tuple[str, LoadedScenario]], count: bool = False
) -> int:
    """Replicate each scenario, print its verdict per target, write the CI outputs (`count`: the
    `N of M scenarios failed` line); 1 if any target of any scenario fails."""
    if args.mode != "fast":
        raise SimkitError("--mode request replays one run: use it without --seeds and without zone: each")
    if getattr(args, "out", None):
        raise SimkitError("--out writes one run's tables: use it without --seeds and without zone: each")
    return finish(args, [report(path, loaded, args) for path, loaded in scenarios], count=count)


def report(path: str, loaded: LoadedScenario, args: argparse.Namespace) -> ScenarioVerdict:
    """Run one scenario's batch and print its table, its rule and its misses; its verdict."""
    sc = loaded.scenario
    first = sc.simulation.seed if args.seed is None else args.seed
    count = 1 if args.seeds is None else args.seeds
    require = None if args.seeds is None else args.require
    runs = replicate(
        loaded,
        seeds=range(first, first + count),
        duration=args.duration,
        n_jobs=args.jobs,
        progress=progress(args),
    )
    table = summarize_runs(runs, require=require)
    passed = bool(table["passed"].all())
    zones = list(runs["zone"].unique()) if "zone" in runs else []
    duration = format_duration(sc.simulation.duration if args.duration is None else args.duration)
    seeds = f"seed {first}" if count == 1 else f"{count} seeds ({first} to {first + count - 1})"
    batch = f", every zone lost in turn ({', '.join(zones)}), each target at its worst" if zones else ""
    print(f"{'PASS' if passed else 'FAIL'} {path or sc.name}: {seeds} x {duration}{batch}")
    print(f"rule: {rule(require, count, bool(zones))}")
    print(format_table(table))
    if require is not None and count < seeds_needed(require):
        best = wilson_interval(count, count)[0]
        print(
            f"note: with {count} seeds the lower bound is at most {best:.3f}; {require:g} takes "
            f"{seeds_needed(require)} seeds with no miss"
        )
    for line in zone_misses(runs):
        print(line)
    for line in format_plan_stats(plan_stats(runs)):
        print(line)
    reasons = {str(r["target"]): missed(r, require) for r in table[~table["passed"]].to_dict("records")}
    for target, reason in reasons.items():
        if target != ALL_TARGETS or table["passed"].iloc[1:].all():
            print(f"MISSED: {reason}")
    per_seed = worst_per_seed(runs)
    margins = {t: float(per_seed[f"margin.{t}"].mean()) for t in targets(runs) if f"margin.{t}" in per_seed}
    return from_summary(
        path,
        sc.name,
        table,
        margins,
        reasons,
        seeds=seeds,
        duration_s=float(sc.simulation.duration if args.duration is None else args.duration),
        scenario_hash=loaded.sha256,
        rule=rule(require, count, bool(zones)),
    )


def rule(require: float | None, count: int, zones: bool) -> str:
    """The rule that decides, in words."""
    where = "in every zone's run" if zones else "in the run"
    if require is None:
        return f"a target passes when it held {where} (one seed; --seeds N for a probability)"
    return (
        f"a target passes when the lower bound of the Wilson 95% interval of the share of the {count} "
        f"seeds in which it held is >= {require:g} (--require)"
        + ("; a seed counts as held only if it held in every zone" if zones else "")
    )


def missed(row: Mapping[Hashable, Any], require: float | None) -> str:
    """One line for a failed summary row."""
    met, n = row["met"], row["n"]
    if require is None:
        return f"{row['target']} held in {met} of {n} run(s)"
    if met == n:
        return (
            f"{row['target']} held in all {n} seeds, too few to show {require:g} (the lower bound is "
            f"{row['ci_low']:.3f}; --seeds {seeds_needed(require)} with no miss would)"
        )
    return (
        f"{row['target']} held in {met} of {n} seeds (P {row['p_met']:.3f}, 95% CI "
        f"{row['ci_low']:.3f}-{row['ci_high']:.3f}): the lower bound is below {require:g}"
    )


def zone_misses(runs: pd.DataFrame) -> list[str]:
    """For a zone batch: per target that missed anywhere, how many seeds missed with each zone lost."""
    if "zone" not in runs:
        return []
    seeds = runs["seed"].nunique()
    lines = []
    for target in targets(runs):
        misses = (~runs[f"passed.{target}"].astype(bool)).groupby(runs["zone"], sort=False).sum()
        if misses.any():
            counts = ", ".join(f"{zone} {int(k)}/{seeds}" for zone, k in misses.items())
            lines.append(f"  {target} missed, by zone lost: {counts}")
    return lines


def format_plan_stats(stats: pd.DataFrame) -> list[str]:
    """Per deployment plan over the runs: duration P50/P95/max and how often each outcome happened."""
    lines = []
    for r in stats.to_dict("records"):
        n = int(r["n"])
        outcomes = ", ".join(
            f"{str(k).removeprefix('p.')} {round(v * n)}/{n}"
            for k, v in r.items()
            if str(k).startswith("p.") and v
        )
        lines.append(
            f"plan {r['plan']} over {n} runs: duration P50 {_dur(r['duration_p50_s'])}, "
            f"P95 {_dur(r['duration_p95_s'])}, max {_dur(r['duration_max_s'])}; "
            f"{outcomes or 'no outcome'} (P(Complete) 95% CI {r['complete_ci_low']:.3f}-"
            f"{r['complete_ci_high']:.3f})"
        )
    return lines


def _dur(seconds: float) -> str:
    return "-" if math.isnan(seconds) else format_duration(round(seconds))


def format_table(table: pd.DataFrame) -> str:
    """The summary as the CLI prints it: values in their units, probabilities to 3 decimals."""
    rows = []
    for r in table.to_dict("records"):
        unit = str(r["unit"])
        value = "" if math.isnan(r["mean"]) else format_value(r["mean"], unit)
        interval = (
            ""
            if math.isnan(r["mean_ci_low"])
            else f"[{format_value(r['mean_ci_low'], unit)}, {format_value(r['mean_ci_high'], unit)}]"
        )
        rows.append(
            {
                "target": r["target"],
                "met": f"{r['met']}/{r['n']}",
                "P(met)": f"{r['p_met']:.3f}",
                "95% CI": f"{r['ci_low']:.3f}-{r['ci_high']:.3f}",
                "mean": value,
                "mean 95% CI": interval,
                **{k: "" if math.isnan(r[k]) else format_value(r[k], unit) for k in ("p5", "p50", "p95")},
                "verdict": "PASS" if r["passed"] else "FAIL",
            }
        )
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    left = {"target", "verdict"}

    def line(cells: dict[str, str]) -> str:
        return "  ".join(
            str(v).ljust(widths[k]) if k in left else str(v).rjust(widths[k]) for k, v in cells.items()
        ).rstrip()

    return "\n".join([line({k: k for k in widths}), *(line(r) for r in rows)])
