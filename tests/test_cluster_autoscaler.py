"""Cluster Autoscaler controller: upstream test vectors, table-driven loops, properties."""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.control.ca import (
    CAFlags,
    CANode,
    CAPod,
    CAState,
    NodeGroup,
    NodeGroupBounds,
    PodDisruptionBudget,
    ProvisionTimeDistribution,
    ScaleDownDecision,
    ScaleUpDecision,
    Volume,
    provision_time_distribution,
    register_failed_scale_up,
    scale_down,
    scale_up,
)
from simkit.control.ca.drain import plan_drain
from simkit.control.ca.model import ANN_SAFE_TO_EVICT, ANN_SAFE_TO_EVICT_LOCAL_VOLUMES
from simkit.control.types import HOSTNAME_LABEL, ZONE_LABEL, NodeView, PodSpec, Taint, Toleration

VECTORS = Path(__file__).parents[2] / "shared" / "reference" / "ca_vectors.json"
POOL = "application-pool"
GIB = 1024.0
# The seed platform's CA flags (shared/seed/infrastructure-overview.md).
SEED = CAFlags.from_mapping(
    {"scale-down-delay-after-add": "5m", "scale-down-unneeded-time": "5m", "nodes": ["3:20:application-pool"]}
)


# ------------------------------------------------------------------ builders


def pod(name: str, cpu: int = 500, mem: float = 512.0, *, created_at: float = -3600.0, **kw: object) -> CAPod:
    """A Deployment pod created an hour before t=0."""
    spec = PodSpec(name=name, labels={"app": name.split("-")[0]}, cpu_m=cpu, mem_mib=mem)
    return CAPod(spec=spec, created_at=created_at, **kw)  # type: ignore[arg-type]


def node(
    name: str,
    pods: Sequence[CAPod] = (),
    *,
    group: str | None = POOL,
    cpu: int = 4000,
    mem: float = 16 * GIB,
    zone: str = "zone-a",
    **kw: object,
) -> CANode:
    """A 4 vCPU / 16 GiB node with `pods` bound to it."""
    view = NodeView(
        name=name, labels={HOSTNAME_LABEL: name, ZONE_LABEL: zone}, alloc_cpu_m=cpu, alloc_mem_mib=mem
    )
    for p in pods:
        view = view.with_pod(p.spec)
    return CANode(view=view, group=group, **kw)  # type: ignore[arg-type]


def group(
    name: str = POOL,
    *,
    min_size: int = 3,
    max_size: int = 20,
    target: int = 3,
    cpu: int = 4000,
    mem: float = 16 * GIB,
    zone: str = "",
    taints: tuple[Taint, ...] = (),
    price: float = 0.192,
    pool_label: str | None = None,
) -> NodeGroup:
    """A node group whose template is a 4 vCPU / 16 GiB node labelled pool=<pool_label or name>."""
    template = NodeView(
        name=f"{name}-template",
        labels={"pool": pool_label or name},
        taints=taints,
        alloc_cpu_m=cpu,
        alloc_mem_mib=mem,
    )
    return NodeGroup(name, min_size, max_size, target, template, price_per_hour=price, zone=zone)


def full_nodes(n: int, prefix: str = "n") -> list[CANode]:
    """`n` nodes whose CPU is fully requested (no room for anything with a CPU request)."""
    return [node(f"{prefix}{i}", [pod(f"busy{prefix}{i}", cpu=4000, mem=1024)]) for i in range(n)]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def up(
    pending: Sequence[CAPod],
    groups: Sequence[NodeGroup],
    nodes: Sequence[CANode],
    *,
    upcoming: Mapping[str, int] | None = None,
    flags: CAFlags = SEED,
    state: CAState | None = None,
    now: float = 0.0,
    **kw: object,
) -> ScaleUpDecision:
    """scale_up at `now` with the seed flags, a fresh state and a fixed-seed rng by default."""
    return scale_up(pending, groups, nodes, upcoming or {}, flags, state or CAState(), now, rng(), **kw)  # type: ignore[arg-type]


def down(
    nodes: Sequence[CANode],
    pods_by_node: Mapping[str, Sequence[CAPod]],
    groups: Sequence[NodeGroup],
    *,
    flags: CAFlags = SEED,
    state: CAState | None = None,
    now: float = 0.0,
    **kw: object,
) -> ScaleDownDecision:
    """scale_down at `now` with the seed flags and a fresh state by default."""
    return scale_down(nodes, pods_by_node, groups, flags, state or CAState(), now, **kw)  # type: ignore[arg-type]


def cluster(
    spec: Mapping[str, Sequence[CAPod]], **node_kw: object
) -> tuple[list[CANode], dict[str, list[CAPod]]]:
    """Nodes named by `spec` keys, each holding the listed pods."""
    nodes = [node(name, pods, **node_kw) for name, pods in spec.items()]  # type: ignore[arg-type]
    return nodes, {name: list(pods) for name, pods in spec.items()}


# ------------------------------------------------------------------ vectors


def test_upstream_vectors_all_pass() -> None:
    if not VECTORS.is_file():
        pytest.skip(f"CA vectors not found at {VECTORS} (shared/reference is outside the repo)")
    sys.path.insert(0, str(Path(__file__).parent))
    import k8s_vectors

    passed, failed = k8s_vectors.run("ca", VECTORS)
    assert failed == 0
    assert passed == 49


# ------------------------------------------------------------------ flags


def test_flag_defaults_are_ca_1_37() -> None:
    f = CAFlags()
    assert (f.expander, f.scan_interval, f.scale_down_unneeded_time, f.scale_down_unready_time) == (
        "least-waste",
        10.0,
        600.0,
        1200.0,
    )
    assert (
        f.scale_down_delay_after_add,
        f.scale_down_delay_after_delete,
        f.scale_down_delay_after_failure,
    ) == (600.0, 0.0, 180.0)
    assert (f.max_node_provision_time, f.max_scale_down_parallelism, f.max_drain_parallelism) == (
        900.0,
        10,
        1,
    )
    assert (
        f.initial_node_group_backoff_duration,
        f.max_node_group_backoff_duration,
        f.node_group_backoff_reset_timeout,
    ) == (300.0, 1800.0, 10800.0)
    assert f.scale_down_utilization_threshold == 0.5 and f.balance_similar_node_groups is False


def test_flags_from_mapping_parse_go_durations_with_or_without_dashes() -> None:
    f = CAFlags.from_mapping(
        {
            "--scale-down-unneeded-time": "1h30m",
            "scan-interval": "10s",
            "expander": "priority,least-waste",
            "balance-similar-node-groups": "true",
            "cores-total": "0:64",
        }
    )
    assert f.scale_down_unneeded_time == 5400.0
    assert f.expander == "priority,least-waste"
    assert f.balance_similar_node_groups is True
    assert f.cores_total == (0, 64)
    assert SEED.nodes == (NodeGroupBounds(3, 20, POOL),)
    assert SEED.bounds_for(POOL) == NodeGroupBounds(3, 20, POOL)


@pytest.mark.parametrize(
    ("mapping", "flag"),
    [
        ({"scale-down-unneded-time": "5m"}, "scale-down-unneded-time"),
        ({"scale_down_unneeded_time": "5m"}, "scale_down_unneeded_time"),
        ({"scale-down-unneeded-time": "five minutes"}, "scale-down-unneeded-time"),
        ({"expander": "cheapest"}, "expander"),
        ({"max-drain-parallelism": -1}, "max-drain-parallelism"),
        ({"scale-down-utilization-threshold": 1.5}, "scale-down-utilization-threshold"),
        ({"balance-similar-node-groups": "yes"}, "balance-similar-node-groups"),
        ({"nodes": ["20:3:pool"]}, "nodes"),
    ],
)
def test_bad_flags_raise_naming_the_flag(mapping: Mapping[str, object], flag: str) -> None:
    with pytest.raises(ValueError, match=f"--{flag}"):
        CAFlags.from_mapping(mapping)


# ------------------------------------------------------------------ scale-up


def test_scale_up_binpacks_pending_pods_onto_new_nodes() -> None:
    pending = [pod(f"web-{i}", cpu=1500, mem=1024) for i in range(5)]  # 2 per 4-CPU node -> 3 nodes
    d = up(pending, [group()], full_nodes(3))
    assert (d.reason, dict(d.increases)) == ("ScaleUp", {POOL: 3})
    assert len(d.pods_triggered) == 5
    assert d.state.last_scale_up_time == 0.0
    assert d.state.scale_up_requests[POOL].increase == 3
    assert d.state.scale_up_requests[POOL].expected_add_time == 900.0


def test_pods_that_fit_existing_or_upcoming_nodes_trigger_nothing() -> None:
    pending = [pod(f"web-{i}", cpu=1500) for i in range(2)]
    assert up(pending, [group()], [*full_nodes(2), node("free")]).reason == "NoUnschedulablePods"
    assert up(pending, [group(target=4)], full_nodes(3), upcoming={POOL: 1}).reason == "NoUnschedulablePods"


def test_scale_up_capped_at_group_max_and_blocked_at_max() -> None:
    pending = [pod(f"big-{i}", cpu=3000) for i in range(10)]
    d = up(pending, [group(max_size=5)], full_nodes(3))
    assert dict(d.increases) == {POOL: 2}
    blocked = up(pending, [group(max_size=3)], full_nodes(3))
    assert (blocked.reason, dict(blocked.increases)) == ("MaxNodesReached", {})


def test_backed_off_group_is_skipped_until_backoff_expires() -> None:
    state = register_failed_scale_up(CAState(), POOL, 0.0, SEED)
    pending = [pod("web-0", cpu=3000)]
    assert up(pending, [group()], full_nodes(3), state=state, now=300.0).reason == "BackedOff"
    assert up(pending, [group()], full_nodes(3), state=state, now=300.5).reason == "ScaleUp"


def test_taints_on_the_template_need_a_toleration() -> None:
    tainted = group("data-pool", taints=(Taint("workload", "data"),))
    plain = pod("web-0", cpu=3000)
    d = up([plain], [tainted], full_nodes(3))
    assert d.reason == "NoScaleUpNoFit"
    assert "untolerated taint" in d.group_reasons["data-pool"]
    tolerant = CAPod(
        spec=PodSpec("etl-0", cpu_m=3000, tolerations=(Toleration("workload", value="data"),)), created_at=-60
    )
    assert dict(up([tolerant], [tainted], full_nodes(3)).increases) == {"data-pool": 1}


def test_young_pods_wait_and_all_new_pods_pause_scale_down() -> None:
    delayed = CAFlags.from_mapping({"new-pod-scale-up-delay": "30s"})
    young = [pod("web-0", cpu=3000, created_at=-10.0)]
    assert up(young, [group()], full_nodes(3), flags=delayed).reason == "NoUnschedulablePods"
    fresh = up([pod("web-0", cpu=3000, created_at=-1.0)], [group()], full_nodes(3))
    assert fresh.reason == "AllPodsNew" and not fresh.increases
    nodes, pods = cluster({"idle": []})
    d = down([*full_nodes(3), *nodes], pods, [group(target=4)], state=fresh.state)
    assert d.status == "ScaleDownInCooldown"


def test_least_waste_picks_the_snuggest_group_and_price_the_cheapest() -> None:
    small = group("small", cpu=2000, mem=4 * GIB, price=0.1)
    large = group("large", cpu=16000, mem=64 * GIB, price=0.3)
    pending = [pod("web-0", cpu=1500, mem=3 * GIB)]
    assert dict(up(pending, [large, small], full_nodes(3)).increases) == {"small": 1}
    pricey = CAFlags.from_mapping({"expander": "price"})
    assert dict(up(pending, [large, small], full_nodes(3), flags=pricey).increases) == {"small": 1}


def test_priority_expander_falls_back_to_the_next_filter() -> None:
    a, b = group("spot-pool", cpu=16000, mem=64 * GIB), group("ondemand-pool")
    flags = CAFlags.from_mapping({"expander": "priority,least-waste"})
    pending = [pod("web-0", cpu=1000)]
    assert dict(up(pending, [a, b], full_nodes(3), flags=flags, priorities={10: ["spot-.*"]}).increases) == {
        "spot-pool": 1
    }
    assert dict(up(pending, [a, b], full_nodes(3), flags=flags, priorities={10: ["gpu-.*"]}).increases) == {
        "ondemand-pool": 1
    }


def test_balancing_spreads_new_nodes_over_similar_zonal_groups() -> None:
    zonal = [
        group(f"pool-{z}", zone=f"zone-{z}", target=t, pool_label="app")
        for z, t in (("a", 2), ("b", 1), ("c", 1))
    ]
    pending = [pod(f"big-{i}", cpu=3000) for i in range(5)]
    flags = CAFlags.from_mapping({"balance-similar-node-groups": True})
    d = up(pending, zonal, full_nodes(4), flags=flags)
    assert sum(d.increases.values()) == 5
    sizes = {g.name: g.target_size + d.increases.get(g.name, 0) for g in zonal}
    assert sorted(sizes.values()) == [3, 3, 3]
    unbalanced = up(pending, zonal, full_nodes(4))
    assert len(unbalanced.increases) == 1 and sum(unbalanced.increases.values()) == 5


def test_max_nodes_total_caps_scale_up() -> None:
    flags = CAFlags.from_mapping({"max-nodes-total": 5})
    d = up([pod(f"big-{i}", cpu=3000) for i in range(4)], [group()], full_nodes(3), flags=flags)
    assert dict(d.increases) == {POOL: 2}
    assert up([pod("big", cpu=3000)], [group()], full_nodes(5), flags=flags).reason == "MaxNodesTotalReached"


def test_scale_up_timeout_reverts_and_backs_off() -> None:
    first = up([pod("big", cpu=3000)], [group()], full_nodes(3))
    later = up(
        [pod("big", cpu=3000)],
        [group(target=4)],
        full_nodes(3),
        upcoming={POOL: 1},
        state=first.state,
        now=901.0,
    )
    assert dict(later.reverted) == {POOL: 1}
    assert later.state.backoff[POOL].until == 901.0 + 300.0
    assert later.reason == "BackedOff"


# ------------------------------------------------------------------ scale-down


def test_empty_node_is_removed_after_unneeded_time() -> None:
    nodes, pods = cluster(
        {
            "a": [pod("web-0", cpu=3000)],
            "b": [pod("web-1", cpu=3000)],
            "c": [pod("web-2", cpu=3000)],
            "idle": [],
        }
    )
    groups = [group(target=4)]
    first = down(nodes, pods, groups, now=0.0)
    assert first.reasons["idle"] == "NotUnneededLongEnough"
    assert first.reasons["a"] == "NotUnderutilized"
    assert down(nodes, pods, groups, state=first.state, now=300.0).remove == ()  # not strictly after 5m
    done = down(nodes, pods, groups, state=first.state, now=301.0)
    assert done.remove == ("idle",) and done.empty == ("idle",) and done.reasons["idle"] == "ScaleDown"
    assert done.state.last_scale_down_delete_time == 301.0


def test_min_size_and_cooldown_block_deletion() -> None:
    nodes, pods = cluster({"a": [], "b": [], "c": []})
    state = CAState(unneeded_since={"a": -1000.0, "b": -1000.0, "c": -1000.0})
    at_min = down(nodes, pods, [group(target=3)], state=state)
    assert at_min.remove == () and set(at_min.reasons.values()) == {"NodeGroupMinSizeReached"}
    above = down(nodes, pods, [group(target=3, min_size=1)], state=state)
    assert len(above.remove) == 2
    cooling = replace_state(state, last_scale_up_time=-100.0)  # 5m delay-after-add not yet over
    assert down(nodes, pods, [group(min_size=0)], state=cooling).status == "ScaleDownInCooldown"


def replace_state(state: CAState, **changes: object) -> CAState:
    from dataclasses import replace

    return replace(state, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("blocker", "why"),
    [
        (pod("x", annotations={ANN_SAFE_TO_EVICT: "false"}), "NotSafeToEvictAnnotation"),
        (pod("x", owner_kind=None), "NotReplicated"),
        (pod("x", namespace="kube-system", created_at=-60.0), "UnmovableKubeSystemPod"),
        (pod("x", volumes=(Volume("scratch", "emptyDir"),)), "LocalStorageRequested"),
        (pod("x", volumes=(Volume("data", "hostPath"),)), "LocalStorageRequested"),
        (pod("x", controller_exists=False), "ControllerNotFound"),
    ],
)
def test_unmovable_pods_block_their_node(blocker: CAPod, why: str) -> None:
    nodes, pods = cluster({"a": [], "b": [], "c": [], "d": [blocker]})
    d = down(nodes, pods, [group(target=4)], state=CAState(unneeded_since={"d": -1000.0}))
    assert d.reasons["d"] == "BlockedByPod" and why in d.messages["d"]
    assert "d" not in d.remove


def test_movable_variants_of_blocking_pods() -> None:
    ok = [
        pod("x", annotations={ANN_SAFE_TO_EVICT: "true"}, owner_kind=None),
        pod("y", volumes=(Volume("cache", "emptyDir", medium="Memory"),)),
        pod(
            "z",
            volumes=(Volume("scratch", "emptyDir"),),
            annotations={ANN_SAFE_TO_EVICT_LOCAL_VOLUMES: "scratch"},
        ),
        pod("ks", namespace="kube-system", created_at=-60.0),
    ]
    pdb = PodDisruptionBudget("ks-pdb", "kube-system", {"app": "ks"}, disruptions_allowed=1)
    busy = {name: [pod(f"busy-{name}", cpu=2500)] for name in "abc"}  # stay, with 1500m free each
    nodes, pods = cluster({**busy, "d": ok})
    d = down(nodes, pods, [group(target=4)], state=CAState(unneeded_since={"d": -1000.0}), pdbs=[pdb])
    assert d.remove == ("d",) and d.empty == ()


def test_pdb_without_disruptions_blocks_and_pdb_budget_is_shared() -> None:
    web = [pod(f"web-{i}") for i in range(2)]
    nodes, pods = cluster({"a": [], "b": [], "c": [web[0]], "d": [web[1]]})
    since = CAState(unneeded_since={"c": -1000.0, "d": -1000.0})
    none_left = PodDisruptionBudget("web", match_labels={"app": "web"}, disruptions_allowed=0)
    d = down(nodes, pods, [group(target=4, min_size=0)], state=since, pdbs=[none_left])
    assert "NotEnoughPdb" in d.messages["c"] and d.remove == ()
    one_left = PodDisruptionBudget("web", match_labels={"app": "web"}, disruptions_allowed=1)
    flags = CAFlags.from_mapping({"max-drain-parallelism": 5, "scale-down-unneeded-time": "5m"})
    d = down(nodes, pods, [group(target=4, min_size=0)], state=since, pdbs=[one_left], flags=flags)
    assert len(d.unneeded) == 3 and len([n for n in ("c", "d") if n in d.unneeded]) == 1


def test_pods_without_a_home_make_the_node_unremovable_for_a_while() -> None:
    nodes, pods = cluster(
        {"a": [pod("big-0", cpu=3500)], "b": [pod("big-1", cpu=3500)], "c": [pod("big-2", cpu=1900)]}
    )
    flags = CAFlags.from_mapping({"scale-down-utilization-threshold": "0.5"})
    d = down(nodes, pods, [group(min_size=0)], flags=flags)
    assert d.reasons["c"] == "NoPlaceToMovePods"
    again = down(nodes, pods, [group(min_size=0)], flags=flags, state=d.state, now=10.0)
    assert again.reasons["c"] == "RecentlyUnremovable"
    assert down(nodes, pods, [group(min_size=0)], flags=flags, state=d.state, now=301.0).reasons["c"] == (
        "NoPlaceToMovePods"
    )


def test_successive_candidates_see_earlier_moves() -> None:
    # FAQ "A, B, C, X, Y": a and b could each move onto c, but not both.
    nodes, pods = cluster(
        {"a": [pod("w-0", cpu=1500)], "b": [pod("w-1", cpu=1500)], "c": [pod("w-2", cpu=2000)]}
    )
    d = down(nodes, pods, [group(min_size=0)])
    assert len(d.unneeded) == 1


def test_drain_and_parallelism_budgets() -> None:
    spec: dict[str, list[CAPod]] = {f"e{i}": [] for i in range(12)} | {
        f"d{i}": [pod(f"w-{i}", cpu=100)] for i in range(3)
    }
    spec |= {"host": []}
    nodes, pods = cluster(spec)
    old = CAState(unneeded_since={n: -1000.0 for n in spec})
    d = down(nodes, pods, [group(target=len(spec), min_size=0)], state=old)
    assert len(d.remove) == 10 and set(d.remove) == set(d.empty)
    assert "ScaleDownBudgetExhausted" in d.reasons.values()
    only_drains, drain_pods = cluster({f"d{i}": [pod(f"w-{i}", cpu=100)] for i in range(3)} | {"host": []})
    d = down(only_drains, drain_pods, [group(target=4, min_size=0)], state=old)
    assert len(set(d.remove) - set(d.empty)) == 1


def test_unready_node_uses_unready_time_and_unready_can_be_disabled() -> None:
    nodes, pods = cluster({"a": [], "b": [], "c": [], "sick": []})
    nodes[-1] = node("sick", ready=False)
    state = CAState(unneeded_since={"sick": -600.0})
    d = down(nodes, pods, [group(target=4)], state=state, now=0.0)
    assert d.reasons["sick"] == "NotUnreadyLongEnough"
    assert down(nodes, pods, [group(target=4)], state=state, now=700.0).remove == ("sick",)
    off = CAFlags.from_mapping({"scale-down-unready-enabled": False})
    assert (
        down(nodes, pods, [group(target=4)], state=state, flags=off).reasons["sick"]
        == "ScaleDownUnreadyDisabled"
    )


def test_timer_restarts_when_node_drops_out_for_a_loop() -> None:
    nodes, pods = cluster({"a": [], "b": [], "c": [], "d": []})
    s1 = down(nodes, pods, [group(target=4)], now=0.0).state
    busy_nodes, busy_pods = cluster({"a": [], "b": [], "c": [], "d": [pod("w", cpu=3000)]})
    s2 = down(busy_nodes, busy_pods, [group(target=4)], state=s1, now=100.0).state
    assert "d" not in s2.unneeded_since
    s3 = down(nodes, pods, [group(target=4)], state=s2, now=200.0).state
    assert s3.unneeded_since["d"] == 200.0 and s3.unneeded_since["a"] == 0.0


def test_unhealthy_cluster_halts_and_clears_timers() -> None:
    nodes = [node(f"n{i}", ready=(i < 4)) for i in range(10)]
    d = down(nodes, {}, [group(target=10)], state=CAState(unneeded_since={"n0": -1000.0}))
    assert d.status == "ClusterUnhealthy" and not d.state.unneeded_since
    assert up([pod("web", cpu=3000)], [group(target=10)], nodes).reason == "ClusterUnhealthy"


def test_scale_down_annotation_and_not_autoscaled_nodes_stay() -> None:
    nodes = [
        node("a"),
        node("b"),
        node("c"),
        node("keep", annotations={"cluster-autoscaler.kubernetes.io/scale-down-disabled": "true"}),
        node("static", group=None),
    ]
    d = down(nodes, {}, [group(target=4, min_size=0)])
    assert d.reasons["keep"] == "ScaleDownDisabledAnnotation" and d.reasons["static"] == "NotAutoscaled"


# ------------------------------------------------------------------ provisioning time


def test_provision_time_distribution_matches_its_median_and_p90() -> None:
    dist = provision_time_distribution()
    gen = rng(8)
    samples = np.array([dist.sample(gen) for _ in range(4000)])
    assert abs(np.median(samples) / dist.median_s - 1) < 0.05
    assert abs(np.quantile(samples, 0.9) / dist.p90_s - 1) < 0.05
    with pytest.raises(ValueError, match="median"):
        ProvisionTimeDistribution(300.0, 100.0)
    with pytest.raises(ValueError, match="karpenter"):
        provision_time_distribution("unknown")


# ------------------------------------------------------------------ properties


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[CANode], dict[str, list[CAPod]], list[NodeGroup], CAState]:
    """Random small clusters: 1-2 groups, 1-6 nodes each, random pods (some unmovable)."""
    groups, nodes, pods = [], [], {}
    for gi in range(draw(st.integers(1, 2))):
        count = draw(st.integers(1, 6))
        lo = draw(st.integers(0, count))
        groups.append(group(f"g{gi}", min_size=lo, max_size=count + 3, target=count))
        for ni in range(count):
            name = f"g{gi}-n{ni}"
            node_pods = [
                pod(
                    f"p{gi}{ni}{k}",
                    cpu=draw(st.sampled_from([0, 200, 800, 1500])),
                    owner_kind=draw(st.sampled_from(["ReplicaSet", "ReplicaSet", None, "DaemonSet"])),
                    annotations=draw(st.sampled_from([{}, {}, {ANN_SAFE_TO_EVICT: "false"}])),
                )
                for k in range(draw(st.integers(0, 3)))
            ]
            nodes.append(
                node(name, node_pods, group=f"g{gi}", ready=draw(st.sampled_from([True, True, True, False])))
            )
            pods[name] = node_pods
    state = CAState(unneeded_since={n.name: -10_000.0 for n in nodes})
    return nodes, pods, groups, state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_scale_down_never_breaks_min_size_or_moves_unmovable_pods(c: tuple) -> None:
    nodes, pods, groups, state = c
    before = copy.deepcopy((nodes, pods, groups, state))
    d = down(nodes, pods, groups, state=state)
    assert (nodes, pods, groups, state) == before  # inputs untouched
    for g in groups:
        removed = sum(1 for n in nodes if n.group == g.name and n.name in d.remove)
        assert g.target_size - removed >= g.min_size
    for name in d.remove:
        assert plan_drain(pods[name], SEED, now=0.0).blocking is None
    assert down(nodes, pods, groups, state=state) == d  # deterministic


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), min_size=1, max_size=3),
    st.lists(st.sampled_from([300, 1000, 2500, 3900, 5000]), min_size=1, max_size=25),
    st.sampled_from(["least-waste", "random", "most-pods", "least-nodes", "price", "priority,random"]),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_scale_up_respects_max_and_is_deterministic(
    sizes: list[tuple[int, int]], cpus: list[int], expander: str, balance: bool, seed: int
) -> None:
    groups = [
        group(f"g{i}", min_size=0, target=t, max_size=t + extra, zone=f"z{i}")
        for i, (t, extra) in enumerate(sizes)
    ]
    pending = [pod(f"p{i}", cpu=c) for i, c in enumerate(cpus)]
    flags = CAFlags.from_mapping({"expander": expander, "balance-similar-node-groups": balance})
    nodes = full_nodes(2)
    before = copy.deepcopy((pending, groups, nodes))

    def decide() -> ScaleUpDecision:
        gen = np.random.default_rng(seed)
        return scale_up(pending, groups, nodes, {}, flags, CAState(), 0.0, gen, priorities={5: ["g1"]})

    d = decide()
    assert (pending, groups, nodes) == before
    for g in groups:
        assert g.target_size + d.increases.get(g.name, 0) <= g.max_size
        assert d.increases.get(g.name, 0) >= 0
    assert decide() == d
    if d.increases:
        assert d.reason == "ScaleUp"
