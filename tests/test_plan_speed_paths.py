"""The plan-path speed-ups (issue 12, "a month with a daily rollout within 1.5x") change no table.

Every table of whole runs with the fast paths on against the same runs with each of them off (the
reference paths), where they act: a rollout at peak with the HPA scaling the target and the
cluster autoscaler adding nodes for the surge pods and removing them after (rollout-at-peak with
2x load and 1.5-core llm-agent pods), seeds 1 and 2 at 60 s and 15 s resolution; and three days of
bench/plans.py's daily rollouts. The fast paths:

* `ca_loop.LEAN_SCALE_DOWN`: the scale-down pass gets only the pods it can read.
* `ca_loop.REUSE_VIEWS`: node groups, CANodes and PDBs are rebuilt only when what they read changed.
* `ca_loop.SKIP_NOOP_SCANS`: a scan that provably repeats a quiet one that read no pod is skipped.
* `ca_noop.NOOP_BUSY_NODES`: ... and one that read only nodes found NotUnderutilized (same pods).
* `ca_loop.RECHECK_BUSY_NODES`: ... or whose pods changed and that are NotUnderutilized again.
* `traffic.DEFER_LOOKAHEAD`: a queue's look-ahead after a split tick waits until it is read.
* `traffic.DEFER_FIRST_TICK`: ... and after a chunk's first tick read alone (recomputed whole if read).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit
import simkit.engine.ca_loop as ca_loop
import simkit.engine.ca_noop as ca_noop
import simkit.engine.traffic as traffic
from bench.identical import TABLES, differences
from bench.kplatform import platform_data
from bench.plans import daily_rollouts, rollout_month

SCENARIOS = Path(__file__).parents[1] / "scenarios"
DAY_S = 86400.0


def surge_case(resolution: str) -> simkit.Scenario:
    """rollout-at-peak under 2x load with 1.5-core pods: the HPA acts, the CA adds and removes nodes."""
    return simkit.load_scenario(
        SCENARIOS / "rollout-at-peak.yaml",
        overrides={
            "simulation.resolution": resolution,
            "traffic.load.growth": 2.0,
            "workloads.llm-agent-service.resources.requests.cpu": "1500m",
        },
    )


def _reference(m: pytest.MonkeyPatch) -> None:
    """Every fast path of the plan-speed work off."""
    m.setattr(ca_loop, "LEAN_SCALE_DOWN", False)
    m.setattr(ca_loop, "REUSE_VIEWS", False)
    m.setattr(ca_loop, "SKIP_NOOP_SCANS", False)
    m.setattr(ca_noop, "NOOP_BUSY_NODES", False)
    m.setattr(ca_loop, "RECHECK_BUSY_NODES", False)
    m.setattr(traffic, "DEFER_LOOKAHEAD", False)
    m.setattr(traffic, "DEFER_FIRST_TICK", False)


def _both(
    scenario: simkit.Scenario, seed: int, days: float, monkeypatch: pytest.MonkeyPatch
) -> simkit.RunResult:
    fast = simkit.simulate(scenario, seed=seed, duration=days * DAY_S, progress=False)
    with monkeypatch.context() as m:
        _reference(m)
        reference = simkit.simulate(scenario, seed=seed, duration=days * DAY_S, progress=False)
    assert fast.summary == reference.summary
    tables = [{(scenario.name, seed): {t: getattr(r, t) for t in TABLES}} for r in (reference, fast)]
    assert differences(*tables) == []
    return fast


@pytest.mark.parametrize("resolution", ["60s", "15s"])
@pytest.mark.parametrize("seed", [1, 2])
def test_rollout_with_hpa_and_ca_surge_identical(
    seed: int, resolution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _both(surge_case(resolution), seed, 1.0, monkeypatch)
    plan = result.plans.iloc[0]
    assert plan["outcome"] == "Complete"
    during = result.decisions[
        (result.decisions["t_s"] >= plan["start_s"]) & (result.decisions["t_s"] <= plan["end_s"])
    ]
    ca = during[during["controller"] == "cluster-autoscaler"]["reason"]
    assert "ScaleUp" in set(ca)  # the CA added a node for the surge pods
    assert (during["controller"] == "hpa").any()  # the HPA synced (and decided) during the rollout
    after = result.decisions[result.decisions["t_s"] > plan["end_s"]]
    assert "ScaleDown" in set(after[after["controller"] == "cluster-autoscaler"]["reason"])


def test_daily_rollouts_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _both(rollout_month(3), 2, 3.0, monkeypatch)
    assert list(result.plans["outcome"]) == ["Complete"] * 3


def k3_rollouts(days: int = 2) -> simkit.Scenario:
    """The seed platform copied three times (bench/kplatform.py), a daily rollout of two copies'
    llm-agent-service (at 10:00 and 10:02, so they overlap) and of workflow-orchestrator-service-k3."""
    data = platform_data(3)
    data["simulation"]["duration"] = f"{days}d"
    plans = []
    for target, shift in (
        ("llm-agent-service", 0.0),
        ("llm-agent-service-k2", 120.0),
        ("workflow-orchestrator-service-k3", 600.0),
    ):
        for plan in daily_rollouts(days):
            plans.append(
                {**plan, "name": f"{plan['name']}-{target}", "target": target, "start": plan["start"] + shift}
            )
    data["plans"] = plans
    return simkit.Scenario.model_validate(data)


@pytest.mark.parametrize("seed", [1, 2])
def test_rollouts_on_a_k3_platform_identical(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that is not the seed's: three copies, overlapping rollouts of different targets."""
    result = _both(k3_rollouts(), seed, 2.0, monkeypatch)
    assert set(result.plans["outcome"]) == {"Complete"}


def test_each_fast_path_acts_in_these_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """The identity tests above mean something: every fast path changes the work in them."""
    seen = {
        "lean": 0,
        "noop": 0,
        "busy": 0,
        "recheck": 0,
        "deferred": 0,
        "dropped": 0,
        "first": 0,
        "restarted": 0,
    }
    read, repeats = ca_loop.pods_read_by_scale_down, ca_noop.NoOpScan.repeats
    recheck = ca_loop._Scanner._recheck
    reach, set_ready = traffic.TrafficModel.reach, traffic.TrafficModel.set_ready

    def counted_read(nodes, groups, state, now):  # type: ignore[no-untyped-def]
        out = read(nodes, groups, state, now)
        seen["lean"] += len(out) < sum(1 for n in nodes if n.group is not None)
        return out

    def counted_repeats(self, *args):  # type: ignore[no-untyped-def]
        out = repeats(self, *args)
        seen["noop"] += out
        seen["busy"] += out and bool(self.busy)  # a repeat of a scan that read NotUnderutilized nodes
        return out

    def counted_recheck(self, name):  # type: ignore[no-untyped-def]
        out = recheck(self, name)
        seen["recheck"] += out == "NotUnderutilized"  # a busy node's pods changed, and it is still busy
        return out

    def counted_reach(self, st, needed, until, defer=True):  # type: ignore[no-untyped-def]
        restarting = id(st) in self._restart and needed > st.computed_to
        reach(self, st, needed, until, defer)
        seen["deferred"] += id(st) in self._deferred and st.computed_to == needed
        seen["first"] += id(st) in self._restart and st.computed_to == needed  # a first tick alone
        seen["restarted"] += restarting  # ... and its chunk computed whole later

    def counted_set_ready(self, workload, ready, now):  # type: ignore[no-untyped-def]
        before = sum(id(st) in self._deferred for st in self.by_workload.get(workload, []))
        set_ready(self, workload, ready, now)
        seen["dropped"] += before - sum(id(st) in self._deferred for st in self.by_workload.get(workload, []))

    monkeypatch.setattr(ca_loop, "pods_read_by_scale_down", counted_read)
    monkeypatch.setattr(ca_noop.NoOpScan, "repeats", counted_repeats)
    monkeypatch.setattr(ca_loop._Scanner, "_recheck", counted_recheck)
    monkeypatch.setattr(traffic.TrafficModel, "reach", counted_reach)
    monkeypatch.setattr(traffic.TrafficModel, "set_ready", counted_set_ready)
    simkit.simulate(rollout_month(3), seed=2, duration=3 * DAY_S, progress=False)
    simkit.simulate(surge_case("60s"), seed=1, duration=DAY_S, progress=False)
    assert all(count > 0 for count in seen.values()), seen
