"""Cost allocation per namespace and workload with the idle share (OpenCost's method)."""

from __future__ import annotations

import pytest

import simkit
from simkit.analysis.allocation import IDLE, cpu_ram_prices


@pytest.fixture(scope="module")
def result() -> simkit.RunResult:
    return simkit.simulate(None, duration=86400, seed=1)


def test_allocation_sums_to_the_node_cost(result: simkit.RunResult) -> None:
    table = result.cost_allocation
    assert table["total_usd_month"].sum() == pytest.approx(result.summary["node_cost_usd_month"], rel=1e-9)
    assert table["share"].sum() == pytest.approx(1.0)
    per_pool = table.groupby("pool")["total_usd_month"].sum()
    cost = result.cost.set_index("component")["monthly_usd"]
    assert per_pool["data-pool"] == pytest.approx(cost["worker nodes: data-pool (on-demand)"])


def test_idle_is_apart_and_workloads_are_cpu_plus_memory(result: simkit.RunResult) -> None:
    table = result.cost_allocation
    idle = table[table["workload"] == IDLE]
    assert set(idle["pool"]) == {"application-pool", "data-pool", "infrastructure-pool"}
    work = table[table["workload"] != IDLE]
    assert (
        (work["cpu_cost_usd_month"] + work["memory_cost_usd_month"])
        .round(9)
        .equals(work["total_usd_month"].round(9))
    )
    assert set(work["namespace"]) == {"application", "data", "infrastructure", "istio-system"}


def test_node_price_split_by_opencost_default_ratio() -> None:
    cpu, ram = cpu_ram_prices(0.192, 4, 16)  # m5.xlarge
    assert 4 * cpu + 16 * ram == pytest.approx(0.192)
    assert cpu / ram == pytest.approx(0.031611 / 0.004237)


def test_postgresql_allocation_is_its_requests_at_the_node_price(result: simkit.RunResult) -> None:
    cpu, ram = cpu_ram_prices(0.252, 4, 32)  # r5.xlarge on-demand, data pool
    row = result.cost_allocation.set_index("workload").loc["postgresql"]
    assert row["cpu_cost_usd_month"] == pytest.approx(3 * 1.0 * cpu * 730, rel=0.02)  # 3 pods x 1 CPU
    assert row["memory_cost_usd_month"] == pytest.approx(3 * 4.0 * ram * 730, rel=0.02)  # 3 x 4 GiB
