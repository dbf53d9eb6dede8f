"""Sweep plans and pick the cheapest that holds its targets.

A plan is a set of overrides of the scenario (dotted paths, as `--set` takes them), e.g.
`{"cluster.node_pools.0.instance_type": "m5.xlarge", "workloads.4.replicas": 2}`. Every plan of the
grid runs over the same seeds (common random numbers: the plans face the same traffic and faults), and
a plan holds when every target was met in at least `confidence` of its replications.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from simkit.api import simulate
from simkit.scenario.loader import LoadedScenario, load_scenario_file, parse_scenario
from simkit.scenario.model import Scenario


def plans(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the cartesian product), in a stable order."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


RUN_COLUMNS = ("seed", "passed", "missed", "cost_usd_month", "availability")
"""What a sweep's table has per run after the plan's columns (`plan` and one per varied field)."""


def _run(
    source: str, base_dir: Path | None, overrides: dict[str, Any], seed: int, duration: float | None
) -> dict[str, Any]:
    scenario = parse_scenario(source, overrides=overrides, base_dir=base_dir)
    result = simulate(scenario, seed=seed, duration=duration, progress=False)
    failed = [c["target"] for c in result.checks.to_dict("records") if not c["passed"]]
    return {
        "seed": seed,
        "passed": not failed,
        "missed": "; ".join(failed),
        "cost_usd_month": result.summary["cost_usd_month"],
        "availability": result.summary.get("availability", 1.0),
    }  # the keys are RUN_COLUMNS


def sweep(
    scenario: str | Path | None,
    grid: Mapping[str, Sequence[Any]],
    seeds: Iterable[int] = range(5),
    duration: float | None = None,
    n_jobs: int = -1,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per (plan, seed): the plan's overrides, whether all targets held, cost, availability."""
    path = Path(scenario) if scenario is not None else None
    loaded: LoadedScenario = load_scenario_file(path)
    source = (path or loaded.source or Path()).read_text(encoding="utf-8")
    base_dir = loaded.base_dir
    seeds = list(seeds)
    grid_plans = plans(grid)
    for plan in grid_plans:  # every plan must be a valid scenario before anything runs
        parse_scenario(source, source=str(path or loaded.source), overrides=plan, base_dir=base_dir)
    jobs = [(i, plan, s) for i, plan in enumerate(grid_plans) for s in seeds]
    runner = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_run)(source, base_dir, plan, s, duration) for _, plan, s in jobs
    )
    rows = []
    for (i, plan, _), row in zip(
        jobs,
        tqdm(
            runner, total=len(jobs), disable=None if progress is None else not progress, unit="run", delay=2.0
        ),
        strict=True,
    ):
        rows.append({"plan": i, **{k: _cell(v) for k, v in plan.items()}, **row})
    return pd.DataFrame(rows)


def _cell(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def summarize(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per plan: P(all targets met), mean monthly cost, the targets missed, and whether it holds."""
    keys = [c for c in runs.columns if c not in RUN_COLUMNS]
    table = (
        runs.groupby(keys, sort=False, dropna=False)
        .agg(
            p_all_targets=("passed", "mean"),
            cost_usd_month=("cost_usd_month", "mean"),
            availability_min=("availability", "min"),
            missed=("missed", lambda m: "; ".join(sorted({x for s in m for x in s.split("; ") if x}))),
        )
        .reset_index()
    )
    table["holds"] = table["p_all_targets"] >= confidence
    return table.sort_values(["holds", "cost_usd_month"], ascending=[False, True], ignore_index=True)


def cheapest(table: pd.DataFrame) -> pd.Series | None:
    """The cheapest plan that holds, or None when none does."""
    holding = table[table["holds"]]
    return None if holding.empty else holding.sort_values("cost_usd_month").iloc[0]


__all__ = ["RUN_COLUMNS", "cheapest", "plans", "summarize", "sweep", "Scenario"]
