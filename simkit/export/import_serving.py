"""What an imported HPA's Resource metrics read when the manifests do not say what a request costs.

Manifests give a pod's CPU request, never the CPU one request consumes, so an imported workload had
`serving.cpu_per_request` 0: its CPU utilisation read 0 (or `base_cpu`) and an HPA scaling on CPU held
minReplicas whatever the load, a verdict nothing in the manifests supports.

Default (an assumption, stated in the scenario's header and by `simkit run`'s import reminder): a workload
whose HPA reads CPU and whose manifest leaves `cpu_per_request` out is **CPU-bound**: while it serves a
request it keeps busy all the CPU that request may use,

    cpu_per_request = service_time x min(1, cores / concurrency)

with `cores` the pod's CPU limit, else its request (the cap simkit's engine applies:
simkit/engine/traffic.py `servers_per_pod`) and `service_time`/`concurrency` simkit's defaults (20 ms, 1)
unless `simkit.io/serving` states them. Why:

- what CPU per request means: CPU seconds one request consumes. In a real cluster the HPA divides each
  pod's CPU usage (metrics-server's `usageNanoCores`, from the kubelet's cAdvisor counters: CPU seconds
  per second) by its request (kubernetes pkg/controller/podautoscaler/replica_calculator.go
  `GetResourceReplicas`, v1.30); in simkit a pod's usage is `base_cpu + per-pod req/s x
  cpu_per_request` (simkit/engine/metrics.py), the Utilization Law U = X x D of operational analysis
  (Denning & Buzen, ACM Computing Surveys 10(3), 1978) with D the CPU demand of one request;
- a CPU-bound handler consumes CPU for its whole service time, one core at most, and under a CPU limit
  its `concurrency` requests share `cores` (CFS bandwidth control), so each consumes min(1, cores /
  concurrency) of a core while it is served. An I/O-bound one consumes less (the seed's services state
  25-50 % of their service time): that is the user's to state, this is the upper end;
- so a pod with every server busy uses exactly min(concurrency, cores): the CPU limit caps nothing
  below the pod's concurrency (`servers_per_pod` stays `concurrency`), and capacity, latency and P95 are
  what they were with `cpu_per_request` 0. Only what the CPU metric reads changes: utilisation rises
  with load, from 0 (idle) to min(concurrency, cores) / request (saturated), and the HPA reacts to it.
  (`cpu_per_request = service_time` alone would, under a limit below one core, stretch every request
  by `traffic.pod_servers`' fluid CFS model: Sock Shop's catalogue, 200m limit, would serve 20 ms
  requests in 100 ms and miss the P95 at 1 req/s, a verdict made by the guess alone.)

The default is applied only where a verdict reads it (an HPA with a `cpu` Resource/ContainerResource
metric); elsewhere `cpu_per_request` stays 0 (CPU use not modelled), so those workloads are unchanged.

State it in the manifest with the serving annotation: `simkit.io/serving: '{"cpu_per_request": "5ms"}'`
(an explicit value, 0 included, is kept as given: export writes it, so a round trip is unchanged).

Custom metrics: Pods and Object metrics read what `cluster.metrics_adapter` maps their name to, today
only a request rate (simkit/scenario/model.py `DEFAULT_METRICS_ADAPTER`); they do not depend on the CPU
guess. A name the adapter does not map (e.g. `istio_requests_total`) made the whole import fail; it is
now mapped to `requests_per_second` (per pod for Pods, in total for Object), one line each. A guess:
the request rate is the only custom signal simkit models, right for the usual rate metrics
(prometheus-adapter's walkthrough serves `http_requests_total` as `http_requests_per_second`,
kubernetes-sigs/prometheus-adapter docs/walkthrough.md), wrong for a queue length or a latency.
External metrics read a queue (import_render.py `ASSUMED_TASK`, its own line).

Memory: simkit's pod memory is `serving.base_memory`, constant under load, so an HPA's memory metric
never asks for more replicas as load rises; one line says so when the manifest states no
`base_memory` (it then reads 0 %, and a memory-only HPA holds minReplicas).
"""

from __future__ import annotations

from typing import Any

from simkit.export.pod import ANNOTATION_SERVING
from simkit.scenario.model import DEFAULT_METRICS_ADAPTER, Serving
from simkit.units import format_duration, parse_cpu, parse_duration

CPU_BOUND = "assumed CPU-bound"  # the phrase `import_reminder` counts
MEMORY_FLAT = "memory metric is constant in simkit"  # likewise
CUSTOM_AS_RATE = "assumed to measure requests per second"  # likewise


def hpa_resources(hpa: dict[str, Any] | None) -> set[str]:
    """Resources (`cpu`, `memory`) an HPA spec's Resource and ContainerResource metrics read."""
    out: set[str] = set()
    for metric in (hpa or {}).get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        kind = metric.get("type")
        source = metric.get("resource") if kind == "Resource" else metric.get("containerResource")
        if kind in ("Resource", "ContainerResource") and isinstance(source, dict):
            out.add(str(source.get("name")))
    return out


def _duration(seconds: float) -> str | float:
    """`format_duration`'s text ("6ms") when it reads back exactly, else the seconds as a number
    (`format_duration(1e-6)` writes "1e-06s", which `parse_duration` refuses)."""
    text = format_duration(seconds)
    try:
        return text if parse_duration(text) == seconds else seconds
    except ValueError:
        return seconds


def pod_cores(w: dict[str, Any]) -> float:
    """The CPU a pod may use, in cores: its limit, else its request (simkit/engine/traffic.py
    `servers_per_pod` reads the same), from the workload dict's Kubernetes quantities."""
    res = w.get("resources") or {}
    limit = parse_cpu((res.get("limits") or {}).get("cpu") or 0)
    return (limit or parse_cpu((res.get("requests") or {}).get("cpu") or 0)) / 1000


def assume_serving(w: dict[str, Any], task_s: float | None = None) -> list[str]:
    """Set the guessed `serving` fields of a workload dict (with its `hpa` attached); one note per guess.

    `task_s`: the task time of the queue the workload consumes, if it consumes one. The engine
    charges `cpu_per_request` for each of its tasks too (engine/metrics.py: a pod's arrivals include
    its queue's tasks), and a task holds a server for the queue's task time, not the service time,
    so a consumer's guess is made from the task time: a pod busy with tasks then uses its cores.
    """
    reads = hpa_resources(w.get("hpa"))
    stated: dict[str, Any] = dict(w.get("serving") or {})
    serving = Serving.model_validate(stated)
    notes: list[str] = []
    if "cpu" in reads and "cpu_per_request" not in stated:
        cores = pod_cores(w)
        share = min(1.0, cores / serving.concurrency) if cores > 0 else 1.0
        busy_s, what = (
            (serving.service_time, "service time") if task_s is None else (task_s, "queue task time")
        )
        cpu = _duration(busy_s * share)
        w["serving"] = {**stated, "cpu_per_request": cpu}
        why = (
            f"its {format_duration(busy_s)} {what} x min(1, {cores:g} cores / "
            f"concurrency {serving.concurrency})"
            if cores > 0
            else f"its {what}; no CPU request or limit, so the HPA has no utilisation to read"
        )
        notes.append(
            f"its HPA scales on CPU and the manifest states no CPU per request: {CPU_BOUND}, "
            f"serving.cpu_per_request {cpu} ({why}); state it with metadata.annotations."
            f'{ANNOTATION_SERVING} \'{{"cpu_per_request": "5ms"}}\''
        )
    if "memory" in reads and "base_memory" not in stated:
        notes.append(
            f"its HPA's {MEMORY_FLAT} (serving.base_memory, not stated: assumed 0), so it never asks for "
            f"more replicas as load rises; state it with metadata.annotations.{ANNOTATION_SERVING} "
            '\'{"base_memory": "300Mi"}\''
        )
    return notes


def custom_metric_names(hpa: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(type, metric name) of an HPA spec's Pods and Object metrics, in order."""
    out: list[tuple[str, str]] = []
    for metric in (hpa or {}).get("metrics") or []:
        kind = metric.get("type") if isinstance(metric, dict) else None
        source = metric.get(str(kind).lower()) if kind in ("Pods", "Object") else None
        name = ((source or {}).get("metric") or {}).get("name") if isinstance(source, dict) else None
        if isinstance(name, str):
            out.append((str(kind), name))
    return out


def assume_metric_sources(w: dict[str, Any], cluster: dict[str, Any]) -> list[str]:
    """Map the workload HPA's custom metric names `cluster.metrics_adapter` lacks to the request rate."""
    adapter: dict[str, str] = cluster.setdefault("metrics_adapter", dict(DEFAULT_METRICS_ADAPTER))
    notes: list[str] = []
    for kind, name in custom_metric_names(w.get("hpa")):
        if name in adapter:
            continue
        adapter[name] = "requests_per_second"
        per = "per pod" if kind == "Pods" else "in total at its describedObject"
        notes.append(
            f"its HPA's {kind} metric {name!r} {CUSTOM_AS_RATE} {per} (the only custom signal simkit has), "
            f"mapped under cluster.metrics_adapter"
        )
    return notes
