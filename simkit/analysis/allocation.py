"""Cost allocation per namespace and workload with the idle share, the way OpenCost reports it.

OpenCost (opencost.io/docs/specification, "Resource Allocation Costs" and "Idle costs") charges a
workload for the CPU and RAM allocated to its pods, the larger of request and usage, at the price of
the node they run on; what the nodes cost beyond all allocations is "idle" (`__idle__`), shown apart.
A node's hourly price is split into a CPU and a RAM part in the ratio of OpenCost's default unit rates
(`unit_rate:cpu_hour` vCPU-hour and `unit_rate:memory_gib_hour` GiB-hour in data/prices.csv, from
opencost `configs/default.json`).

Here, per tick of the run: a workload's CPU is max(ready pods x CPU request, CPU use) with the use as
`analysis.burstable.workload_cpu_use` estimates it; its RAM is ready pods x max(memory request,
`base_memory`) (the engine models no other memory use). It is priced on the pools its pod fits
(split evenly when several do), at that pool's instance price and capacity type. Each pool's idle share is
its node cost (the `cost` table's row, 730 h x average nodes x price) minus what was allocated on it,
so the table sums to the worker-node cost. DaemonSet pods are counted in the idle share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simkit.analysis.burstable import workload_cpu_use, workload_pools
from simkit.catalog import HOURS_PER_MONTH, load_catalog
from simkit.scenario.model import Scenario

__all__ = ["ALLOCATION_COLUMNS", "IDLE", "cost_allocation", "cpu_ram_prices"]

_NODES = "worker nodes: "
IDLE = "__idle__"  # OpenCost's name for the unallocated share
ALLOCATION_COLUMNS = (
    "namespace",
    "workload",
    "pool",
    "cpu_cost_usd_month",
    "memory_cost_usd_month",
    "total_usd_month",
    "share",
)


def cpu_ram_prices(usd_hour: float, vcpu: float, memory_gib: float) -> tuple[float, float]:
    """(USD per vCPU-hour, USD per GiB-hour) of a node, its price split by OpenCost's default ratio."""
    catalog = load_catalog()
    cpu_rate = catalog.price_usd("any", "default", "unit_rate:cpu_hour")
    ram_rate = catalog.price_usd("any", "default", "unit_rate:memory_gib_hour")
    weight = vcpu * cpu_rate + memory_gib * ram_rate
    return usd_hour * cpu_rate / weight, usd_hour * ram_rate / weight


def _pool_node_cost(cost: pd.DataFrame) -> dict[str, float]:
    """Pool -> its monthly node cost, from the cost table's 'worker nodes: <pool> (<capacity>)' rows."""
    out: dict[str, float] = {}
    for component, usd in zip(cost["component"], cost["monthly_usd"], strict=True):
        if str(component).startswith(_NODES):
            pool = str(component)[len(_NODES) :].split(" (", 1)[0]
            out[pool] = out.get(pool, 0.0) + float(usd)
    return out


def cost_allocation(
    scenario: Scenario,
    services: pd.DataFrame,
    queues: pd.DataFrame,
    replicas: pd.DataFrame,
    cost: pd.DataFrame,
) -> pd.DataFrame:
    """One row per (workload, pool) and one `__idle__` row per pool; `total_usd_month` sums to node cost."""
    catalog = load_catalog()
    cluster = scenario.cluster
    node_cost = _pool_node_cost(cost)
    ticks = (
        np.unique(services["t_s"].to_numpy(float))
        if not services.empty
        else np.unique(replicas["t_s"].to_numpy(float))
    )
    use = workload_cpu_use(scenario, services, queues, replicas, ticks)
    placed = workload_pools(scenario)
    prices = {}
    for pool in cluster.node_pools:
        itype = catalog.instance(cluster.provider, cluster.region, pool.instance_type)
        prices[pool.name] = cpu_ram_prices(itype.usd_hour(pool.capacity_type), itype.vcpu, itype.memory_gib)
    rows = []
    allocated = dict.fromkeys(prices, 0.0)
    for w in scenario.workloads:
        pools = placed.get(w.name) or []
        cpu_use, ready = use[w.name]
        cpu = np.maximum(ready * float(w.resources.requests.cpu) / 1000, cpu_use).mean()
        mem_gib = (
            ready * max(float(w.resources.requests.memory), float(w.serving.base_memory))
        ).mean() / 1024
        for name in pools:
            cpu_usd = cpu / len(pools) * prices[name][0] * HOURS_PER_MONTH
            mem_usd = mem_gib / len(pools) * prices[name][1] * HOURS_PER_MONTH
            allocated[name] += cpu_usd + mem_usd
            rows.append([w.namespace, w.name, name, cpu_usd, mem_usd, cpu_usd + mem_usd])
    for name in prices:
        rows.append(["", IDLE, name, float("nan"), float("nan"), node_cost.get(name, 0.0) - allocated[name]])
    frame = pd.DataFrame(rows, columns=list(ALLOCATION_COLUMNS[:-1]))
    total = float(frame["total_usd_month"].sum())
    frame["share"] = frame["total_usd_month"] / total if total else 0.0
    return frame
