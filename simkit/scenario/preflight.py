"""Pre-flight: estimate what a run will need and refuse, before any allocation, one over the budget.

A valid scenario can still ask for more than a machine has: `resolution: 1ms` for a day is 86 million
ticks per series, `--duration 10000d` 14 million, `replicas: 1000000` a million pod objects. Each
estimate below is compared with a documented budget; a refusal is one `ScenarioError` line that says
what would fit ("use resolution >= 3m for 10000d"). `limits=False` (`--no-limits`) skips the check.

The memory model is measured, not derived: the default scenario (24 series) peaks at 165 MB for 7 days
and 325 MB for 60 days at 60 s resolution, about 90 bytes per tick and series over a 150 MB base;
110 bytes is used, for a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simkit.errors import ScenarioError
from simkit.scenario.base import MAX_INT
from simkit.scenario.model import Scenario
from simkit.units import MAX_DURATION_S, format_duration

MEMORY_BUDGET_BYTES = 4 * 2**30
"""Most memory a run may be estimated to need: 4 GiB."""
TICK_BUDGET = 5_000_000
"""Most ticks (duration / resolution) a run may have: 5 million (about 10 years at 60 s)."""
POD_BUDGET = 2_000
"""Most pods the workloads may ask for (each its replicas or, with an HPA, the larger maxReplicas)."""
NODE_BUDGET = 1_000
"""Most nodes the node pools may grow to (the sum of max_nodes)."""
FAILURE_BUDGET = 100_000
"""Most node failures expected over a run (annual_rate x nodes x years)."""
BASE_BYTES = 150e6
BYTES_PER_CELL = 110.0
"""Measured: bytes per tick and per series (workloads, routes, queues, node pools)."""

_NICE_S = (1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class Estimate:
    """What a run of `duration_s` at `resolution_s` is expected to need."""

    duration_s: float
    resolution_s: float
    ticks: int
    series: int
    pods: int
    nodes: int
    node_failures: float

    @property
    def memory_bytes(self) -> float:
        return BASE_BYTES + BYTES_PER_CELL * self.ticks * self.series


def estimate(scenario: Scenario, duration_s: float | None = None) -> Estimate:
    """The pre-flight estimate of a run (`duration_s` overrides the scenario's); allocates nothing."""
    sim = scenario.simulation
    duration = sim.duration if duration_s is None else float(duration_s)
    series = len(scenario.workloads) + len(scenario.traffic.routes) + len(scenario.traffic.queues)
    series += len(scenario.cluster.node_pools)
    pods = sum(max(w.replicas, w.hpa.maxReplicas if w.hpa else 0) for w in scenario.workloads)
    nodes = sum(max(p.max_nodes, p.min_nodes) for p in scenario.cluster.node_pools)
    failures = scenario.faults.node_failures
    rate = failures.annual_rate if failures is not None else 0.0
    return Estimate(
        duration_s=duration,
        resolution_s=sim.resolution,
        ticks=math.ceil(duration / sim.resolution),
        series=series,
        pods=pods,
        nodes=nodes,
        node_failures=rate * nodes * duration / (365 * 86400),
    )


def check(scenario: Scenario, duration_s: float | None = None, limits: bool = True) -> Estimate:
    """The estimate; a `ScenarioError` naming the field and what would fit if it is over a budget."""
    est = estimate(scenario, duration_s)
    if not limits:
        return est
    beyond = "; or --no-limits to go beyond"
    if est.ticks > TICK_BUDGET or est.memory_bytes > MEMORY_BUDGET_BYTES:
        fit = _fitting_resolution(est)
        raise ScenarioError(
            f"{format_duration(est.duration_s)} at {format_duration(est.resolution_s)} resolution is "
            f"{est.ticks:,} ticks x {est.series} series (~{est.memory_bytes / 2**30:,.1f} GiB), "
            f"over the budget of {TICK_BUDGET:,} ticks and {MEMORY_BUDGET_BYTES / 2**30:g} GiB; "
            f"use resolution >= {format_duration(fit)} for {format_duration(est.duration_s)}{beyond}",
            path="simulation.resolution",
        )
    if est.pods > POD_BUDGET:
        raise ScenarioError(
            f"the workloads ask for up to {est.pods:,} pods (replicas, or an HPA's maxReplicas), over the "
            f"budget of {POD_BUDGET:,}{beyond}",
            path="workloads",
        )
    if est.nodes > NODE_BUDGET:
        raise ScenarioError(
            f"the node pools may grow to {est.nodes:,} nodes (max_nodes), "
            f"over the budget of {NODE_BUDGET:,}{beyond}",
            path="cluster.node_pools",
        )
    if est.node_failures > FAILURE_BUDGET:
        raise ScenarioError(
            f"about {est.node_failures:,.3g} node failures expected over {format_duration(est.duration_s)} "
            f"on up to {est.nodes:,} nodes, over the budget of {FAILURE_BUDGET:,}{beyond}",
            path="faults.node_failures.annual_rate",
        )
    return est


def seed_value(value: object) -> int:
    """A seed as the API and the CLI take it: a non-negative int64, else one `ScenarioError` line."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise ScenarioError(f"seed: expected an integer from 0 to 2**63-1, got {value!r}")
    return value


def duration_value(value: object) -> float:
    """A run duration in seconds: finite, positive, at most 100 years; else one `ScenarioError` line."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"duration: expected a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 < value <= MAX_DURATION_S):
        raise ScenarioError(f"duration: expected seconds in (0, 100 years], got {value!r}")
    return float(value)


def run_args(seed: object, duration_s: object) -> float:
    """Check `simulate`'s seed and duration arguments; the duration in seconds."""
    seed_value(seed)
    return duration_value(duration_s)


def _fitting_resolution(est: Estimate) -> float:
    """The smallest "nice" resolution at which the run fits both the tick and the memory budgets."""
    cells = (MEMORY_BUDGET_BYTES - BASE_BYTES) / BYTES_PER_CELL / max(est.series, 1)
    need = est.duration_s / min(TICK_BUDGET, cells)
    for nice in _NICE_S:
        if nice >= need:
            return float(nice)
    return float(math.ceil(need / 86400) * 86400)
