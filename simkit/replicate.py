"""Monte Carlo: the same scenario over many seeds, in parallel, as one tidy DataFrame.

Each replication is an independent `simulate(scenario, seed=s)`; results do not depend on how many
workers ran them (seed s gives the same row in one process or many). Workers are processes (joblib's
loky backend), so a laptop's cores are used; `backend="dask", scheduler=ADDRESS` runs the same batch
on a Dask cluster (`simkit.batch`), and `store=` keeps each finished run in an SQLite file so that a
killed batch resumes (`simkit.store`).
`summarize_runs` (analysis/montecarlo.py) turns the rows into a verdict per target with intervals.
Each replication runs inside `content_memo.shared_across_runs`: what is bit for bit the same for
every seed (route latency, the CPU-credit bank) is computed once per worker, not once per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.analysis.montecarlo import PLAN_FIELDS, PLAN_PREFIX, worst_per_seed
from simkit.api import as_loaded, simulate
from simkit.batch import Job, check_backend, finish, run_batch
from simkit.engine.content_memo import shared_across_runs
from simkit.results import RunResult
from simkit.scenario.loader import LoadedScenario, scenario_hash
from simkit.scenario.model import Scenario
from simkit.store import ResultStore, batch_id, plan_key


def _one(loaded: LoadedScenario, seed: int, duration: float | None, zone: str) -> dict[str, Any]:
    with shared_across_runs():  # what is the same for every seed is computed once per worker
        result = simulate(loaded, seed=seed, duration=duration, progress=False)
        row = _row(result, seed, zone)
    return row


def _row(result: RunResult, seed: int, zone: str) -> dict[str, Any]:
    row: dict[str, Any] = {"seed": seed, **({"zone": zone} if zone else {}), "passed": result.passed}
    row.update(result.summary)
    checks = result.checks.to_dict("records")
    for check in checks:
        row[f"passed.{check['target']}"] = bool(check["passed"])
    for key in ("value", "margin", "threshold", "unit"):  # what `summarize_runs` reads
        for check in checks:
            row[f"{key}.{check['target']}"] = check[key]
    row.update(plan_columns(result.plans))
    return row


def plan_columns(plans: pd.DataFrame) -> dict[str, Any]:
    """Per deployment plan of a run (`result.plans`): `plan.<name>.<field>` for `PLAN_FIELDS`,
    what `plan_stats` reads (its duration, outcome, extra cost, P95 during it)."""
    out: dict[str, Any] = {}
    for p in plans.to_dict("records"):
        for field in PLAN_FIELDS:
            out[f"{PLAN_PREFIX}{p['plan']}.{field}"] = p[field]
    return out


def zone_variants(loaded: LoadedScenario) -> list[tuple[str, LoadedScenario]]:
    """The scenario once per zone choice of its `az_outages[].zone: each` (one unlabelled variant,
    itself, when it has none); each label names the zone(s) lost."""
    sc = loaded.scenario
    variants = sc.faults.zone_variants(sc.cluster.zones)
    if len(variants) == 1 and not variants[0][0]:
        return [("", loaded)]
    out = []
    for label, faults in variants:
        variant = sc.model_copy(update={"faults": faults})
        out.append((label, LoadedScenario(variant, loaded.source, scenario_hash(variant))))
    return out


def replicate(
    scenario: Scenario | LoadedScenario | str | Path | None = None,
    seeds: Iterable[int] = range(20),
    duration: float | None = None,
    n_jobs: int = -1,
    progress: bool | None = None,
    store: str | Path | ResultStore | None = None,
    backend: str | None = None,
    scheduler: Any = None,
    errors: str = "raise",
) -> pd.DataFrame:
    """One row per seed: the run summary, each check's verdict, and `passed` (all targets met);
    per target also its `value.`, `margin.`, `threshold.` and `unit.` (for `summarize_runs`); per
    deployment plan `plan.<name>.duration_s`, `.outcome`, `.extra_cost_usd_total`, `.p95_ms` (for
    `plan_stats`).

    A scenario with `az_outages[].zone: each` runs once per zone for every seed: one row per (seed,
    zone), with a `zone` column; `summarize_runs` and `probability_met` count each seed at its worst
    zone. Seed s runs exactly as `simulate(scenario, seed=s)` (its streams are
    `SeedSequence(s).spawn(...)`), so the rows do not depend on the number of workers or their order.

    `store` (an SQLite file) keeps each finished run: called again with the same store, only the
    missing runs are done. A run that raises does not stop the others; at the end `errors="raise"`
    raises `simkit.batch.BatchError` (each failed seed and zone, and the table of the rest),
    `"report"` returns the rest with the failures in `table.attrs["failures"]`.
    `backend`/`scheduler`: where the runs go (`simkit.batch`).
    """
    loaded = as_loaded(scenario)
    seeds = list(seeds)
    check_backend(backend, scheduler)
    variants = zone_variants(loaded)
    keys = {label: plan_key({"zone": label} if label else {}) for label, _ in variants}
    jobs = [
        Job(keys[label], s, {"zone": label} if label else {}, (variant, s, duration, label))
        for s in sorted(set(seeds))
        for label, variant in variants
    ]
    with ExitStack() as stack:
        if store is not None and not isinstance(store, ResultStore):
            store = stack.enter_context(ResultStore(store, batch_id(loaded.sha256, duration), flag="store"))
        outcome = run_batch(_one, jobs, n_jobs, backend, scheduler, store, progress)
    # in seed order, each seed's zones in the scenario's order: not in the order runs finished
    out = [outcome.rows[job.key, job.seed] for job in jobs if (job.key, job.seed) in outcome.rows]
    table = pd.DataFrame(out)
    return finish(table, outcome, errors)


def probability_met(runs: pd.DataFrame) -> pd.Series:
    """Share of seeds in which each target (and all of them) was met (a zone batch at its worst zone)."""
    runs = worst_per_seed(runs)
    cols = ["passed", *[c for c in runs.columns if c.startswith("passed.")]]
    return runs[cols].mean().rename(lambda c: c.removeprefix("passed.") if c != "passed" else "all targets")
