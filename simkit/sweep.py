"""Sweep plans and pick the cheapest that holds its targets.

A plan is a set of overrides of the scenario (dotted paths, as `--set` takes them), e.g.
`{"cluster.node_pools.0.instance_type": "m5.xlarge", "workloads.4.replicas": 2}`. Every plan of the
grid runs over the same seeds (common random numbers: the plans face the same traffic and faults), and
a plan holds when every target was met in at least `confidence` of its replications.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.api import simulate
from simkit.batch import Job, check_backend, finish, run_batch
from simkit.scenario.loader import LoadedScenario, load_scenario_file, parse_scenario
from simkit.scenario.model import Scenario
from simkit.store import ResultStore, batch_id, plan_key


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
    store: str | Path | ResultStore | None = None,
    backend: str | None = None,
    scheduler: Any = None,
    errors: str = "raise",
    force: bool = False,
) -> pd.DataFrame:
    """One row per (plan, seed): the plan's overrides, whether all targets held, cost, availability.

    `store` (an SQLite file, `simkit.store`) keeps every finished run as it completes: a sweep killed
    midway and called again with the same store runs only what is missing. A run that raises does
    not stop the others; at the end `errors="raise"` raises `simkit.batch.BatchError` (each failed
    plan and seed, and the table of the rest), `"report"` returns the rest with the failures in
    `table.attrs["failures"]`. `backend`/`scheduler` choose where the runs go (`simkit.batch`); the rows
    are the same for every backend and number of workers. `force` replaces a `store` file that is
    not a simkit results store, or holds another scenario's (or duration's) runs.
    """
    path = Path(scenario) if scenario is not None else None
    loaded: LoadedScenario = load_scenario_file(path)
    source = (path or loaded.source or Path()).read_text(encoding="utf-8")
    base_dir = loaded.base_dir
    seeds = list(dict.fromkeys(seeds))  # each seed once
    grid_plans = plans(grid)
    for plan in grid_plans:  # every plan must be a valid scenario before anything runs
        parse_scenario(source, source=str(path or loaded.source), overrides=plan, base_dir=base_dir)
    check_backend(backend, scheduler)
    keys = [plan_key(plan) for plan in grid_plans]
    jobs = [
        Job(key, s, plan, (source, base_dir, plan, s, duration))
        for key, plan in zip(keys, grid_plans, strict=True)
        for s in seeds
    ]
    with contextlib.ExitStack() as stack:
        if store is not None and not isinstance(store, ResultStore):
            store = stack.enter_context(ResultStore(store, batch_id(source, base_dir, duration), force))
        outcome = run_batch(_run, jobs, n_jobs, backend, scheduler, store, progress)
    rows = [
        {"plan": i, **{k: _cell(v) for k, v in plan.items()}, **outcome.rows[key, s]}
        for i, (key, plan) in enumerate(zip(keys, grid_plans, strict=True))
        for s in seeds
        if (key, s) in outcome.rows
    ]
    table = pd.DataFrame(rows, columns=None if rows else ["plan", *grid, *RUN_COLUMNS])
    return finish(table, outcome, errors)


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
