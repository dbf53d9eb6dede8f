"""The composition root: one run of a scenario, with its loops and faults wired in one place.

`Engine` (engine/cluster.py) is the cluster: nodes, pods, the scheduler loop and the output rows;
nodes are launched through its `Cloud` (engine/cloud.py). The processes that act on it are listed
in `LOOPS`, in the order they start: processes started at the same simulated instant run in that
order, so the order is part of the results (tables stay identical only if it is kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from simkit.engine.cluster import STREAMS, WARM_START_S, Engine, EngineOutput, PoolShape
from simkit.engine.faults import DataAvailability, start_faults
from simkit.engine.hpa_loop import start_hpa_loops
from simkit.engine.karpenter_loop import bootstrap_nodeclaims, start_node_provisioner
from simkit.engine.plans import start_plans
from simkit.engine.warm import WARM
from simkit.scenario.model import Scenario

__all__ = ["LOOPS", "STREAMS", "WARM_START_S", "Engine", "EngineOutput", "PoolShape", "run_engine"]

LOOPS: tuple[Callable[[Engine], None], ...] = (
    # (the scheduler loop and the data layer's primary election start first, inside Engine.run)
    start_hpa_loops,  # one HPA per workload with an `hpa`; draws each timer phase from "controllers"
    start_node_provisioner,  # the CA loop (if `cluster.cluster_autoscaler` is set), or Karpenter
    start_faults,  # spot interruptions and reclaims, node crashes, AZ outages (engine/faults.py FAULTS)
    start_plans,  # deployment plans (engine/plans.py RUNNERS); nothing without `plans:`
)
"""What acts on the cluster during a run, in start order. A new controller loop or fault process
goes here (or into `start_faults`), not into `Engine`."""


def run_engine(
    scenario: Scenario,
    seed: int | None = None,
    duration_s: float | None = None,
    base_dir: Path | None = None,
    progress: bool | None = None,
    hook: Callable[[Engine], None] | None = None,
) -> EngineOutput:
    """Run one replication; `hook` may add processes (faults, checks) before the clock starts."""
    seed = scenario.simulation.seed if seed is None else seed
    duration = scenario.simulation.duration if duration_s is None else duration_s
    if not math.isfinite(duration) or duration <= 0:
        raise ValueError("duration must be positive")
    engine = Engine(scenario, seed, duration, base_dir, progress)
    engine.data = {d.workload: DataAvailability(engine, d) for d in scenario.faults.data_layer}
    engine.warm = WARM if scenario.simulation.start == "warm" else None
    if scenario.cluster.node_provisioner == "karpenter":
        engine.before_start = bootstrap_nodeclaims
    if hook is not None:
        hook(engine)
    return engine.run(LOOPS)
