"""Node-pool upgrade machines (EKS, GKE, AKS) driven against a small fake cluster: the issue's closed
forms, the PDB deadlock, and the cited defaults agreeing with data/upgrade_defaults.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fake_pool import Cluster, drive, pool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.control.nodepool import defaults as d
from simkit.control.nodepool_upgrade import (
    AKSSettings,
    EKSSettings,
    GKESettings,
    aks_start,
    aks_step,
    aks_surge,
    eks_max_unavailable,
    eks_start,
    eks_step,
    eks_surge,
    gke_start,
    gke_step,
)


@pytest.mark.parametrize(
    ("azs", "max_unavailable", "surge"),
    [(3, 1, 6), (5, 1, 10), (5, 20, 20), (1, 1, 2), (3, 7, 7)],
)
def test_eks_surge_is_max_of_twice_the_azs_and_max_unavailable(
    azs: int, max_unavailable: int, surge: int
) -> None:
    assert eks_surge(azs, max_unavailable) == surge


@pytest.mark.parametrize(
    ("cfg", "size", "expected"),
    [
        (EKSSettings(), 10, 1),
        (EKSSettings(max_unavailable=3), 10, 3),
        (EKSSettings(max_unavailable_percentage=25), 10, 2),
        (EKSSettings(max_unavailable_percentage=1), 10, 1),
        (EKSSettings(max_unavailable=500), 1000, 100),
    ],
)
def test_eks_max_unavailable(cfg: EKSSettings, size: int, expected: int) -> None:
    assert eks_max_unavailable(cfg, size) == expected


def test_eks_three_az_pool_surges_six_nodes_two_per_az_and_completes() -> None:
    c = Cluster(pool(6), replicas=6, min_available=5)
    run = drive(c, eks_start(EKSSettings()), eks_step)
    first = [a for t, a in run.actions if t == 0.0]
    assert [a.kind for a in first] == ["launch"] * 6
    assert sorted(a.zone or "" for a in first) == ["a", "a", "b", "b", "c", "c"]
    assert run.outcome == "Complete"
    assert run.max_nodes == 12
    assert len(c.nodes) == 6 and all(n.upgraded for n in c.nodes.values())
    # Terminations come 60 s after the post-drain cordon, one node at a time (maxUnavailable 1).
    cordon_at = {a.node: t for t, a in run.actions if a.reason == "CordonAfterDrain"}
    term_at = {a.node: t for t, a in run.actions if a.kind == "terminate" and a.reason == "Terminate"}
    assert set(term_at) == {f"old-{i:02d}" for i in range(6)}
    assert all(term_at[n] - cordon_at[n] == d.EKS_WAIT_AFTER_CORDON_S for n in term_at)
    drains = sorted(t for t, a in run.actions if a.kind == "drain" and a.reason == "Drain")
    assert all(b >= term_at[f"old-{i:02d}"] for i, b in enumerate(drains[1:]))


def test_eks_pdb_deadlock_fails_with_pod_eviction_failure_after_15_minutes() -> None:
    c = Cluster(pool(3), replicas=3, min_available=3)
    run = drive(c, eks_start(EKSSettings()), eks_step)
    first_drain = min(t for t, a in run.actions if a.kind == "drain")
    assert run.outcome == "PodEvictionFailure"
    assert run.end - first_drain == d.EKS_DRAIN_LIMIT_S == 900.0
    assert "old-00" in run.message and "PDB web-pdb" in run.message
    assert "needs 3 healthy pods and has 3 currently" in run.message
    # Nothing was terminated: the old nodes are still there.
    assert {f"old-{i:02d}" for i in range(3)} <= set(c.nodes)


def test_eks_force_flag_deletes_the_pods_after_15_minutes_and_completes() -> None:
    c = Cluster(pool(3), replicas=3, min_available=3)
    run = drive(c, eks_start(EKSSettings(force=True)), eks_step)
    assert run.outcome == "Complete"
    assert sum(1 for _, a in run.actions if a.kind == "force_drain") >= 1


def test_eks_minimal_never_grows_the_pool() -> None:
    c = Cluster(pool(4), replicas=4, min_available=3)
    run = drive(c, eks_start(EKSSettings(update_strategy="MINIMAL")), eks_step)
    assert run.outcome == "Complete" and run.max_nodes == 4
    assert all(n.upgraded for n in c.nodes.values()) and len(c.nodes) == 4


def test_gke_5_nodes_surge_2_unavailable_1_keeps_4_available() -> None:
    c = Cluster(pool(5), replicas=5, min_available=4)
    in_flight: list[int] = []
    run = drive(
        c,
        gke_start(GKESettings(max_surge=2, max_unavailable=1)),
        gke_step,
        watch=lambda cl, now: in_flight.append(sum(1 for n in cl.nodes.values() if n.unschedulable)),
    )
    assert run.outcome == "Complete"
    assert run.min_available >= 4
    assert run.max_nodes <= 7
    assert max(in_flight) == 3  # parallelism = maxSurge + maxUnavailable
    assert len(c.nodes) == 5 and all(n.upgraded for n in c.nodes.values())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 6), surge=st.integers(0, 3), unavailable=st.integers(0, 3))
def test_gke_surge_bounds_hold_for_any_settings(n: int, surge: int, unavailable: int) -> None:
    if surge + unavailable == 0:
        with pytest.raises(ValueError):
            gke_start(GKESettings(max_surge=0, max_unavailable=0))
        return
    c = Cluster(pool(n), replicas=n)
    run = drive(c, gke_start(GKESettings(max_surge=surge, max_unavailable=unavailable)), gke_step, dt=5.0)
    assert run.outcome == "Complete"
    assert run.min_available >= n - unavailable
    assert run.max_nodes <= n + surge
    assert len(c.nodes) == n and all(x.upgraded for x in c.nodes.values())


def test_gke_blue_green_soaks_and_deletes_the_blue_pool() -> None:
    c = Cluster(pool(4), replicas=4, min_available=3)
    cfg = GKESettings(strategy="BLUE_GREEN", batch_node_count=2, batch_soak_s=120.0, node_pool_soak_s=600.0)
    run = drive(c, gke_start(cfg), gke_step)
    assert run.outcome == "Complete" and run.max_nodes == 8
    batches = sorted({t for t, a in run.actions if a.reason == "DrainBluePool"})
    assert len(batches) == 2
    deleted = min(t for t, a in run.actions if a.reason == "DeleteBluePool")
    assert deleted - batches[-1] >= cfg.batch_soak_s + cfg.node_pool_soak_s
    assert len(c.nodes) == 4 and all(n.upgraded for n in c.nodes.values())


@pytest.mark.parametrize(
    ("max_surge", "size", "nodes"),
    [("10%", 10, 1), ("10%", 11, 2), ("10%", 1, 1), ("33%", 10, 4), (5, 10, 5), ("100%", 3, 3)],
)
def test_aks_max_surge_rounds_up(max_surge: int | str, size: int, nodes: int) -> None:
    assert aks_surge(AKSSettings(max_surge=max_surge), size) == nodes


def test_aks_ten_node_pool_at_the_default_surge_launches_one_node_at_a_time() -> None:
    c = Cluster(pool(10), replicas=10, min_available=8)
    run = drive(c, aks_start(AKSSettings()), aks_step)
    assert run.outcome == "Complete"
    assert sum(1 for _, a in run.actions if a.kind == "launch") == 1
    assert run.max_nodes == 11
    assert sum(1 for _, a in run.actions if a.kind == "reimage") == 10
    assert len(c.nodes) == 10 and all(n.upgraded for n in c.nodes.values())


def test_aks_drain_timeout_fails_the_upgrade_and_removes_the_surge_node() -> None:
    c = Cluster(pool(3), replicas=3, min_available=3)
    run = drive(c, aks_start(AKSSettings()), aks_step)
    first_drain = min(t for t, a in run.actions if a.kind == "drain")
    assert run.outcome == "DrainTimeout" and run.end - first_drain == 30 * 60.0
    assert "PDB web-pdb" in run.message
    assert set(c.nodes) == {"old-00", "old-01", "old-02"}
    assert not c.nodes["old-00"].unschedulable  # Schedule: the blocked node is schedulable again


def test_aks_cordon_behaviour_quarantines_and_goes_on() -> None:
    c = Cluster(pool(3), replicas=3, min_available=3)
    run = drive(c, aks_start(AKSSettings(undrainable_node_behavior="Cordon", max_surge=1)), aks_step)
    assert run.outcome in ("DrainTimeout", "Aborted")
    assert any(a.message.endswith("Quarantined") for _, a in run.actions)


def test_every_action_has_a_reason() -> None:
    c = Cluster(pool(4), replicas=4, min_available=3)
    run = drive(c, gke_start(GKESettings()), gke_step)
    assert run.actions and all(a.reason for _, a in run.actions)


def test_defaults_agree_with_the_data_file() -> None:
    rows = list(csv.DictReader((Path(__file__).parents[1] / "data" / "upgrade_defaults.csv").open()))
    by = {(r["provider"], r["setting"]): r for r in rows}
    expected = {
        ("eks", "maxUnavailable"): d.EKS_MAX_UNAVAILABLE_DEFAULT,
        ("eks", "surge_per_az"): d.EKS_SURGE_PER_AZ,
        ("eks", "drain_limit_minutes"): d.EKS_DRAIN_LIMIT_S / 60,
        ("eks", "wait_after_cordon_seconds"): d.EKS_WAIT_AFTER_CORDON_S,
        ("gke", "maxSurge"): d.GKE_MAX_SURGE_DEFAULT,
        ("gke", "maxUnavailable"): d.GKE_MAX_UNAVAILABLE_DEFAULT,
        ("gke", "batchSoakDuration_seconds"): d.GKE_BATCH_SOAK_S,
        ("gke", "nodePoolSoakDuration_seconds"): d.GKE_NODE_POOL_SOAK_S,
        ("gke", "batchNodeCount"): d.GKE_BATCH_NODE_COUNT_DEFAULT,
        ("gke", "pdb_timeout_minutes"): d.GKE_PDB_TIMEOUT_S / 60,
        ("aks", "maxSurge"): d.AKS_MAX_SURGE_DEFAULT,
        ("aks", "maxUnavailable"): d.AKS_MAX_UNAVAILABLE_DEFAULT,
        ("aks", "drainTimeoutInMinutes"): d.AKS_DRAIN_TIMEOUT_S / 60,
        ("aks", "nodeSoakDurationInMinutes"): d.AKS_NODE_SOAK_S / 60,
        ("aks", "undrainableNodeBehavior"): d.AKS_UNDRAINABLE_DEFAULT,
    }
    for key, value in expected.items():
        row = by[key]
        assert row["value"] == str(value) or float(row["value"]) == float(value), key  # type: ignore[arg-type]
        assert row["source"] and row["as_of"] == d.READ_ON
    assumed = {k for k, r in by.items() if r["source"].startswith("assumption:")}
    assert assumed == {
        ("gke", "maxSurge"),
        ("gke", "maxUnavailable"),
        ("gke", "nodePoolSoakDuration_seconds"),
        ("gke", "batchNodeCount"),
        ("gke", "pdb_timeout_minutes"),
        ("aks", "undrainableNodeBehavior"),
    }
