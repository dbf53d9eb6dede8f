"""Monte Carlo: the same scenario over many seeds, in parallel, as one tidy DataFrame.

Each replication is an independent `simulate(scenario, seed=s)`; results do not depend on how many
workers ran them (seed s gives the same row in one process or many). Workers are processes (joblib's
loky backend), so a laptop's cores are used; the same call pattern scales out on a joblib backend for
a cluster (e.g. dask or ray) with `joblib.parallel_config(backend=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from simkit.api import as_loaded, simulate
from simkit.scenario.loader import LoadedScenario
from simkit.scenario.model import Scenario


def _one(loaded: LoadedScenario, seed: int, duration: float | None) -> dict[str, float | int | bool]:
    result = simulate(loaded, seed=seed, duration=duration, progress=False)
    row: dict[str, float | int | bool] = {"seed": seed, "passed": result.passed}
    row.update(result.summary)
    for check in result.checks.to_dict("records"):
        row[f"passed.{check['target']}"] = bool(check["passed"])
    return row


def replicate(
    scenario: Scenario | LoadedScenario | str | Path | None = None,
    seeds: Iterable[int] = range(20),
    duration: float | None = None,
    n_jobs: int = -1,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per seed: the run summary, each check's verdict, and `passed` (all targets met)."""
    loaded = as_loaded(scenario)
    seeds = list(seeds)
    jobs = (delayed(_one)(loaded, s, duration) for s in seeds)
    rows = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    out: list[dict[str, float | int | bool]] = list(
        tqdm(
            rows, total=len(seeds), disable=None if progress is None else not progress, unit="run", delay=2.0
        )
    )
    out.sort(key=lambda row: int(row["seed"]))  # column order must not depend on which run came first
    return pd.DataFrame(out)


def probability_met(runs: pd.DataFrame) -> pd.Series:
    """Share of replications in which each target (and all of them) was met."""
    cols = ["passed", *[c for c in runs.columns if c.startswith("passed.")]]
    return runs[cols].mean().rename(lambda c: c.removeprefix("passed.") if c != "passed" else "all targets")
