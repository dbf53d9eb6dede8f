"""Monte Carlo over deployment plans: replicate rows carry each plan's duration and outcome, and
`plan_stats` gives duration percentiles and outcome probabilities (`simkit run --seeds N` prints them)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import simkit
from simkit.analysis.montecarlo import plan_stats
from simkit.cli import main

DEADLOCK = Path(__file__).resolve().parents[1] / "scenarios" / "upgrade-deadlock.yaml"


def test_plan_stats_closed_form() -> None:
    runs = pd.DataFrame(
        {
            "seed": range(4),
            "plan.up.outcome": ["Complete", "Complete", "Complete", "PodEvictionFailure"],
            "plan.up.duration_s": [100.0, 200.0, 300.0, 900.0],
            "plan.up.extra_cost_usd_total": [1.0, 1.0, 1.0, 2.0],
            "plan.up.p95_ms": [50.0, 60.0, 70.0, 80.0],
        }
    )
    (row,) = plan_stats(runs).to_dict("records")
    assert row["plan"] == "up" and row["n"] == 4
    assert row["duration_p50_s"] == 250.0
    assert row["duration_p95_s"] == pytest.approx(300 + 0.85 * 600)  # numpy's linear percentile
    assert row["duration_max_s"] == 900.0
    assert (row["p.Complete"], row["p.PodEvictionFailure"]) == (0.75, 0.25)
    assert 0 < row["complete_ci_low"] < 0.75 < row["complete_ci_high"] < 1
    assert "p.DrainTimeout" not in row  # only the outcomes seen (and Complete)


def test_no_plans_no_rows() -> None:
    assert plan_stats(pd.DataFrame({"seed": [1], "passed": [True]})).empty


def test_replicate_rows_carry_plan_outcome_and_duration() -> None:
    runs = simkit.replicate(DEADLOCK, seeds=[1, 2], n_jobs=1, progress=False)
    assert set(runs["plan.app-pool-1-32.outcome"]) == {"PodEvictionFailure"}
    assert (runs["plan.app-pool-1-32.duration_s"] > 15 * 60).all()  # EKS's 15 min per node, then fails
    stats = simkit.plan_stats(runs)
    assert stats.loc[0, "p.PodEvictionFailure"] == 1.0 and stats.loc[0, "p.Complete"] == 0.0
    assert not math.isnan(stats.loc[0, "duration_p95_s"])


def test_run_seeds_prints_plan_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(DEADLOCK), "--seeds", "2", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "plan app-pool-1-32 over 2 runs: duration P50 " in out
    assert "PodEvictionFailure 2/2" in out
