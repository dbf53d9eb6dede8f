"""bench/kplatform.py: the seed platform K times (issue 16's scaling curve) is what it says it is."""

from __future__ import annotations

import pytest

import simkit
from bench.kplatform import APP_NAMESPACE, platform, platform_data, workload_count

APPS = [w.name for w in simkit.load_scenario().workloads if w.namespace == APP_NAMESPACE]


def test_k1_is_the_default_scenario() -> None:
    assert platform(1) == simkit.load_scenario()


@pytest.mark.parametrize(("k", "count"), [(1, 14), (3, 28), (10, 77), (30, 217)])
def test_workload_counts_are_the_issues(k: int, count: int) -> None:
    assert workload_count(k) == count


@pytest.mark.parametrize("k", [2, 3, 7])
def test_k_copies_with_unique_names_and_k_times_the_load(k: int) -> None:
    base, sc = simkit.load_scenario(), platform(k)
    names = [w.name for w in sc.workloads]
    assert len(names) == len(set(names))
    assert len(APPS) == 7
    for app in APPS:
        copies = [n for n in names if n == app or n.startswith(f"{app}-k")]
        assert copies == [app] + [f"{app}-k{i}" for i in range(2, k + 1)]
    assert sc.traffic.load.base_rps == pytest.approx(k * base.traffic.load.base_rps)
    assert sum(r.share for r in sc.traffic.routes) == pytest.approx(1.0)
    for i in range(2, k + 1):  # each copy carries the seed's own load
        route = next(r for r in sc.traffic.routes if r.name == f"api-read-k{i}")
        assert route.share * sc.traffic.load.base_rps == pytest.approx(0.6 * base.traffic.load.base_rps)
        assert f"bff-service-k{i}" in [s.service for s in route.path]
        assert "postgresql" in [s.service for s in route.path]  # the data stores are shared
        queue = next(q for q in sc.traffic.queues if q.name == f"llm-agent-tasks-k{i}")
        assert queue.consumer == f"llm-agent-service-k{i}"
        assert queue.tasks_per_request * k == pytest.approx(0.05)
    pool = sc.pool("application-pool")
    assert pool.max_nodes == k * base.pool("application-pool").max_nodes
    assert platform_data(k)["cluster"]["cluster_autoscaler"]["nodes"] == [f"3:{20 * k}:application-pool"]


def test_copies_select_their_own_pods_and_queues() -> None:
    data = platform_data(3)
    w = next(w for w in data["workloads"] if w["name"] == "llm-agent-service-k3")
    terms = w["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert {t["podAffinityTerm"]["labelSelector"]["matchLabels"]["app"] for t in terms} == {
        "llm-agent-service-k3"
    }
    external = next(m for m in w["hpa"]["metrics"] if m["type"] == "External")
    assert external["external"]["metric"]["selector"]["matchLabels"]["queue"] == "llm-agent-tasks-k3"
    rabbit = next(f for f in data["faults"]["data_layer"] if f["workload"] == "rabbitmq")
    assert len(rabbit["broker_for"]) == 9 and "audit-events-k2" in rabbit["broker_for"]


def test_deterministic_and_validated() -> None:
    assert platform_data(4) == platform_data(4)
    assert platform(4) == platform(4)
    with pytest.raises(ValueError, match="k must be"):
        platform_data(0)


def test_each_copy_serves_the_seeds_requests() -> None:
    """Two hours of K = 2: the copy's routes see exactly the requests of the seed's routes."""
    one = simkit.simulate(platform(1), duration=7200.0, seed=1, progress=False)
    two = simkit.simulate(platform(2), duration=7200.0, seed=1, progress=False)
    assert two.summary["requests"] == pytest.approx(2 * one.summary["requests"], rel=1e-9)
    by_route = {name: frame["requests"].to_numpy() for name, frame in one.routes.groupby("route")}
    for name, frame in two.routes.groupby("route"):
        seed_route = str(name).removesuffix("-k2")
        times = 2 if name == "login" else 1  # the shared route (Keycloak, Vault) carries both copies' logins
        assert frame["requests"].to_numpy() == pytest.approx(times * by_route[seed_route], rel=1e-9), name
