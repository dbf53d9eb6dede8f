"""`simkit.recommend_plan` and `simkit recommend`: the fastest plan settings that keep every target."""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit
from simkit.cli import main
from simkit.errors import SimkitError
from simkit.plan_search import ROLLOUT_GRID, default_grid, with_settings
from simkit.scenario.loader import load_scenario_file

SMALL = Path(__file__).parent / "data" / "plan-small-rollout.yaml"
DEADLOCK = Path(__file__).resolve().parents[1] / "scenarios" / "upgrade-deadlock.yaml"
GRID = [
    {"maxSurge": 1, "maxUnavailable": 0},
    {"maxSurge": 3, "maxUnavailable": 0},
    {"maxSurge": 0, "maxUnavailable": 1},
]


def test_picks_the_fastest_candidate_that_meets_every_target() -> None:
    rec = simkit.recommend_plan(
        SMALL, plan="web-v2", seeds=range(4), require=0.5, grid=GRID, n_jobs=1, progress=False
    )
    assert rec.pick == {"maxSurge": 3, "maxUnavailable": 0}
    table = rec.table
    assert list(table["settings"])[0] == "maxSurge=3 maxUnavailable=0" and table["pick"].sum() == 1
    best, slow = table.iloc[0], table.iloc[1]
    assert best["met"] == 4 and best["ci_low"] >= 0.5  # 4/4: Wilson lower bound 4/(4+1.96^2) = 0.510
    assert slow["met"] == 0 and not slow["acceptable"]
    assert best["duration_p95_s"] < 120 < slow["duration_p95_s"]  # one at a time: 3 x ~71 s
    assert rec.picked_plan is not None and rec.picked_plan.strategy is not None
    assert rec.picked_plan.strategy.rollingUpdate is not None
    assert rec.picked_plan.strategy.rollingUpdate.maxSurge == 3


def test_no_pick_says_why() -> None:
    rec = simkit.recommend_plan(
        DEADLOCK,
        plan="app-pool-1-32",
        seeds=range(2),
        require=0.5,
        grid=[{"maxUnavailable": 1}],
        n_jobs=1,
        progress=False,
    )
    assert rec.pick is None and not rec.table["acceptable"].any()
    assert rec.table.loc[0, "p_complete"] == 0.0  # the PDB deadlock does not depend on the setting
    assert "--seeds" in rec.note  # 2 seeds cannot show 0.5


def test_grids_and_settings() -> None:
    sc = load_scenario_file(DEADLOCK).scenario
    plan = sc.plans[0]
    assert default_grid(plan, "aws")[0] == {"maxUnavailable": 1}
    assert with_settings(plan, {"maxUnavailable": 3}, "aws").updateConfig.maxUnavailable == 3  # type: ignore[union-attr]
    assert {"maxSurge": 0, "maxUnavailable": 0} not in ROLLOUT_GRID
    assert ROLLOUT_GRID[0] == {"maxSurge": "25%", "maxUnavailable": 0}  # gentlest first
    with pytest.raises(SimkitError, match="no plan 'nope'"):
        simkit.recommend_plan(DEADLOCK, plan="nope", seeds=[1])


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "recommend",
            str(SMALL),
            "--plan",
            "web-v2",
            "--seeds",
            "4",
            "--require",
            "0.5",
            "--jobs",
            "1",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PICK: maxSurge=" in out and "candidates x 4 seeds" in out
    assert main(["recommend", str(SMALL), "--plan", "nope", "--seeds", "1"]) == 2
