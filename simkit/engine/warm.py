"""A warm start: the cluster at the size a running platform has for the load at t=0.

The pods of an HPA-managed workload are as many as its HPA settles on for the load at t=0 (the pure
`control.hpa.decide`, iterated to its fixed point on an observation of that many Ready pods that
share the load), and each autoscaled pool has the nodes the cluster autoscaler's own scale-up
(`control.ca.scale_up`, through `engine.ca_loop.scale_up_at_start`) adds for the pods that do not
fit, within its bounds. `Engine._bootstrap` applies both before t=0; `simulation.start: cold`
starts at the declared replicas and `min_nodes` / `initial_nodes` instead.
"""

from __future__ import annotations

from simkit.control.hpa import (
    HPAObservation,
    HPAState,
    PodSample,
    compute_replicas_for_metrics,
    decide,
    hpa_spec_from_k8s,
)
from simkit.engine.ca_loop import scale_up_at_start
from simkit.engine.cluster import WARM_START_S, Engine, WarmStart
from simkit.engine.metrics import METRIC_RESOLUTION_S, ObserveCache, external_values
from simkit.scenario.model import Workload

__all__ = ["MAX_ITERATIONS", "WARM", "settled_replicas"]

MAX_ITERATIONS = 200
"""Bound on the HPA's fixed-point iteration (each step is at most one sync's scale-up or -down)."""


def settled_replicas(engine: Engine, workload: Workload) -> int:
    """The replicas the workload's HPA settles on for the load at t=0 (its declared replicas without one).

    Each step is one `decide` on `n` Ready pods sharing the t=0 load, from a fresh HPA state (so
    the behavior's rate limits only slow the iteration down, never move its fixed point). A cycle
    (tolerance bands that do not overlap) settles on its largest count: the HPA never scales below
    what some step of it asked for.
    """
    if workload.hpa is None:
        return workload.replicas
    spec = hpa_spec_from_k8s(workload.hpa.model_dump(exclude_none=True))
    config = engine.scenario.cluster.hpa_config
    cache = ObserveCache(workload, engine.scenario)
    n, seen = workload.replicas, [workload.replicas]
    for _ in range(MAX_ITERATIONS):
        obs = _ready_observation(engine, workload, n, cache)
        metrics = compute_replicas_for_metrics(spec, obs, 0.0, config)
        nxt = decide(spec, obs, HPAState(), 0.0, config, metrics=metrics).desired_replicas
        if nxt == n:
            return n
        if nxt in seen:
            return max(seen[seen.index(nxt) :])
        seen.append(nxt)
        n = nxt
    return n


def _ready_observation(engine: Engine, w: Workload, n: int, cache: ObserveCache) -> HPAObservation:
    """What the metrics APIs report at t=0 for `n` pods that have served for `WARM_START_S`
    (as `engine.metrics._pod_sample` reports a Ready pod past its start)."""
    per_pod_rps = engine.traffic.arrival_rate(w.name, 0.0) / max(1, n)
    cpu = w.serving.base_cpu + per_pod_rps * w.serving.cpu_per_request * 1000
    usage = (int(min(cpu, cache.cpu_limit) if cache.cpu_limit else cpu), cache.memory)
    custom = dict.fromkeys(cache.pods_metrics, int(round(per_pod_rps * 1000)))
    started = -WARM_START_S + w.startup.image_pull
    pod = {
        "start_time": started,
        "ready_transition_time": -WARM_START_S,
        "containers": cache.containers(usage),
        "metric_time": 0.0,
        "metric_window_s": METRIC_RESOLUTION_S,
        **({"metrics": custom} if custom else {}),
    }
    return HPAObservation(
        spec_replicas=n,
        status_replicas=n,
        pods=tuple(PodSample(name=f"{w.name}-{i}", **pod) for i in range(n)),  # type: ignore[arg-type]
        object_values={name: int(round(rate(engine, 0.0) * 1000)) for name, rate in cache.objects},
        external_values=external_values(engine, w, 0.0, cache.externals),
    )


WARM = WarmStart(replicas=settled_replicas, nodes=scale_up_at_start)
"""The warm start the composition root hands the engine (`simulation.start: warm`)."""
