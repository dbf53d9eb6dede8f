"""Faults against closed forms, and the invariants that must hold whatever fails."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simkit.api import simulate
from simkit.engine.simulation import run_engine
from simkit.engine.state import PodPhase
from simkit.errors import ScenarioError
from simkit.scenario.loader import load_scenario, parse_scenario

SMALL = """
name: small
cluster:
  provider: aws
  region: us-east-1
  zones: [a, b, c]
  node_pools:
    - {name: app, instance_type: t3.xlarge, capacity_type: spot, min_nodes: 3, max_nodes: 3,
       autoscaling: false}
workloads:
  - name: web
    replicas: 3
    resources: {requests: {cpu: 500m, memory: 512Mi}}
    serving: {concurrency: 4, service_time: 20ms}
traffic:
  load: {base_rps: 5}
  routes: [{name: api, share: 1, path: [web]}]
slos: {availability: 99%}
simulation: {duration: 30d, resolution: 300s}
"""


def small(**overrides):
    return parse_scenario(SMALL, overrides=overrides)


def test_spot_interruptions_per_month_match_the_configured_rate():
    """Interruptions are Poisson at `monthly_rate` per node: the count over 3 node-months is Poisson."""
    rate, counts = 20.0, []
    sc = small(**{"faults.spot.monthly_rate": rate})
    for seed in range(4):
        r = simulate(sc, seed=seed, progress=False)
        counts.append(int((r.faults["kind"] == "spot-interruption").sum()))
    node_months = 3 * 30 * 86400 / (730 * 3600)
    expected = rate * node_months * len(counts)
    # two-sided Poisson test at the 0.1 % level; the few node-minutes without a node barely matter
    lo, hi = stats.poisson.ppf([0.0005, 0.9995], expected)
    assert lo <= sum(counts) <= hi, (counts, expected)


def test_band_rate_is_the_default():
    """t3.xlarge is in the <5 % band: 2.5 % per node-month (reliability.md §1 mapping)."""
    from simkit.catalog import load_catalog

    assert load_catalog().instance("aws", "us-east-1", "t3.xlarge").interruption_monthly_p == pytest.approx(
        0.025
    )


def _time_fraction_at_least(nodes: pd.DataFrame, k: int, duration: float) -> float:
    ready = (
        nodes.pivot_table(index="t_s", columns="zone", values="ready_nodes", aggfunc="last")
        .ffill()
        .sum(axis=1)
    )
    t = np.append(ready.index.to_numpy(), duration)
    return float(np.sum(np.diff(t) * (ready.to_numpy() >= k)) / duration)


def test_node_availability_matches_k_of_n():
    """Independent crashes and repairs: P(at least k of n ready) = sum C(n,i) A^i (1-A)^(n-i)."""
    annual = 3000.0  # an extreme rate so that 30 days show many failures
    sc = small(**{"faults.node_failures": {"annual_rate": annual}, "faults.spot.enabled": False})
    fractions, down = [], []
    for seed in range(3):
        r = simulate(sc, seed=seed, progress=False)
        fractions.append(_time_fraction_at_least(r.nodes, 2, r.duration_s))
        down.append(1 - _time_fraction_at_least(r.nodes, 3, r.duration_s))
    # repair = 50 s grace + 300 s toleration, then a new node: lognormal, median 120 s, p90 240 s
    sigma = math.log(2.0) / stats.norm.ppf(0.9)
    mttr = 350.0 + 120.0 * math.exp(sigma**2 / 2)
    lam = annual / (365 * 86400)
    a = 1 / (1 + lam * mttr)
    p_two = a**3 + 3 * a**2 * (1 - a)
    assert np.mean(fractions) == pytest.approx(p_two, abs=0.01)
    assert np.mean(down) == pytest.approx(1 - a**3, rel=0.15)


def _checker(errors: list[str]):
    def hook(engine):
        def check():
            while True:
                yield engine.env.timeout(30)
                for pod in engine.state.pods.values():
                    node = engine.state.nodes.get(pod.node) if pod.node else None
                    if pod.phase is PodPhase.READY and (node is None or not node.alive or not node.ready):
                        errors.append(f"{engine.env.now}: {pod.name} serves on lost node {pod.node}")
                for node in engine.state.alive_nodes():
                    if (
                        node.requested_cpu_m > node.alloc_cpu_m
                        or node.requested_mem_mib > node.alloc_mem_mib + 1e-6
                    ):
                        errors.append(f"{engine.env.now}: {node.name} over-committed")
                for w, n in engine.ready_count.items():
                    actual = sum(1 for p in engine.state.pods_of(w) if p.phase is PodPhase.READY)
                    if actual != n:
                        errors.append(f"{engine.env.now}: ready count of {w} is {n}, pods say {actual}")

        engine.env.process(check())

    return hook


@pytest.mark.parametrize("name", ["az-outage", "spot-storm"])
def test_invariants_hold_through_faults(name):
    sc = load_scenario(f"scenarios/{name}.yaml")
    errors: list[str] = []
    out = run_engine(sc, duration_s=20 * 3600, progress=False, hook=_checker(errors))
    assert errors == []
    services = out.traffic["services"]
    # no request is both served and failed: per tick, arrivals = served + timed out + change in backlog
    for _, s in services.groupby("service"):
        delta = np.diff(np.concatenate([[0.0], s["backlog"].to_numpy()]))
        np.testing.assert_allclose(s["served"] + s["timeouts"] + delta, s["arrivals"], rtol=1e-9, atol=1e-6)
    # tasks are conserved: arrivals = completed + lost + change in backlog
    for _, q in out.traffic["queues"].groupby("queue"):
        delta = np.diff(np.concatenate([[0.0], q["backlog"].to_numpy()]))
        np.testing.assert_allclose(q["completed"] + q["lost"] + delta, q["arrivals"], rtol=1e-9, atol=1e-6)


def test_az_outage_evicts_after_the_toleration_and_blocks_spread(az_outage):
    r = az_outage
    outage = r.faults[r.faults["kind"] == "az-outage"]["t_s"].iloc[0]
    evictions = r.events[r.events["reason"] == "TaintManagerEviction"]["t_s"] - outage
    # first node: grace 50 s, taint at once, then 300 s; the zone is fully disrupted: 10 s per further node
    assert evictions.min() == pytest.approx(350.0)
    assert sorted(evictions.unique()) == pytest.approx([350.0, 360.0, 370.0])
    blocked = r.events[
        (r.events["reason"] == "FailedScheduling")
        & r.events["message"].str.contains("didn't match pod topology spread constraints")
    ]
    assert len(blocked) > 0
    assert r.summary["nodes_lost"] == 3
    failover = r.faults[r.faults["kind"] == "failover"]
    assert len(failover) == 1 and failover["t_s"].iloc[0] == pytest.approx(outage + 35.0)
    assert r.summary["availability"] < 1.0  # requests through PostgreSQL failed during the failover


def test_quorum_loss_loses_tasks():
    sc = load_scenario(
        "scenarios/az-outage.yaml",
        overrides={
            "faults.az_outages": [
                {"zone": "us-east-1a", "at": "1h", "duration": "30m"},
                {"zone": "us-east-1b", "at": "1h", "duration": "30m"},
            ],
            "simulation.duration": "3h",
        },
    )
    r = simulate(sc, progress=False)
    lost = {k: v for k, v in r.summary.items() if k.startswith("tasks_lost.")}
    assert all(v > 0 for v in lost.values())
    q = r.queues[r.queues["queue"] == "audit-events"]
    down = q[(q["t_s"] >= 3600) & (q["t_s"] < 5400)]
    assert down["lost"].sum() == pytest.approx(down["arrivals"].sum())


def test_spot_shortage_backs_off_the_autoscaler_and_retries():
    r = simulate("scenarios/spot-storm.yaml", progress=False)
    failed = r.events[r.events["reason"] == "FailedToLaunch"]
    assert len(failed) >= 2
    assert failed["t_s"].min() >= 10 * 3600 and failed["t_s"].max() < 11 * 3600
    back = r.decisions[r.decisions["reason"] == "FailedToScaleUpGroup"]
    assert len(back) >= 1
    nodes = r.nodes[r.nodes["pool"] == "application-pool"].groupby("zone")["nodes"].last()
    assert nodes.sum() == 3  # back to the group's size once capacity returns


def test_fault_references_are_checked():
    with pytest.raises(ScenarioError, match=r"faults.az_outages\[0\].zone: unknown zone 'us-east-1z'"):
        load_scenario(
            "scenarios/az-outage.yaml",
            overrides={"faults.az_outages": [{"zone": "us-east-1z", "at": "1h", "duration": "1h"}]},
        )
    with pytest.raises(ScenarioError, match=r"faults.data_layer\[0\].workload: unknown workload 'postgres'"):
        load_scenario(overrides={"faults.data_layer": [{"workload": "postgres", "kind": "primary"}]})


def test_statefulset_pods_wait_for_their_zone_and_volume(az_outage):
    """A StatefulSet pod on an unreachable node stays Terminating (no kubelet confirms), so no successor
    is created until the zone returns; the successor then goes back to its volume's zone."""
    r = az_outage
    events = r.events
    outage_end = 16 * 3600
    created = events[(events["object"].str.startswith("postgresql-")) & (events["reason"] == "Scheduled")]
    assert len(created) == 1 and created["t_s"].iloc[0] >= outage_end
    node = created["message"].iloc[0].removeprefix("assigned to ")
    zones = r.nodes.set_index("pool")  # data-pool-0 is the first data node, in us-east-1a
    assert node == "data-pool-0" and "us-east-1a" in set(zones.loc["data-pool", "zone"])
    blocked = events[
        (events["object"].str.startswith("bff-service-")) & (events["reason"] == "FailedScheduling")
    ]
    assert blocked["message"].str.contains("didn't match pod topology spread constraints").all()


def test_spot_shortage_falls_back_to_an_on_demand_pool():
    """Spot launches fail, the cluster autoscaler backs the spot group off and scales the on-demand one
    (price expander: spot first while it can be had)."""
    sc = load_scenario(
        "scenarios/spot-storm.yaml",
        overrides={
            "traffic.load.growth": 10,
            "faults.spot.monthly_rate": 0.0,
            "faults.spot.reclaims": [],
            "faults.spot.shortages": [{"at": "8h", "duration": "4h", "pool": "application-pool"}],
            "simulation.duration": "12h",
        },
    )
    spot = sc.cluster.node_pools[0]
    fallback = spot.model_copy(
        update={"name": "application-ondemand", "capacity_type": "on-demand", "min_nodes": 0, "max_nodes": 10}
    )
    flags = {
        **(sc.cluster.cluster_autoscaler or {}),
        "expander": "price",
        "nodes": ["3:20:application-pool", "0:10:application-ondemand"],
    }
    cluster = sc.cluster.model_copy(
        update={"node_pools": [spot, fallback, *sc.cluster.node_pools[1:]], "cluster_autoscaler": flags}
    )
    r = simulate(sc.model_copy(update={"cluster": cluster}), progress=False)
    d = r.decisions[r.decisions["controller"] == "cluster-autoscaler"]
    backoff = d[d["reason"] == "FailedToScaleUpGroup"]
    assert len(backoff) >= 1 and (backoff["object"] == "application-pool").all()
    t_fail = backoff["t_s"].min()
    assert 8 * 3600 <= t_fail < 12 * 3600
    ups = d[(d["reason"] == "ScaleUp") & (d["to"] > d["from"])]
    assert (ups[ups["t_s"] < 8 * 3600]["object"] == "application-pool").all()  # spot while it can be had
    assert ((ups["object"] == "application-ondemand") & (ups["t_s"] >= t_fail)).any()
