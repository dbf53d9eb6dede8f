"""Overlapping plans in engine runs, and plans that overlap nothing unchanged.

- The five plan scenarios (one plan each): `result.plans` without the new `concurrent_with` column is
  the table main recorded (its digest in tests/data/plan_tables_golden.json at a15b2a1, before this
  column), so a lone plan keeps every figure bit for bit (without `measured_on` too, and for
  the queue consumers' plans, whose task figures moved since (`MOVED`), every column but those).
- Imported Online Boutique on AWS (../shared/manifests, not the seed platform), seeds 0 and 7: an EKS
  node-group update at 2 h with a rollout starting with it and one 2 minutes into it, all three
  overlapping. The plans' extra node-hours add up to the node-hours above the baseline over the union
  of their windows, recounted here from `result.nodes`; each is at most what that plan counts alone
  (its own start's count, recounted the same way), the lone counts sum to about twice the real figure
  (the double count), the cost is the node-hours at m5.xlarge's price in
  ../shared/reference/prices.csv, `concurrent_with` names the plans whose windows overlap and
  `simkit run`'s plan block says the figure is a share.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import simkit
from simkit.cli.run import plan_block
from simkit.results import RunResult
from simkit.scenario.plans import Plan
from tests.test_plan_speed_identical import SCENARIOS, SEED, digest
from tests.test_plans_platforms import CLOUDS, _price, extra_node_hours, needs_shared, node_levels, scenario

ROOT = Path(__file__).parents[1]
# result.plans digests from tests/data/plan_tables_golden.json as main (a15b2a1) recorded them
MAIN_PLANS = {
    "canary-llm-agent": "28995f2efe78cec9190d6510ab359cb203d081dd5454915274f0180d1e126cd5",
    "node-upgrade-eks": "d634fa8ac3d4ddb9dfee514b66520419ff3252c4e3899cb1a354cb5466365454",
    "rollout-at-peak": "cd80dcb820df42159da935010cf3e1b5ba65dddaf33495e6af54424229b1f7b2",
    "statefulset-update": "85626b3e508c6fbe9cc5f0eb8eecde6d8fa8ac44b49d51771c6bc1099bb9d62f",
    "upgrade-deadlock": "25e7940f007c1c3ecc2ae6196a867c9062f5eafe8bf2ac05f1a52b0d72dd3082",
}


@pytest.mark.parametrize("case", SCENARIOS)
def test_a_lone_plan_keeps_main_s_table(case: str) -> None:
    result = simkit.simulate(
        simkit.load_scenario(ROOT / "scenarios" / f"{case}.yaml"), seed=SEED, progress=False
    )
    assert (result.plans.concurrent_with == "").all()
    table = result.plans.drop(columns=["concurrent_with", "measured_on"])  # both columns came after a15b2a1
    if case in MOVED:  # a queue consumer's figures moved since (test_plan_measured_on.py): the rest did not
        path = ROOT / "tests" / "data" / f"plans_{case.replace('-', '_')}_a15b2a1.csv"
        old = pd.read_csv(path, dtype={"message": str})
        old["message"] = old["message"].fillna("")  # main's table, floats written exactly (%.17g)
        moved = MOVED[case]
        pd.testing.assert_frame_equal(table.drop(columns=moved), old.drop(columns=moved), check_dtype=False)
        return
    assert digest(table) == MAIN_PLANS[case]


# The figures of queue consumers' plans that moved after a15b2a1: rollout-at-peak is judged on its
# tasks instead of the routes it never touches; a canary's split serves the queue's task (cv 0.8), not
# the consumer's request serving (cv 1.0); every other column is main's bit for bit.
MOVED = {
    "rollout-at-peak": ["requests", "errors", "availability", "p95_ms"],
    "canary-llm-agent": ["p95_ms", "new_p95_ms", "old_p95_ms"],
}


_levels = node_levels  # per pool, (time, nodes) after each change, from `result.nodes`


def union_node_hours(nodes: pd.DataFrame, windows: list[tuple[float, float]]) -> float:
    """Node-hours above the baseline over the union of the windows: in each stretch between two window
    ends or starts, above each pool's count at the start of the earliest window covering it."""
    cuts = sorted({x for w in windows for x in w})
    total = 0.0
    for changes in _levels(nodes).values():
        for a, b in zip(cuts, cuts[1:], strict=False):
            starts = [s for s, e in windows if s <= a and e >= b]
            if not starts:
                continue
            base = [n for t, n in changes if t <= min(starts)][-1]
            for (t0, n), (t1, _) in zip(changes, changes[1:] + [(math.inf, 0)], strict=True):
                lo, hi = max(t0, a), min(t1, b)
                if hi > lo:
                    total += max(0, n - base) * (hi - lo) / 3600
    return total


@cache
def overlapping(seed: int) -> RunResult:
    """Online Boutique on AWS: an EKS update of the general pool at 2 h (from test_plans_platforms),
    a rollout of frontend at the same time (minReadySeconds 300, so it lasts about as long) and one of
    productcatalogservice (4 replicas, a PDB, 100 % surge, minReadySeconds 60) at 2 h 2 min."""
    sc = scenario("online-boutique", "eks-upgrade", seed, "60s")
    plans = [
        sc.plans[0],
        Plan(name="frontend-v2", kind="rollout", target="frontend", start=7200.0, minReadySeconds=300),
        Plan(
            name="catalog-v2",
            kind="rollout",
            target="productcatalogservice",
            start=7320.0,
            minReadySeconds=60,
            strategy={"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}},
        ),
    ]
    return simkit.simulate(sc.model_copy(update={"plans": plans}), progress=False)


@needs_shared
@pytest.mark.parametrize("seed", [0, 7])
def test_overlapping_plans_add_up_on_an_imported_platform(seed: int) -> None:
    result = overlapping(seed)
    plans = result.plans
    assert list(plans.outcome) == ["Complete"] * 3, list(plans.message)
    windows = list(zip(plans.start_s, plans.end_s, strict=True))
    # the update and frontend's rollout start together; catalog's runs inside both
    assert windows[0][0] == windows[1][0] < windows[2][0] < windows[2][1] < min(windows[0][1], windows[1][1])
    assert list(plans.concurrent_with) == ["frontend-v2, catalog-v2", "up, catalog-v2", "up, frontend-v2"]
    shares = plans.extra_node_hours.to_numpy()
    assert (shares >= 0).all()
    assert shares.sum() == pytest.approx(union_node_hours(result.nodes, windows), rel=1e-9)
    alone = [extra_node_hours(result.nodes, s, e) for s, e in windows]
    assert all(h <= a * (1 + 1e-9) + 1e-12 for h, a in zip(shares, alone, strict=True))
    # alone, frontend's rollout counts the update's surge nodes again: about twice the real figure
    assert sum(alone) > 1.5 * shares.sum() > 0
    assert shares[0] == pytest.approx(shares[1], rel=1e-9)  # same start, same count: equal shares
    region, _, instance = CLOUDS["aws"]
    price = _price("aws", region, instance)
    assert plans.extra_cost_usd_total.to_numpy() == pytest.approx(shares * price, rel=1e-6)


@needs_shared
def test_the_plan_block_says_the_figure_is_a_share() -> None:
    lines = [line for line in plan_block(overlapping(0)) if "node-h" in line]
    assert len(lines) == 3
    assert lines[0].endswith("(its share; overlaps frontend-v2, catalog-v2)")
    assert lines[2].endswith("(its share; overlaps up, frontend-v2)")
    lone = simkit.simulate(simkit.load_scenario(ROOT / "scenarios" / "rollout-at-peak.yaml"), progress=False)
    assert not any("share" in line for line in plan_block(lone))
