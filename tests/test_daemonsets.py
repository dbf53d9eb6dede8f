"""DaemonSets: one pod per matching node, their requests out of every node's room, the autoscaler's view."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.api import simulate
from simkit.control.ca import CAFlags
from simkit.control.ca.drain import node_utilization
from simkit.control.daemonset import (
    DAEMON_POD_TOLERATIONS,
    FAILED_SCHEDULING,
    daemon_pod_tolerations,
    place_daemon_pods,
    should_run,
)
from simkit.control.scheduler import insufficient_resources, tolerates
from simkit.control.types import NodeView, PodSpec, Taint, Toleration
from simkit.engine.ca_loop import CAInputs, ca_group
from simkit.engine.simulation import Engine, run_engine
from simkit.engine.state import PodPhase
from simkit.scenario.loader import load_scenario, parse_scenario
from simkit.scenario.model import Scenario

# Two pools of t3.xlarge: "app" (labelled, no taint) and "data" (tainted workload=data:NoSchedule).
BASE = """
name: ds
cluster:
  provider: aws
  region: us-east-1
  zones: [a, b]
  node_pools:
    - {name: app, instance_type: t3.xlarge, min_nodes: 2, max_nodes: 2, autoscaling: false,
       labels: {workload: app}}
    - {name: data, instance_type: t3.xlarge, min_nodes: 1, max_nodes: 1, autoscaling: false,
       labels: {workload: data}, taints: [{key: workload, value: data, effect: NoSchedule}]}
workloads:
  - name: web
    replicas: 2
    resources: {requests: {cpu: 500m, memory: 512Mi}}
    serving: {concurrency: 4, service_time: 20ms}
traffic:
  load: {base_rps: 5}
  routes: [{name: api, share: 1, path: [web]}]
simulation: {duration: 1h, resolution: 60s}
"""

EXAMPLE = Path(__file__).parents[1] / "scenarios" / "daemonsets-eks.yaml"
NO_DATA_POOL = {"cluster.node_pools.1.min_nodes": 0, "cluster.node_pools.1.max_nodes": 0}
DATA_TOLERATION = {"key": "workload", "operator": "Equal", "value": "data", "effect": "NoSchedule"}


def scenario(**overrides: Any) -> Scenario:
    return parse_scenario(BASE, overrides=overrides)


def ds(name: str = "agent", cpu: str = "100m", memory: str = "64Mi", **fields: Any) -> dict[str, Any]:
    return {"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}, **fields}


def bootstrapped(sc: Scenario) -> Engine:
    engine = Engine(sc, seed=0, duration_s=3600.0)
    engine._bootstrap()
    return engine


def run(sc: Scenario, duration: float = 3600.0) -> Engine:
    """Run the engine and hand back the engine itself, to look at its final cluster state."""
    seen: list[Engine] = []
    run_engine(sc, seed=1, duration_s=duration, hook=seen.append)
    return seen[0]


def daemon_pods_by_node(engine: Engine) -> dict[str, set[str]]:
    return {n.name: {p.workload for p in engine.state.daemon_pods_on(n)} for n in engine.state.alive_nodes()}


def assert_every_node_has_its_daemon_pods(engine: Engine, expected: set[str]) -> None:
    """Every alive node runs exactly `expected`; no DaemonSet pod is left on a removed node."""
    assert daemon_pods_by_node(engine) == {n.name: expected for n in engine.state.alive_nodes()}
    alive = {n.name for n in engine.state.alive_nodes()}
    assert {p.node for p in engine.state.daemon_pods.values()} <= alive


# ----------------------------------------------------------------------------- which nodes
@pytest.mark.parametrize(
    ("fields", "pools"),
    [
        ({}, {"app"}),  # the data pool's taint is not tolerated
        ({"tolerations": [{"operator": "Exists"}]}, {"app", "data"}),  # tolerates everything
        ({"tolerations": [DATA_TOLERATION]}, {"app", "data"}),
        ({"tolerations": [{**DATA_TOLERATION, "value": "db"}]}, {"app"}),  # wrong value
        ({"nodeSelector": {"workload": "data"}, "tolerations": [DATA_TOLERATION]}, {"data"}),
        ({"nodeSelector": {"workload": "data"}}, set()),  # selected, but the taint is not tolerated
        ({"nodeSelector": {"workload": "nowhere"}, "tolerations": [{"operator": "Exists"}]}, set()),
    ],
    ids=["plain", "exists", "tolerates-data", "wrong-value", "data-only", "selected-untolerated", "no-match"],
)
def test_a_daemonset_pod_lands_on_every_matching_node_and_only_there(fields, pools):
    engine = bootstrapped(scenario(daemonsets=[ds(**fields)]))
    for node in engine.state.alive_nodes():
        assert daemon_pods_by_node(engine)[node.name] == ({"agent"} if node.pool in pools else set())
    assert len(engine.state.daemon_pods) == sum(1 for n in engine.state.alive_nodes() if n.pool in pools)


def test_daemonset_pods_get_the_controllers_tolerations():
    """Kubernetes docs, "DaemonSet" / "Taints and tolerations": six tolerations are always added;
    one the user gave with the same key/operator/value/effect is replaced (no tolerationSeconds)."""
    own = (Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute", 60.0),)
    got = daemon_pod_tolerations(own)
    assert set(got) == set(DAEMON_POD_TOLERATIONS) and len(got) == 6
    for key, effect in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ]:
        assert tolerates(got, Taint(key, "", effect))
    assert not tolerates(got, Taint("workload", "data", "NoSchedule"))
    assert daemon_pod_tolerations(got) == got  # adding them again changes nothing


# -------------------------------------------------------------------- room left on a node
@pytest.mark.parametrize(
    ("ds_cpu", "spare", "fits"),
    [(0, 0, True), (250, 0, True), (250, 1, False), (250, -1, True), (1000, 1, False)],
)
def test_allocatable_left_for_workloads_is_reduced_exactly_by_daemonset_requests(ds_cpu, spare, fits):
    """A pod asking for allocatable − DaemonSet requests (+ `spare` m) fits iff spare <= 0."""
    sc = scenario(daemonsets=[ds(cpu=f"{ds_cpu}m", memory="0")] if ds_cpu else [])
    alloc = Engine(sc, 0, 3600.0).pool_shape(sc.pool("app")).cpu_m
    sc = scenario(
        **{
            **NO_DATA_POOL,
            "daemonsets": [ds(cpu=f"{ds_cpu}m", memory="0")] if ds_cpu else [],
            "cluster.node_pools.0.min_nodes": 1,
            "cluster.node_pools.0.max_nodes": 1,
            "workloads.0.replicas": 1,
            "workloads.0.nodeSelector": {"workload": "app"},
            "workloads.0.resources.requests.cpu": f"{alloc - ds_cpu + spare}m",
        }
    )
    engine = bootstrapped(sc)
    (node,) = [n for n in engine.state.alive_nodes() if n.pool == "app"]
    pods = engine.state.pods_of("web")
    assert (pods[0].node == node.name) is fits
    assert node.requested_cpu_m == ds_cpu + (pods[0].spec.cpu_m if fits else 0)
    if not fits:
        message = "0/1 nodes are available: 1 Insufficient cpu."
        assert pods[0].last_unschedulable_msg == message
        events = pd.DataFrame(engine.out.event_rows, columns=["t_s", "kind", "object", "reason", "message"])
        assert ((events["reason"] == "FailedScheduling") & (events["message"] == message)).any()


def test_daemonset_pods_count_against_max_pods():
    sc = scenario(
        **{
            "daemonsets": [ds("one", cpu="10m"), ds("two", cpu="10m")],
            "cluster.node_pools.0.max_pods": 3,
            "workloads.0.replicas": 4,
            "workloads.0.nodeSelector": {"workload": "app"},
        }
    )
    engine = bootstrapped(sc)
    placed = [p for p in engine.state.pods_of("web") if p.node is not None]
    assert len(placed) == 2  # one per app node: 2 DaemonSet pods + 1 = max 3
    pending = [p for p in engine.state.pods_of("web") if p.node is None]
    assert len(pending) == 2 and all("Too many pods" in p.last_unschedulable_msg for p in pending)


def test_a_daemonset_too_big_for_the_node_stays_pending_with_the_schedulers_message():
    engine = bootstrapped(scenario(daemonsets=[ds("huge", cpu="64")]))
    assert not engine.state.daemon_pods
    events = pd.DataFrame(engine.out.event_rows, columns=["t_s", "kind", "object", "reason", "message"])
    failed = events[events["reason"] == FAILED_SCHEDULING]
    assert len(failed) == 2 and failed["object"].str.startswith("huge-").all()  # the two app nodes
    assert failed["message"].str.contains("1 Insufficient cpu").all()


# ------------------------------------------------------------------ nodes that join later
CA_POOL = {
    "cluster.node_pools.0.max_nodes": 6,
    "cluster.node_pools.0.autoscaling": True,
    "cluster.cluster_autoscaler": {},
}


def test_nodes_the_autoscaler_adds_get_their_daemonset_pods():
    sc = scenario(
        **{
            **CA_POOL,
            "daemonsets": [ds("agent"), ds("logs", tolerations=[{"operator": "Exists"}])],
            "workloads.0.replicas": 12,  # 6 GiB each cannot fit on two t3.xlarge
            "workloads.0.resources.requests.memory": "6Gi",
            "workloads.0.nodeSelector": {"workload": "app"},
        }
    )
    engine = run(sc)
    app = [n for n in engine.state.alive_nodes() if n.pool == "app"]
    assert len(app) == 6
    for node in engine.state.alive_nodes():
        expected = {"agent", "logs"} if node.pool == "app" else {"logs"}
        assert daemon_pods_by_node(engine)[node.name] == expected


def test_replacement_nodes_get_their_daemonset_pods_and_the_old_ones_go_with_their_node():
    sc = scenario(
        **{
            "daemonsets": [ds("agent", tolerations=[{"operator": "Exists"}])],
            "faults.spot.reclaims": [{"pool": "app", "at": "10m"}],
        }
    )
    engine = run(sc)
    assert {n.name for n in engine.state.nodes.values() if not n.alive} == {"app-0", "app-1"}
    assert len([n for n in engine.state.alive_nodes() if n.pool == "app"]) == 2  # the replacements
    assert_every_node_has_its_daemon_pods(engine, {"agent"})
    assert len(engine.state.daemon_pods) == 3


def test_daemonset_pods_survive_an_unreachable_node_and_are_not_counted_as_lost():
    """They tolerate unreachable:NoExecute forever: workload pods are evicted after 300 s, they stay."""
    sc = scenario(
        **{
            "daemonsets": [ds("agent", tolerations=[{"operator": "Exists"}])],
            "faults.az_outages": [{"zone": "a", "at": "5m", "duration": "2h"}],
        }
    )
    engine = run(sc)
    down = [n for n in engine.state.alive_nodes() if n.zone == "a"]
    assert down and not any(n.ready for n in down)
    for node in down:
        (pod,) = engine.state.daemon_pods_on(node)
        assert pod.phase is PodPhase.READY
        workload_pods = [engine.state.pods[p] for p in node.pods if p in engine.state.pods]
        assert all(p.phase is PodPhase.TERMINATING for p in workload_pods)  # evicted
    assert engine.pods_lost == 1  # the one web pod in zone a, not the DaemonSet pods


# --------------------------------------------------------------------- cluster autoscaler
@pytest.mark.parametrize(("ds_cpu", "scales_up"), [(0, True), (50, False)])
def test_template_node_carries_the_daemonset_pods(ds_cpu, scales_up):
    """A pending pod that fits an empty node but not the node minus its DaemonSet pods triggers no
    scale-up of that group, and the autoscaler says why."""
    base = scenario(**CA_POOL)
    alloc = Engine(base, 0, 3600.0).pool_shape(base.pool("app")).cpu_m
    sc = scenario(
        **{
            **CA_POOL,
            "daemonsets": [ds(cpu=f"{ds_cpu}m", memory="0")] if ds_cpu else [],
            "cluster.node_pools.0.min_nodes": 1,
            "workloads.0.replicas": 2,
            "workloads.0.nodeSelector": {"workload": "app"},
            "workloads.0.resources.requests.cpu": f"{alloc - 10}m",
            "simulation.start": "cold",  # the second pod pending at t=0, for the autoscaler's loop
        }
    )
    engine = run(sc, duration=600.0)
    decisions = pd.DataFrame(
        engine.out.decision_rows, columns=["t_s", "controller", "object", "from", "to", "reason", "message"]
    )
    ca = decisions[decisions["controller"] == "cluster-autoscaler"]
    assert bool((ca["to"] > ca["from"]).any()) == scales_up
    if not scales_up:
        assert ca.iloc[0]["reason"] == "NoScaleUpNoFit"
        assert ca.iloc[0]["message"] == "pod didn't trigger scale-up: app: NoFit: Insufficient cpu"


def test_the_autoscalers_view_has_daemonset_pods_and_template_requests():
    everywhere = {"tolerations": [{"operator": "Exists"}]}
    sc = scenario(**{**CA_POOL, "daemonsets": [ds("agent", cpu="100m"), ds("logs", cpu="30m", **everywhere)]})
    engine = bootstrapped(sc)
    app, data = (ca_group(engine, pool, (1, 6)) for pool in sc.cluster.node_pools)
    assert app.template.requested_cpu_m == 130 and len(app.template.pod_labels) == 2
    assert data.template.requested_cpu_m == 30  # the DaemonSet without the toleration is not on it
    inputs = CAInputs.build(engine, [sc.pool("app")], CAFlags.from_mapping({}))
    for node in engine.state.alive_nodes():
        owners = sorted(p.owner_kind or "" for p in inputs.pods_by_node[node.name] if p.daemonset)
        assert owners == ["DaemonSet"] * len(engine.state.daemon_pods_on(node))
        assert all(p.namespace == "default" for p in inputs.pods_by_node[node.name])


# A pool of two nodes whose DaemonSet takes 2100m of 3920m: more than half, so with its pods counted
# no node is ever under the 0.5 scale-down threshold.
HEAVY = {
    **NO_DATA_POOL,
    "cluster.node_pools.0.min_nodes": 1,
    "cluster.node_pools.0.initial_nodes": 2,
    "cluster.node_pools.0.max_nodes": 2,
    "cluster.node_pools.0.autoscaling": True,
    "workloads.0.replicas": 1,
    "workloads.0.resources.requests.cpu": "100m",
    "workloads.0.nodeSelector": {"workload": "app"},
    "daemonsets": [ds("heavy", cpu="2100m", memory="0")],
}


@pytest.mark.parametrize(("ignore", "app_nodes"), [(False, 2), (True, 1)])
def test_ignore_daemonsets_utilization_changes_scale_down(ignore, app_nodes):
    flags = {"ignore-daemonsets-utilization": ignore}
    engine = run(scenario(**{**HEAVY, "cluster.cluster_autoscaler": flags}))
    assert len([n for n in engine.state.alive_nodes() if n.pool == "app"]) == app_nodes
    assert_every_node_has_its_daemon_pods(engine, {"heavy"})


@pytest.mark.parametrize(("ignore", "utilization"), [(False, 2100 / 3920), (True, 0.0)])
def test_utilization_of_a_node_with_only_daemonset_pods(ignore, utilization):
    engine = bootstrapped(scenario(**HEAVY))
    inputs = CAInputs.build(engine, [engine.scenario.pool("app")], CAFlags.from_mapping({}))
    (web,) = engine.state.pods_of("web")
    (empty,) = [n for n in engine.state.alive_nodes() if n.name != web.node]
    pods = inputs.pods_by_node[empty.name]
    got = node_utilization(empty.alloc_cpu_m, empty.alloc_mem_mib, pods, now=0.0, ignore_daemonsets=ignore)
    assert got.utilization == pytest.approx(utilization)


@pytest.mark.parametrize(("flag", "evicted"), [(False, 0), (True, 1)])
def test_daemonset_eviction_for_empty_nodes(flag, evicted):
    flags = {"ignore-daemonsets-utilization": True, "daemonset-eviction-for-empty-nodes": flag}
    engine = run(scenario(**{**HEAVY, "cluster.cluster_autoscaler": flags}))
    events = pd.DataFrame(engine.out.event_rows, columns=["t_s", "kind", "object", "reason", "message"])
    ds_evictions = events[(events["reason"] == "Evicted") & events["message"].str.contains("DaemonSet")]
    assert len(ds_evictions) == evicted
    assert_every_node_has_its_daemon_pods(engine, {"heavy"})


# ------------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def with_daemonsets():
    sc = scenario(daemonsets=[ds("agent"), ds("logs", tolerations=[{"operator": "Exists"}])])
    return sc, simulate(sc, seed=5, progress=False)


def test_daemonset_pods_never_appear_as_workloads(with_daemonsets):
    _, r = with_daemonsets
    assert set(r.replicas["workload"]) == {"web"}
    assert set(r.services["service"]) == {"web"}
    assert r.summary["pods_started"] == 0  # no workload pod had to be scheduled during the run
    scheduled = r.events[(r.events["reason"] == "Scheduled") & r.events["message"].str.contains("DaemonSet")]
    assert len(scheduled) == 2 + 3  # agent on the two app nodes, logs on all three


def test_same_seed_same_results_with_daemonsets(with_daemonsets):
    sc, a = with_daemonsets
    b = simulate(sc, seed=5, progress=False)
    for name in ("services", "routes", "nodes", "replicas", "events", "decisions", "cost", "checks"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.summary == b.summary


def test_a_daemonset_that_matches_no_node_changes_nothing():
    plain = simulate(scenario(), seed=2, progress=False)
    nowhere = simulate(scenario(daemonsets=[ds(nodeSelector={"workload": "none"})]), seed=2, progress=False)
    for name in ("services", "routes", "nodes", "replicas", "events", "decisions", "cost"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(nowhere, name))


def test_the_eks_example_puts_four_daemonsets_on_every_node():
    sc = load_scenario(EXAMPLE)
    engine = bootstrapped(sc)
    assert_every_node_has_its_daemon_pods(engine, {"aws-node", "kube-proxy", "ebs-csi-node", "fluent-bit"})
    for node in engine.state.alive_nodes():
        workloads = sum(engine.state.pods[p].spec.cpu_m for p in node.pods if p in engine.state.pods)
        assert node.requested_cpu_m == 230 + workloads  # 50m + 100m + 30m + 50m


# ------------------------------------------------------------------------ pure controller
NODE_TAINTS = [
    Taint("workload", "data"),
    Taint("gpu", "yes", "NoExecute"),
    Taint("soft", "", "PreferNoSchedule"),
]
TOLERATIONS = [
    Toleration(operator="Exists"),
    Toleration("workload", "Equal", "data"),
    Toleration("gpu", "Exists"),
]
selectors = st.fixed_dictionaries({}, optional={"workload": st.sampled_from(["app", "data"])})


@st.composite
def daemon_pod(draw: st.DrawFn) -> PodSpec:
    name = f"ds-{draw(st.integers(0, 99))}"
    own = draw(st.lists(st.sampled_from(TOLERATIONS), unique=True, max_size=2))
    return PodSpec(
        name,
        {"app": name},
        cpu_m=draw(st.integers(0, 3000)),
        mem_mib=draw(st.floats(0, 6000, allow_nan=False)),
        tolerations=daemon_pod_tolerations(own),
        node_selector=draw(selectors),
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(daemon_pod(), max_size=6),
    selectors,
    st.lists(st.sampled_from(NODE_TAINTS), unique=True, max_size=3),
    st.integers(500, 4000),
    st.floats(500, 16000),
    st.one_of(st.none(), st.integers(1, 4)),
)
def test_daemon_pods_bind_in_order_while_they_fit(specs, labels, node_taints, cpu, mem, max_pods):
    """The controller's pods for a node are the matching ones, bound in order while they fit."""
    node = NodeView("n", labels, tuple(node_taints), cpu, mem, alloc_pods=max_pods)
    filled, decisions = place_daemon_pods(specs, node)
    assert [d.spec for d in decisions] == specs
    room = node
    for d in decisions:
        runs = should_run(d.spec, node) is None
        fits = runs and not insufficient_resources(d.spec, room)
        assert d.bound is fits
        assert (d.reason == FAILED_SCHEDULING) is (runs and not fits)
        if fits:
            room = room.with_pod(d.spec)
    bound = [d.spec for d in decisions if d.bound]
    assert filled == room
    assert filled.requested_cpu_m == sum(p.cpu_m for p in bound) <= cpu
    assert len(filled.pod_labels) == len(bound) <= (max_pods or len(bound))
