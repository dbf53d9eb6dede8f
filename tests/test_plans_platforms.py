"""Plan verdicts on platforms that are not the seed: imported Online Boutique and Sock Shop, and the
seed copied three times (bench/kplatform.py).

The manifests are read from ../shared/manifests (never copied here). Each plan is added through the
API (the imported scenario's data plus a `plans:` entry), run on two seeds at 60 s and 15 s
resolution, and its verdict checked against the semantics in ../shared/reference/rollout_spec.md
(Deployment fenceposts: surge rounds up, unavailable down, both 0 -> unavailable 1; PDB
disruptionsAllowed; eviction 429) and the providers' documented upgrade defaults:

- a rollout keeps Σ pods <= desired + maxSurge and available >= desired - maxUnavailable at every
  step and at every change of the target's ready count (no outside disruption during it), and ends
  with every replica ready: no pod lost;
- a node-pool upgrade surges max(2 x AZs, maxUnavailable) nodes on EKS, maxSurge on GKE, ceil(10 % or
  the given share) on AKS; a PDB it waits on is named; with minAvailable = replicas EKS fails with
  PodEvictionFailure after 15 minutes naming the PDB;
- extra cost = extra node-hours (recomputed here from `result.nodes`) x the instance's price in
  ../shared/reference/prices.csv;
- event-driven durations do not depend on the traffic resolution.
"""

from __future__ import annotations

import copy
import csv
import math
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import simkit
from bench.kplatform import platform_data
from simkit.export.importer import import_manifests
from simkit.results import RunResult


def _shared(*parts: str) -> Path | None:
    for parent in Path(__file__).resolve().parents:
        path = parent.joinpath("shared", *parts)
        if path.exists():
            return path
    return None


MANIFESTS = _shared("manifests")
PRICES = _shared("reference", "prices.csv")
needs_shared = pytest.mark.skipif(MANIFESTS is None or PRICES is None, reason="needs ../shared")

# (the 1-replica Deployment the manifests have, a Deployment scaled here to 4 replicas with a PDB)
PLATFORMS = {"online-boutique": ("frontend", "productcatalogservice"), "sock-shop": ("front-end", "carts")}
BIG = 4
CLOUDS = {
    "aws": ("us-east-1", ["us-east-1a", "us-east-1b", "us-east-1c"], "m5.xlarge"),
    "gcp": ("us-central1", ["us-central1-a", "us-central1-b", "us-central1-c"], "e2-standard-4"),
    "azure": ("eastus", ["eastus-1", "eastus-2", "eastus-3"], "Standard_D4s_v3"),
}
START = 7200.0
UPGRADE = {"name": "up", "kind": "node-pool-upgrade", "target": "general", "start": "2h"}
CANARY_STEPS = [
    {"setWeight": 20},
    {"pause": {"duration": "5m"}},
    {"setWeight": 50},
    {"pause": {"duration": "5m"}},
    {"setWeight": 100},
]
# case -> (provider, the big workload's PDB, the plan with TARGET/BIG placeholders, expected outcome)
CASES: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any], str]] = {
    "rollout-25-25": ("aws", None, {"kind": "rollout", "target": "SMALL"}, "Complete"),
    "rollout-surge0-big": (
        "aws",
        {"maxUnavailable": 1},
        {"kind": "rollout", "target": "BIG", "strategy": {"rollingUpdate": {"maxSurge": 0}}},
        "Complete",
    ),
    "rollout-surge0-small": (
        "aws",
        None,
        {"kind": "rollout", "target": "SMALL", "strategy": {"rollingUpdate": {"maxSurge": 0}}},
        "Complete",
    ),
    "canary": (
        "aws",
        None,
        {"kind": "canary", "target": "SMALL", "canary": {"steps": CANARY_STEPS}},
        "Complete",
    ),
    "eks-upgrade": (
        "aws",
        {"maxUnavailable": 1},
        {**UPGRADE, "updateConfig": {"maxUnavailable": 1}},
        "Complete",
    ),
    "gke-upgrade": (
        "gcp",
        {"maxUnavailable": 1},
        {**UPGRADE, "upgradeSettings": {"maxSurge": 1, "maxUnavailable": 0}},
        "Complete",
    ),
    "aks-upgrade": (
        "azure",
        {"maxUnavailable": 1},
        {**UPGRADE, "upgradeSettings": {"maxSurge": "33%"}},
        "Complete",
    ),
    "drain-zone": (
        "aws",
        {"maxUnavailable": 1},
        {"kind": "drain", "target": "ZONE", "ignoreDaemonsets": True},
        "Complete",
    ),
    "eks-deadlock": (
        "aws",
        {"minAvailable": BIG},
        {**UPGRADE, "updateConfig": {"maxUnavailable": 1}},
        "PodEvictionFailure",
    ),
}
RUNS = [(p, c, seed, res) for p in PLATFORMS for c in CASES for seed in (0, 7) for res in ("60s", "15s")]


@cache
def _imported(platform: str) -> str:
    assert MANIFESTS is not None
    return import_manifests([MANIFESTS / platform]).text


def scenario(platform: str, case: str, seed: int, resolution: str) -> simkit.Scenario:
    """The imported platform on `provider`'s cloud, the big workload at 4 replicas with its PDB, neither
    it nor the small one with an HPA (their desired counts stay put: imported CPU HPAs read load,
    simkit/export/import_serving.py), and the case's plan at 2 h."""
    small, big = PLATFORMS[platform]
    provider, pdb, plan, _ = CASES[case]
    data = yaml.safe_load(_imported(platform))
    region, zones, instance = CLOUDS[provider]
    cluster = data["cluster"]
    cluster.update(provider=provider, region=region, zones=zones)
    for pool in cluster["node_pools"]:
        pool["instance_type"] = instance
    for w in data["workloads"]:
        if w["name"] == small:
            w.pop("hpa", None)
        if w["name"] == big:
            w["replicas"] = BIG
            w.pop("hpa", None)
            if pdb is not None:
                w["pdb"] = pdb
    names = {"SMALL": small, "BIG": big, "ZONE": f"topology.kubernetes.io/zone={zones[0]}"}
    plan = {"name": "plan", "start": "2h", **copy.deepcopy(plan)}
    plan["target"] = names.get(plan["target"], plan["target"])
    data["plans"] = [plan]
    data["simulation"].update(seed=seed, resolution=resolution, duration="3h")
    return simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False))


@cache
def _run(platform: str, case: str, seed: int, resolution: str) -> RunResult:
    return simkit.simulate(scenario(platform, case, seed, resolution))


def fenceposts(surge: Any, unavailable: Any, desired: int) -> tuple[int, int]:
    """rollout_spec.md `resolve_fenceposts`: surge rounds up, unavailable down, both 0 -> 1."""

    def scaled(v: Any, up: bool) -> int:
        if isinstance(v, int):
            return v
        x = int(v[:-1]) * desired / 100
        return math.ceil(x) if up else math.floor(x)

    s, u = scaled(surge, True), scaled(unavailable, False)
    return (s, 1) if s == 0 and u == 0 else (s, u)


def _price(provider: str, region: str, instance: str) -> float:
    assert PRICES is not None
    with PRICES.open() as f:
        for row in csv.DictReader(f):
            if (row["provider"], row["region"], row["item"], row["kind"]) == (
                provider,
                region,
                instance,
                "compute_ondemand_linux",
            ):
                return float(row["price_usd"])
    raise AssertionError(f"no price for {provider} {region} {instance}")


def node_levels(nodes: pd.DataFrame) -> dict[str, list[tuple[float, int]]]:
    """Per pool, (time, nodes in all its zones) after each change, from `result.nodes` (rows are per
    pool and zone, each the level from then on)."""
    out: dict[str, list[tuple[float, int]]] = {}
    for pool, rows in nodes.groupby("pool"):
        level: dict[str, int] = {}
        changes: list[tuple[float, int]] = []
        for t, zone, n in rows[["t_s", "zone", "nodes"]].itertuples(index=False):
            level[zone] = int(n)
            if changes and changes[-1][0] == t:
                changes[-1] = (t, sum(level.values()))
            else:
                changes.append((t, sum(level.values())))
        out[str(pool)] = changes
    return out


def extra_node_hours(nodes: pd.DataFrame, start: float, end: float) -> float:
    """Node-hours above each pool's node count at `start`, in [start, end], from `result.nodes`."""
    total = 0.0
    for changes in node_levels(nodes).values():
        at_start = [n for t, n in changes if t <= start][-1]
        for (t0, n), (t1, _) in zip(changes, changes[1:] + [(math.inf, 0)], strict=True):
            lo, hi = max(t0, start), min(t1, end)
            if hi > lo:
                total += max(0, n - at_start) * (hi - lo) / 3600
    return total


def _ready(result: RunResult, workload: str) -> pd.DataFrame:
    rep = result.replicas
    return rep[rep.workload == workload]


def _no_pod_lost(result: RunResult) -> None:
    """At the end every workload has all its desired replicas ready."""
    rep = result.replicas
    last = rep.sort_values("t_s").groupby("workload").tail(1)
    assert (last.ready == last.desired).all(), last[last.ready != last.desired]


@needs_shared
@pytest.mark.parametrize(("platform", "case", "seed", "resolution"), RUNS)
def test_plan_verdict_on_imported_platform(platform: str, case: str, seed: int, resolution: str) -> None:
    result = _run(platform, case, seed, resolution)
    sc = result.scenario
    provider, pdb, plan_spec, outcome = CASES[case]
    (plan,) = sc.plans
    row = result.plans.iloc[0]
    assert row.outcome == outcome, row.message
    assert row.start_s == START
    if plan.kind in ("rollout", "canary"):
        _check_workload_plan(result, plan, row)
    else:
        _check_node_plan(result, plan, row, provider)
    if outcome == "Complete":
        _no_pod_lost(result)
    # extra cost = extra node-hours x the price; the node-hours recomputed from the nodes table
    hours = extra_node_hours(result.nodes, row.start_s, row.end_s)
    assert row.extra_node_hours == pytest.approx(hours, rel=1e-9, abs=1e-9)
    region, _, instance = CLOUDS[provider]
    assert row.extra_cost_usd_total == pytest.approx(hours * _price(provider, region, instance), rel=1e-6)


def _check_workload_plan(result: RunResult, plan: Any, row: Any) -> None:
    w = result.scenario.workload(plan.target)
    desired = w.replicas
    if plan.kind == "rollout":
        rolling = plan.strategy.rollingUpdate if plan.strategy is not None else None
        surge_spec = rolling.maxSurge if rolling is not None and rolling.maxSurge is not None else "25%"
        unav_spec = (
            rolling.maxUnavailable if rolling is not None and rolling.maxUnavailable is not None else "25%"
        )
    else:  # Argo canary: maxSurge/maxUnavailable default 25 % / 25 % (argo-rollouts defaults.go)
        surge_spec, unav_spec = "25%", "25%"
    surge, unavailable = fenceposts(surge_spec, unav_spec, desired)
    if plan.kind == "canary" and desired == 1:
        surge = 1  # 20 % of 1 replica: Argo runs 1 canary beside 1 stable (canary.go, over spec replicas)
    assert row.peak_pods <= desired + surge
    assert row.min_available >= desired - unavailable
    steps = result.plan_steps
    assert (steps.pods <= steps.desired + surge).all(), steps
    assert (steps.available >= steps.desired - unavailable).all(), steps
    ready = _ready(result, w.name)
    window = ready[(ready.t_s >= row.start_s) & (ready.t_s <= row.end_s)]
    assert (window.ready >= desired - unavailable).all(), window
    # the 1-replica Deployment with 25 %/25 %: unavailable rounds to 0, surge to 1 -> never 0 ready
    if desired == 1 and unavailable == 0:
        assert row.min_available == 1 and row.peak_pods == 2 and (window.ready >= 1).all()
    # maxSurge 0 on 1 replica: 25 % of 1 rounds to 0, both 0 -> maxUnavailable 1: it does drop to 0
    if desired == 1 and surge == 0:
        assert row.min_available == 0 and row.peak_pods == 1 and row.errors > 0
    # durations: a pod becomes ready no sooner than its readiness probe's initial delay; maxSurge 0 on
    # 4 replicas with maxUnavailable 1 replaces them one at a time
    delay = w.readinessProbe.initialDelaySeconds if w.readinessProbe is not None else 0
    per_pod = max(delay, 1)
    batches = math.ceil(desired / max(surge + unavailable, 1)) if plan.kind == "rollout" else 1
    assert row.duration_s >= batches * per_pod
    assert row.duration_s <= plan.progressDeadlineSeconds + 600 * (plan.kind == "canary") + 60
    if plan.kind == "canary":
        assert row.duration_s >= 600  # two 5-minute pauses


def _check_node_plan(result: RunResult, plan: Any, row: Any, provider: str) -> None:
    sc = result.scenario
    small, big = next(v for v in PLATFORMS.values() if v[1] in {w.name for w in sc.workloads})
    pool = sc.cluster.node_pools[0]
    steps = result.plan_steps
    ev = result.events
    if plan.kind == "node-pool-upgrade":
        surge = {"aws": max(2 * 3, 1), "gcp": 1, "azure": math.ceil(0.33 * pool.min_nodes)}[provider]
        assert row.peak_nodes == pool.min_nodes + surge
        if row.outcome == "Complete":  # every old node replaced (EKS, GKE) or reimaged in place (AKS)
            nodes = ev[ev.kind == "Node"]
            removed = set(nodes[nodes.reason == "NodeRemoved"].object)
            reimaged = set(nodes[(nodes.reason == "NodeReady") & (nodes.message == "reimaged")].object)
            old = {f"{pool.name}-{i}" for i in range(pool.min_nodes)}
            assert old <= (reimaged if provider == "azure" else removed)
    blocked = ev[ev.reason == "EvictionBlocked"]
    pdb = f"{big}-pdb"
    assert blocked.empty or blocked.message.str.contains(pdb).all()
    if row.outcome == "PodEvictionFailure":
        failed = steps[steps.reason == "PodEvictionFailure"].iloc[0]
        assert failed.end_s - failed.start_s == pytest.approx(900, abs=5)  # EKS's 15 minutes
        assert f"(PDB {pdb})" in failed.waited and f"(PDB {pdb})" in row.message
        return
    # the PDB holds: the big workload never has fewer ready than the budget allows
    ready = _ready(result, big)
    window = ready[(ready.t_s >= row.start_s) & (ready.t_s <= row.end_s)]
    assert (window.ready >= BIG - 1).all(), window
    if not blocked.empty:
        assert steps.waited.str.contains(f"eviction 429 (PDB {pdb})", regex=False).any()


@needs_shared
@pytest.mark.parametrize(("platform", "case"), [(p, c) for p in PLATFORMS for c in CASES])
def test_verdict_does_not_depend_on_the_traffic_resolution(platform: str, case: str) -> None:
    """Plans are discrete events: duration, outcome, peak pods and nodes, extra node-hours agree at
    60 s and 15 s resolution (same seed)."""
    cols = ["outcome", "duration_s", "peak_pods", "min_available", "peak_nodes", "extra_node_hours"]
    for seed in (0, 7):
        a, b = (_run(platform, case, seed, res).plans[cols] for res in ("60s", "15s"))
        pd.testing.assert_frame_equal(a, b)


def test_rollout_of_every_copy_of_a_3x_platform_at_once() -> None:
    """bench/kplatform.py K = 3: all 21 application Deployments roll out at 14:00 together (with the
    HPAs acting, the cluster autoscaler adding nodes for the surge): each completes within the
    fenceposts of the desired count at that step, and every replica is back at the end."""
    data = platform_data(3)
    apps = [w for w in data["workloads"] if w.get("namespace") == "application"]
    data["plans"] = [
        {"name": f"roll-{w['name']}", "kind": "rollout", "target": w["name"], "start": "14h"} for w in apps
    ]
    result = simkit.simulate(simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False)))
    plans = result.plans
    assert len(plans) == 21 and (plans.outcome == "Complete").all(), plans
    steps = result.plan_steps
    for _, s in steps.iterrows():
        surge, unavailable = fenceposts("25%", "25%", int(s.desired))
        assert s.pods <= s.desired + surge and s.available >= s.desired - unavailable, s
    for p in plans.itertuples():
        w = result.scenario.workload(p.target)
        surge, unavailable = fenceposts("25%", "25%", w.replicas)
        ready = _ready(result, p.target)
        window = ready[(ready.t_s >= p.start_s) & (ready.t_s <= p.end_s)]
        assert (window.ready >= window.desired - unavailable).all(), (p.plan, window)
        assert p.duration_s < 600
    _no_pod_lost(result)
    # the surge needed nodes: the cluster grew during the plans and the extra cost is priced
    assert (plans.extra_node_hours > 0).any()
    assert plans.extra_cost_usd_total.sum() > 0


# ------------------------------------------------------------------ canary analysis on Sock Shop
def _canary(error_rate: float, resolution: str, never_ready: bool = False) -> RunResult:
    """Sock Shop's front-end (1 replica) under a basic Argo canary, 50 % then a 10-minute pause, a
    background analysis from the start measuring a 99 % success rate every 30 s."""
    data = yaml.safe_load(_imported("sock-shop"))
    data["plans"] = [
        {
            "name": "fe",
            "kind": "canary",
            "target": "front-end",
            "start": "2h",
            "canary": {"analysis": {}, "steps": [{"setWeight": 50}, {"pause": {"duration": "10m"}}]},
            "metrics": {"successRate": 0.99, "interval": "30s"},
            "serving": {"error_rate": error_rate},
            "never_ready": never_ready,
        }
    ]
    data["simulation"].update(resolution=resolution, duration="3h")
    return simkit.simulate(simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False)))


def _analysis(result: RunResult) -> pd.DataFrame:
    ev = result.events
    return ev[ev.kind == "AnalysisRun"]


@needs_shared
def test_analysis_before_the_canary_serves_has_no_data_and_does_not_fail_the_run() -> None:
    """Measured before any canary pod is ready, the canary has no requests: Argo records an Error
    measurement (empty query result), not a failure; the failing version is caught on the first
    measurement with data, after it has served (it used to abort at 0 s with 0 canary pods)."""
    result = _canary(0.5, "60s")
    row = result.plans.iloc[0]
    ev = _analysis(result)
    assert row.outcome == "Aborted"
    ready = result.plan_steps.iloc[0].end_s  # the canary pod Ready: WaitingForReplicaCounts ends
    assert ready > START
    before = ev[ev.t_s < ready]
    assert len(before) >= 1 and (before.reason == "MeasurementError").all()
    assert before.message.str.contains("no data").all()
    failed = ev[ev.reason == "MeasurementFailed"]
    assert len(failed) == 1 and failed.t_s.iloc[0] >= ready
    assert row.end_s > failed.t_s.iloc[0] and row.duration_s > 60


@needs_shared
def test_a_canary_that_never_serves_ends_after_the_consecutive_error_limit() -> None:
    """No data five times in a row (more than Argo's default consecutiveErrorLimit 4) ends the
    background analysis in Error, which aborts the rollout: at the 5th measurement, 4 x 30 s in."""
    result = _canary(0.0, "60s", never_ready=True)
    row = result.plans.iloc[0]
    ev = _analysis(result)
    assert row.outcome == "Aborted"
    assert list(ev.reason) == ["MeasurementError"] * 5
    assert ev.t_s.iloc[-1] - START == pytest.approx(120)
    assert ev.message.iloc[-1].endswith("(5 in a row) -> Failed")


@needs_shared
def test_canary_errors_are_counted_whatever_the_resolution() -> None:
    """The failing canary serves half of front-end's requests from its pod's Ready until the abort:
    its errors are error_rate x its share of the requests in that time, at 60 s as at 15 s (they were
    read at each tick's start, so a canary that served mid-tick had none at 60 s)."""
    rows = [_canary(0.5, res).plans.iloc[0] for res in ("60s", "15s")]
    steps = _canary(0.5, "60s").plan_steps
    served = steps[steps.reason == "RolloutAborted"].iloc[0].start_s - steps.iloc[0].end_s
    rps = yaml.safe_load(_imported("sock-shop"))["traffic"]["load"]["base_rps"]
    expected = 0.5 * 0.5 * rps * served  # front-end is on every route: all of the load
    assert served > 0
    for row in rows:
        assert row.errors >= expected * 0.99
    assert rows[0].errors == pytest.approx(rows[1].errors, rel=0.05)


# ------------------------------------------------------------------ Flagger on Sock Shop
FLAGGER = {
    "interval": "30s",
    "threshold": 2,
    "maxWeight": 50,
    "stepWeight": 25,
    "metrics": [{"name": "request-success-rate", "thresholdRange": {"min": 99}}],
}


@pytest.mark.parametrize(
    ("phase", "ready", "weight", "iterations", "failed", "runs"),
    [
        ("Progressing", True, 25, 0, 0, True),
        ("Progressing", False, 25, 0, 0, False),  # IsCanaryReady first: not ready -> wait
        ("Progressing", True, 0, 0, 0, False),  # no traffic to the canary yet: advance, no check
        ("Progressing", True, 0, 1, 0, True),  # blue/green iterations: checked at weight 0
        ("Progressing", True, 25, 0, 2, False),  # threshold reached: rollback before any check
        ("Promoting", True, 50, 0, 0, False),
    ],
)
def test_flagger_analysis_runs_table(
    phase: str, ready: bool, weight: int, iterations: int, failed: int, runs: bool
) -> None:
    from simkit.control.progressive.flagger import FlaggerSpec, FlaggerState, analysis_runs

    st = FlaggerState(phase=phase, weight=weight, iterations=iterations, failed_checks=failed)
    assert analysis_runs(FlaggerSpec(threshold=2, step_weight=25, max_weight=50), st, ready) is runs


@needs_shared
def test_failing_flagger_canary_is_judged_under_traffic_and_its_errors_counted() -> None:
    """Flagger skips the check while no traffic goes to the canary (weight 0): it advances to
    stepWeight 25 first, fails `threshold` checks under that traffic, then rolls back. The plan's
    errors are the canary's: 50 % of its 25 % of front-end's requests while it had them (they were
    0: the canary was failed at weight 0, before it served anything)."""
    data = yaml.safe_load(_imported("sock-shop"))
    data["plans"] = [
        {
            "name": "fl",
            "kind": "canary",
            "target": "front-end",
            "start": "2h",
            "analysis": FLAGGER,
            "serving": {"error_rate": 0.5},
        }
    ]
    data["simulation"]["duration"] = "3h"
    result = simkit.simulate(simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False)))
    row = result.plans.iloc[0]
    ev = result.events[result.events.kind == "Canary"]
    assert row.outcome == "Aborted"
    advanced = ev[ev.reason == "AdvanceCanaryWeight"]
    assert list(advanced.message) == ["phase Progressing, weight 25"]
    checks = ev[(ev.reason == "MetricCheckFailed") & ev.message.str.startswith("success rate")]
    assert len(checks) == 2 and (checks.t_s > advanced.t_s.iloc[0]).all()  # threshold 2, under traffic
    assert checks.t_s.diff().dropna().eq(30.0).all()
    rollback = ev[ev.reason == "Rollback"].t_s.iloc[0]
    assert rollback == checks.t_s.iloc[-1] + 30 == row.end_s
    rps = data["traffic"]["load"]["base_rps"]
    assert row.errors == pytest.approx(0.5 * 0.25 * rps * (rollback - advanced.t_s.iloc[0]), rel=0.01)


@needs_shared
@pytest.mark.parametrize("resolution", ["60s", "15s"])
def test_canary_figures_per_version(resolution: str) -> None:
    """A routed Argo canary of Sock Shop's front-end at 20 % for 10 minutes, the new version 3x
    slower and failing 2 %: `result.plans` tells the canary's own requests, errors and P95 from the
    stable's (the pooled columns mix them), as an analysis of each version would see them."""
    data = yaml.safe_load(_imported("sock-shop"))
    fe = next(w for w in data["workloads"] if w["name"] == "front-end")
    fe["replicas"] = 5
    fe.pop("hpa", None)
    base_s = float(fe.get("serving", {}).get("service_time", 0.02))
    data["plans"] = [
        {
            "name": "fe",
            "kind": "canary",
            "target": "front-end",
            "start": "2h",
            "canary": {
                "trafficRouting": {"istio": {"virtualService": {"name": "front-end"}}},
                "steps": [{"setWeight": 20}, {"pause": {"duration": "10m"}}, {"setWeight": 100}],
            },
            "serving": {"service_time": f"{3 * base_s}s", "error_rate": 0.02},
        }
    ]
    data["simulation"].update(duration="3h", resolution=resolution)
    result = simkit.simulate(simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False)))
    row = result.plans.iloc[0]
    assert row.outcome == "Complete"
    # front-end is on every route: its requests are the routes' requests, split between the versions
    assert row.new_requests + row.old_requests == pytest.approx(row.requests, rel=1e-6)
    assert 0.2 * 600 / (row.end_s - row.start_s + 60) < row.new_requests / row.requests < 1
    assert row.new_errors == pytest.approx(0.02 * row.new_requests)
    assert row.old_errors == 0
    assert row.new_p95_ms > 2.5 * row.old_p95_ms  # 3x the service time, not queueing-bound at 10 rps
    assert row.new_p95_ms == pytest.approx(3 * row.old_p95_ms, rel=0.2)


def test_non_progressive_plans_have_no_version_figures() -> None:
    result = simkit.simulate(
        simkit.load_scenario(Path(__file__).parents[1] / "scenarios" / "rollout-at-peak.yaml")
    )
    cols = ["new_requests", "new_errors", "new_p95_ms", "old_requests", "old_errors", "old_p95_ms"]
    assert result.plans[cols].isna().all().all()


@needs_shared
def test_after_a_failed_upgrade_the_autoscaler_removes_the_surplus_surge_nodes() -> None:
    """EKS leaves the pool as it is after PodEvictionFailure: 3 old nodes cordoned, 6 surge nodes.
    The cluster autoscaler counts the cordoned nodes as leaving, once, and scales the surplus down
    (they were subtracted twice from the group's size, so the 9 nodes stayed for the rest of the
    run and the run's cost kept them)."""
    sc = scenario("online-boutique", "eks-deadlock", 0, "60s")
    data = sc.model_dump(mode="json", exclude_unset=True)
    data["simulation"]["duration"] = "5h"
    result = simkit.simulate(simkit.parse_scenario(yaml.safe_dump(data, sort_keys=False)))
    row = result.plans.iloc[0]
    assert row.outcome == "PodEvictionFailure" and row.peak_nodes == 9
    nodes = result.nodes[result.nodes.pool == "general"]
    last = nodes.sort_values("t_s").groupby("zone").tail(1)
    assert last.nodes.sum() < 9
    removed = result.events[(result.events.reason == "NodeRemoved") & (result.events.t_s > row.end_s)]
    assert len(removed) >= 1
    _no_pod_lost(result)
