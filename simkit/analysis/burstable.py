"""CPU credits of burstable node pools (AWS t3/t3a/t4g, Azure B-series, GCP e2 shared-core).

A burstable type sustains `baseline_cpu_share` of each vCPU; above it, it spends CPU credits (one
credit = one vCPU at 100 % for one minute) earned at `cpu_credits_per_hour` and banked up to
`cpu_credits_max` (the catalog's `instance_details.csv`, with sources). A plan that needs more than the
baseline for longer than the bank lasts is capped at the baseline (AWS standard mode, Azure B-series,
GCP: a missed check) or pays surplus credits (AWS unlimited mode, the default for T3/T3a/T4g: no
check, the surplus and its price in the `cpu_credits` table).

The engine records no per-node CPU use, so this is an estimate made after the run:

* a workload's CPU use per tick: `base_cpu` per ready pod plus served requests (for a queue consumer,
  completed tasks) x `cpu_per_request`, capped at its pods' CPU limit (as `engine.metrics` reports it
  to the HPA); DaemonSet pods are counted at zero;
* a workload runs on the pools whose empty node its pod fits (the scheduler's filters,
  `analysis.schedulable.pool_templates`), split evenly when several do;
* the hottest node of a pool carries the pool's use spread over its ready nodes, but never less than
  one whole pod of its busiest workload (a single PostgreSQL pod is not spread over three nodes);
* each pool's hottest node starts with a full bank (a node running a day below its baseline; AWS
  gives T3/T4g no launch credits, so a freshly launched node is worse off), earns at its baseline and
  spends its use, minute by tick.

Known limit: the flag does not feed back into the run; a throttled node still serves at full speed
in the simulation. The surplus vCPU-hours say what AWS unlimited mode would charge instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simkit.analysis.schedulable import pool_templates
from simkit.analysis.slo import Check
from simkit.catalog import InstanceType, load_catalog
from simkit.control.scheduler import schedule
from simkit.engine.content_memo import ContentMemo
from simkit.engine.convert import pod_spec
from simkit.scenario.model import Scenario, Workload

UNLIMITED_BY_DEFAULT_USD = {"t3": 0.05, "t3a": 0.05, "t4g": 0.04}
"""AWS families that launch in unlimited mode unless told otherwise, and their surplus-credit price per
vCPU-hour (Linux). Default mode: AWS EC2 API, RunInstances `CreditSpecification`: "Default: standard (T2
instances) or unlimited (T3/T3a/T4g instances)"; prices: EC2 on-demand pricing, "T2/T3/T4g Unlimited Mode
Pricing" ($0.05 for T3/T3a, $0.04 for T4g, as quoted in gitlab-org/ci-cd/docker-machine!118, read 2026-12-06).
Such a node is never throttled at its baseline: it bills the surplus instead. Azure B-series and GCP e2
shared-core have no such mode: they are held at their baseline."""


def credit_mode(itype: InstanceType) -> str:
    """'unlimited' (bills surplus, never throttled) or 'standard' (capped at the baseline)."""
    return "unlimited" if itype.provider == "aws" and itype.family in UNLIMITED_BY_DEFAULT_USD else "standard"


__all__ = [
    "CreditRun",
    "burstable_pools",
    "credit_checks",
    "credit_rows",
    "cpu_use",
    "credit_runs",
    "credit_runs_from",
    "credit_table",
    "pool_cpu_use",
    "workload_cpu_use",
]


def burstable_pools(scenario: Scenario) -> dict[str, InstanceType]:
    """Pool name -> its instance type, for the pools of a burstable type."""
    catalog = load_catalog()
    cluster = scenario.cluster
    out = {}
    for pool in cluster.node_pools:
        itype = catalog.instance(cluster.provider, cluster.region, pool.instance_type)
        if itype.burstable:
            out[pool.name] = itype
    return out


def workload_pools(scenario: Scenario) -> dict[str, list[str]]:
    """Workload -> the pools whose empty node its pod fits (the scheduler's filters)."""
    templates = {p.name: pool_templates(scenario, p) for p in scenario.cluster.node_pools}
    out = {}
    for w in scenario.workloads:
        spec = pod_spec(w, f"{w.name}-0")
        out[w.name] = [name for name, nodes in templates.items() if schedule(spec, nodes).node is not None]
    return out


FAST_CREDITS = True  # Python-float bank walk and rows grouped once; tests turn it off (reference path)


def _step(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A step function (value holds from its time on) sampled at `at`; 0 before the first time."""
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)


def _rows_by(frame: pd.DataFrame, column: str) -> Callable[[str], pd.DataFrame]:
    """`key -> frame[frame[column] == key]` (same rows, same order), grouped once instead of one
    full-column comparison per key."""
    if not FAST_CREDITS:  # the reference path
        return lambda key: frame[frame[column] == key]
    groups = {key: rows for key, rows in frame.groupby(column, sort=False)} if len(frame) else {}
    empty = frame.iloc[0:0]
    return lambda key: groups.get(key, empty)


def _limit_cores(w: Workload) -> float:
    limits = w.resources.limits
    return float(limits.cpu) / 1000 if limits is not None and limits.cpu else float("inf")


Columns = Mapping[str, tuple[np.ndarray, np.ndarray]]
"""Per service (or queue): its (ready replicas or consumers, served or completed) per tick."""


def workload_cpu_use(
    scenario: Scenario,
    services: pd.DataFrame,
    queues: pd.DataFrame,
    replicas: pd.DataFrame,
    ticks: np.ndarray,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Workload -> (CPU use in vCPU, ready pods) per tick of `ticks` (start of each tick)."""
    services_of, queues_of = _rows_by(services, "service"), _rows_by(queues, "queue")
    full = {w.name for w in scenario.workloads}

    def columns(
        rows_of: Callable[[str], pd.DataFrame], names: Iterable[str], ready: str, done: str
    ) -> Columns:
        out = {}
        for name in names:
            rows = rows_of(name)
            if len(rows) == len(ticks):  # only a service (queue) with a row per tick is read
                out[name] = (rows[ready].to_numpy(float), rows[done].to_numpy(float))
        return out

    consumed = [q.name for q in scenario.traffic.queues if q.consumer in full]
    return cpu_use(
        scenario,
        columns(services_of, full, "ready_replicas", "served"),
        columns(queues_of, consumed, "consumers", "completed"),
        replicas,
        ticks,
    )


def cpu_use(
    scenario: Scenario, services: Columns, queues: Columns, replicas: pd.DataFrame, ticks: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`workload_cpu_use` from each service's and queue's columns as arrays (`Columns`; only those with
    a value per tick), without the per-tick tables: what a Monte Carlo run's credit check reads."""
    tick_s = float(np.diff(ticks).min()) if len(ticks) > 1 else 60.0
    consumers = {q.consumer: q.name for q in scenario.traffic.queues}
    out = {}
    replicas_of = _rows_by(replicas, "workload")
    for w in scenario.workloads:
        rows = replicas_of(w.name)
        ready = _step(rows["t_s"].to_numpy(float), rows["ready"].to_numpy(float), ticks)
        work = np.zeros_like(ticks, dtype=float)
        if w.name in services:
            ready, served = services[w.name]
            work = served / tick_s * float(w.serving.cpu_per_request)
        elif w.name in consumers and consumers[w.name] in queues:
            ready, completed = queues[consumers[w.name]]
            work = completed / tick_s * float(w.serving.cpu_per_request)
        limit = _limit_cores(w)  # no limit: inf, and 0 ready pods x inf would be NaN (no use at all: 0)
        cap = ready * limit if math.isfinite(limit) else np.full_like(ready, math.inf)
        use = np.minimum(ready * float(w.serving.base_cpu) / 1000 + work, cap)
        out[w.name] = (use, ready)
    return out


def pool_cpu_use(
    scenario: Scenario, use: dict[str, tuple[np.ndarray, np.ndarray]], nodes: pd.DataFrame, ticks: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pool -> (CPU use of its hottest node in vCPU, ready nodes) per tick (see the module docstring)."""
    placed = workload_pools(scenario)
    out = {}
    for pool in scenario.cluster.node_pools:
        rows = nodes[nodes["pool"] == pool.name]
        count = np.zeros_like(ticks, dtype=float)
        for _, zone in rows.groupby("zone"):
            count += _step(zone["t_s"].to_numpy(float), zone["ready_nodes"].to_numpy(float), ticks)
        total = np.zeros_like(ticks, dtype=float)
        one_pod = np.zeros_like(ticks, dtype=float)
        for w, pools in placed.items():
            if pool.name not in pools:
                continue
            cpu, ready = use[w]
            share = cpu / len(pools)
            total += share
            per_pod = np.divide(cpu, ready, out=np.zeros_like(cpu), where=ready > 0)
            one_pod = np.maximum(one_pod, per_pod)
        spread = np.divide(total, count, out=total.copy(), where=count > 0)
        out[pool.name] = (np.maximum(spread, one_pod), count)
    return out


@dataclass(frozen=True)
class CreditRun:
    """The credit bank of one pool's hottest node over the run."""

    pool: str
    itype: InstanceType
    peak_vcpu: float
    minutes_above_baseline: float
    min_balance: float
    exhausted_at_s: float  # nan: never
    minutes_capped: float  # above the baseline with an empty bank
    surplus_vcpu_hours: float  # what AWS unlimited mode would bill instead of capping

    @property
    def baseline_vcpu(self) -> float:
        assert self.itype.baseline_cpu_share is not None
        return self.itype.baseline_cpu_share * self.itype.vcpu

    @property
    def mode(self) -> str:
        return credit_mode(self.itype)

    @property
    def surplus_usd(self) -> float:
        """What unlimited mode bills for the surplus over the run (0 in standard mode: it throttles)."""
        return self.surplus_vcpu_hours * UNLIMITED_BY_DEFAULT_USD.get(self.itype.family, 0.0)


def simulate_credits(pool: str, itype: InstanceType, use: np.ndarray, ticks: np.ndarray) -> CreditRun:
    """Earn at the baseline, spend the use, bank up to the maximum; start full (see the docstring)."""
    assert itype.baseline_cpu_share is not None and itype.cpu_credits_max is not None
    baseline = itype.baseline_cpu_share * itype.vcpu
    cap = float(itype.cpu_credits_max)
    use = np.minimum(use, float(itype.vcpu))
    minutes = np.diff(ticks, append=ticks[-1] + (ticks[-1] - ticks[-2] if len(ticks) > 1 else 60.0)) / 60
    balance, low, exhausted, capped, surplus = cap, cap, float("nan"), 0.0, 0.0
    # The bank is a running sum clipped at 0 and at the cap: sequential by nature. Walked over Python
    # floats (the same IEEE double operations as numpy's scalars, so the same bits, ~5x faster).
    columns = (ticks.tolist(), use.tolist(), minutes.tolist()) if FAST_CREDITS else (ticks, use, minutes)
    for t, u, m in zip(*columns, strict=True):
        balance += (baseline - u) * m
        if balance < 0:
            if exhausted != exhausted:  # nan: not yet
                exhausted = float(t)
            capped += m
            surplus += -balance / 60
            balance = 0.0
        balance = min(balance, cap)
        low = min(low, balance)
    above = float(minutes[use > baseline].sum())
    return CreditRun(
        pool, itype, float(use.max()) if len(use) else 0.0, above, low, exhausted, capped, surplus
    )


def credit_runs(
    scenario: Scenario,
    services: pd.DataFrame,
    queues: pd.DataFrame,
    replicas: pd.DataFrame,
    nodes: pd.DataFrame,
) -> list[CreditRun]:
    """One `CreditRun` per burstable pool (none without one)."""
    if not burstable_pools(scenario) or services.empty:
        return []
    ticks = np.unique(services["t_s"].to_numpy(float))
    return credit_runs_from(
        scenario, workload_cpu_use(scenario, services, queues, replicas, ticks), nodes, ticks
    )


def credit_runs_from(
    scenario: Scenario, use: dict[str, tuple[np.ndarray, np.ndarray]], nodes: pd.DataFrame, ticks: np.ndarray
) -> list[CreditRun]:
    """`credit_runs` from the workloads' CPU use (`workload_cpu_use` or `cpu_use`) on `ticks`."""
    pools = burstable_pools(scenario)
    if not pools:
        return []
    hottest = pool_cpu_use(scenario, use, nodes, ticks)
    # the same use on the same ticks gives the same bank (in a batch, the earlier seeds' one)
    credits_of = ContentMemo(simulate_credits)
    return [credits_of(name, itype, hottest[name][0], ticks) for name, itype in pools.items()]


def credit_rows(runs: list[CreditRun]) -> list[tuple[object, ...]]:
    """Rows of the `cpu_credits` table."""
    return [
        (
            r.pool,
            r.itype.name,
            r.baseline_vcpu,
            r.itype.cpu_credits_per_hour,
            r.itype.cpu_credits_max,
            r.peak_vcpu,
            r.minutes_above_baseline,
            r.min_balance,
            r.exhausted_at_s,
            r.minutes_capped,
            r.surplus_vcpu_hours,
            r.mode,
            r.surplus_usd,
        )
        for r in runs
    ]


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def credit_checks(runs: list[CreditRun]) -> list[Check]:
    """A missed check per burstable pool whose hottest node ran out of CPU credits (none otherwise)."""
    out = []
    for r in runs:
        if r.minutes_capped <= 0 or r.mode == "unlimited":  # unlimited mode bills, it does not throttle
            continue
        line = (
            f"{r.pool} ({r.itype.name}): its busiest node needs up to {r.peak_vcpu:.2f} vCPU against a "
            f"baseline of {r.baseline_vcpu:.2f}; its {r.itype.cpu_credits_max:.0f} CPU credits run out after "
            f"{_hours(r.exhausted_at_s)} and it stays capped at the baseline for {r.minutes_capped:.0f} min; "
            "use a non-burstable type"
        )
        out.append(
            Check(
                target=f"CPU credits {r.pool}",
                threshold=0.0,
                value=r.minutes_capped,
                unit="min",
                passed=False,
                margin=-r.minutes_capped,
                reason=f"minutes above the baseline with no CPU credits left: {r.minutes_capped:.0f} > 0",
                cause=line,
            )
        )
    return out


CREDIT_COLUMNS = (
    "pool",
    "instance_type",
    "baseline_vcpu",
    "credits_per_hour",
    "credits_max",
    "peak_vcpu",
    "minutes_above_baseline",
    "min_balance",
    "exhausted_at_s",
    "minutes_capped",
    "surplus_vcpu_hours",
    "mode",
    "surplus_usd_total",
)


def credit_table(runs: list[CreditRun]) -> pd.DataFrame:
    """The `cpu_credits` table of these runs."""
    return pd.DataFrame(credit_rows(runs), columns=list(CREDIT_COLUMNS))
