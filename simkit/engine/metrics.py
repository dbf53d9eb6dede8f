"""What the metrics APIs report to an HPA: per-pod CPU and memory, Pods/Object (custom) and External
metrics, computed from the engine's pods and the traffic model.

Metrics pipeline (an assumption, stated): metrics-server scrapes every 15 s (its default
`--metric-resolution`), so the HPA sees per-pod CPU averaged over the last 15 s window, sampled at
the last scrape; a pod's CPU use is `base_cpu` plus its share of the workload's requests times
`cpu_per_request`, capped at its CPU limit. The External queue metric is RabbitMQ's `messages`
(ready plus unacknowledged) for the queue named by the metric's `queue` label or by its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from simkit.control.hpa import ContainerSample, HPAObservation, PodSample
from simkit.control.hpa.types import frozen_mapping
from simkit.engine.cluster import Engine
from simkit.engine.state import Pod, PodPhase
from simkit.scenario.model import Scenario, Workload
from simkit.units import MIB

__all__ = ["METRIC_RESOLUTION_S", "ObjectRate", "ObserveCache", "external_values", "observe"]

METRIC_RESOLUTION_S = 15.0  # metrics-server --metric-resolution default


class ObserveCache:
    """What `observe` needs of one workload that never changes, and its container samples by usage.

    Container samples are immutable, so one per distinct (cpu, memory) usage is shared by every pod
    and sync that reports it; only the per-pod `PodSample` is built at each sync.
    """

    MAX_CONTAINERS = 4096  # distinct usages kept; the cache starts over beyond this

    def __init__(self, w: Workload, scenario: Scenario | None = None) -> None:
        self.requests = frozen_mapping(
            {"cpu": w.resources.requests.cpu, "memory": int(w.resources.requests.memory * MIB * 1000)}
        )
        self.pending = (ContainerSample("app", requests=self.requests),)
        limits = w.resources.limits
        self.cpu_limit = limits.cpu if limits is not None and limits.cpu else None
        self.memory = int(w.serving.base_memory * MIB * 1000)
        self.externals = _external_queues(w)
        self.pods_metrics, self.objects = _custom_metrics(w, scenario)
        self._containers: dict[tuple[int, int] | None, tuple[ContainerSample, ...]] = {}

    def containers(self, usage: tuple[int, int] | None) -> tuple[ContainerSample, ...]:
        """The container tuple of a pod with this (cpu, memory) usage, or no sample (None)."""
        got = self._containers.get(usage)
        if got is None:
            if len(self._containers) >= self.MAX_CONTAINERS:
                self._containers.clear()
            values = {} if usage is None else {"cpu": usage[0], "memory": usage[1]}
            got = self._containers[usage] = (ContainerSample("app", requests=self.requests, usage=values),)
        return got


def observe(
    engine: Engine, workload: Workload, now: float, cache: ObserveCache | None = None
) -> HPAObservation:
    """What the metrics APIs report for this workload's pods and its External metrics at `now`."""
    cache = cache or ObserveCache(workload)
    sample_t = now - math.fmod(now, METRIC_RESOLUTION_S)
    pods = [p for p in engine.state.pods_of(workload.name) if p.phase is not PodPhase.GONE]
    ready = max(1, engine.ready_count[workload.name])
    per_pod_rps = engine.traffic.arrival_rate(workload.name, sample_t) / ready
    samples = tuple([_pod_sample(engine, workload, p, per_pod_rps, sample_t, cache) for p in pods])
    return HPAObservation(
        spec_replicas=engine.desired[workload.name],
        status_replicas=sum(1 for p in pods if p.phase is not PodPhase.TERMINATING),
        pods=samples,
        object_values={name: _milli(rate(engine, sample_t)) for name, rate in cache.objects},
        external_values=external_values(engine, workload, now, cache.externals),
    )


def _milli(value: float) -> int:
    """A metric value as the metrics APIs serve it: a quantity in milli-units, rounded."""
    return int(round(value * 1000))


ObjectRate = Callable[[Engine, float], float]


def _route_rate(engine: Engine, t: float, share: float) -> float:
    """Requests per second entering a route (an Ingress) at time t: its share of the load."""
    traffic = engine.traffic
    return float(traffic.load_rps[min(traffic.t_s.size - 1, int(t // traffic.dt))] * share)


def _workload_rate(engine: Engine, t: float, workload: str) -> float:
    """Requests (and tasks) per second arriving at a workload at time t."""
    return engine.traffic.arrival_rate(workload, t)


def _custom_metrics(
    w: Workload, scenario: Scenario | None
) -> tuple[tuple[str, ...], tuple[tuple[str, ObjectRate], ...]]:
    """The workload's HPA metrics served by the custom metrics API (`cluster.metrics_adapter`).

    Pods metrics: each pod's request rate (names). Object metrics: (name, the rate at a sample
    time) of the described workload (all its arrivals) or Ingress (its route's requests).
    """
    if w.hpa is None or scenario is None:
        return (), ()
    pods: list[str] = []
    objects: list[tuple[str, ObjectRate]] = []
    routes = {r.name: r for r in scenario.traffic.routes}
    for metric in w.hpa.metrics:
        source = metric.pods if metric.type == "Pods" else metric.object if metric.type == "Object" else None
        name = ((source or {}).get("metric") or {}).get("name")
        if not isinstance(name, str) or name not in scenario.cluster.metrics_adapter:
            continue  # no source: the HPA reports FailedGet... as a real one would
        if metric.type == "Pods":
            pods.append(name)
            continue
        described = (source or {}).get("describedObject") or {}
        target = described.get("name", "")
        if described.get("kind") == "Ingress" and target in routes:
            share = routes[target].share
            objects.append((name, partial(_route_rate, share=share)))
        else:
            objects.append((name, partial(_workload_rate, workload=target)))
    return tuple(pods), tuple(objects)


def _pod_sample(
    engine: Engine, w: Workload, pod: Pod, per_pod_rps: float, sample_t: float, cache: ObserveCache
) -> PodSample:
    phase = pod.phase
    if phase is PodPhase.PENDING or pod.bound_s is None:
        return PodSample(
            name=pod.name, start_time=None, phase="Pending", ready=False, containers=cache.pending
        )
    started = pod.bound_s + w.startup.image_pull
    running = engine.env.now >= started
    serving = phase is PodPhase.READY
    usage = None
    custom: dict[str, int] = {}
    if running and sample_t >= started:
        cpu = w.serving.base_cpu + (per_pod_rps * w.serving.cpu_per_request * 1000 if serving else 0.0)
        limit = cache.cpu_limit
        usage = (int(min(cpu, limit) if limit else cpu), cache.memory)
        if cache.pods_metrics:  # a pod that is not Ready receives no requests
            custom = dict.fromkeys(cache.pods_metrics, _milli(per_pod_rps) if serving else 0)
    return PodSample(
        name=pod.name,
        start_time=started if running else None,
        phase="Running" if running else "Pending",
        ready=serving,
        deleting=phase is PodPhase.TERMINATING,
        ready_transition_time=pod.ready_s if pod.ready_s is not None else started,
        containers=cache.containers(usage),
        metric_time=sample_t,
        metric_window_s=METRIC_RESOLUTION_S,
        **({"metrics": custom} if custom else {}),  # absent: the shared empty mapping, not a copy
    )


def _external_queues(workload: Workload) -> tuple[tuple[str, str], ...]:
    """(metric name, RabbitMQ queue) of each External metric of the workload's HPA."""
    out = []
    for metric in workload.hpa.metrics if workload.hpa else []:
        if metric.type != "External" or not metric.external:
            continue
        ident = metric.external.get("metric", {})
        name = ident.get("name", "")
        out.append((name, (ident.get("selector") or {}).get("matchLabels", {}).get("queue", name)))
    return tuple(out)


def external_values(
    engine: Engine, workload: Workload, now: float, queues: tuple[tuple[str, str], ...] | None = None
) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for name, queue in _external_queues(workload) if queues is None else queues:
        if queue in engine.traffic.queues:
            out[name] = (int(round(engine.traffic.queue_messages(queue, now) * 1000)),)
    return out
