"""Pods as the HPA's replica calculator sees them: grouping, metric samples and requests.

Models RC (`replica_calculator.go`) groupPods and calculateRequests, and the parts of the metrics
client (`metrics/client.go`) that turn PodMetrics into per-pod samples. Failures raise
`MetricError` with the upstream wording, so the controller can report them in its conditions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simkit.control.hpa.types import HPAControllerConfig, PodSample

__all__ = [
    "MetricError",
    "MetricSample",
    "PodGroups",
    "group_pods",
    "resource_samples",
    "pods_metric_samples",
    "pod_requests",
]


class MetricError(Exception):
    """A metric's replica proposal could not be computed; the message says why."""


@dataclass(frozen=True)
class MetricSample:
    """One pod's metric sample (metricsclient PodMetric): value in milli-units, timestamp, window."""

    value: int
    time: float
    window_s: float = 60.0


@dataclass(frozen=True)
class PodGroups:
    """Result of `group_pods`: how many pods count as ready, and the names in the other buckets."""

    ready_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


# ---------------------------------------------------------------------------------------------
# Pod grouping, samples, requests
# ---------------------------------------------------------------------------------------------


def _cpu_unready(pod: PodSample, sample: MetricSample, now: float, config: HPAControllerConfig) -> bool:
    """CPU-only readiness rule of RC groupPods (hpa_spec.md §4 step 4).

    Inside the CPU initialization period a pod is unready if not Ready or if its sample does not yet
    cover a full window since the last readiness change; after it, only if it is not Ready and has
    never been Ready (its readiness last changed within the initial readiness delay after start).
    """
    if pod.ready is None or pod.start_time is None:
        return True
    transition = pod.start_time if pod.ready_transition_time is None else pod.ready_transition_time
    if pod.start_time + config.cpu_initialization_period_s > now:
        return pod.ready is False or sample.time < transition + sample.window_s
    return pod.ready is False and pod.start_time + config.initial_readiness_delay_s > transition


def group_pods(
    pods: Sequence[PodSample],
    samples: Mapping[str, MetricSample],
    resource: str | None,
    now: float,
    config: HPAControllerConfig,
) -> PodGroups:
    """Sort pods into ready / unready / missing / ignored (RC groupPods).

    Order matters: deleting or Failed -> ignored; Pending -> unready; no sample -> missing; then,
    for the `cpu` resource only, the readiness and initialization rules. Readiness is ignored for
    every other metric.
    """
    ready = 0
    unready: list[str] = []
    missing: list[str] = []
    ignored: list[str] = []
    cpu = resource == "cpu"
    for pod in pods:
        name = pod.name
        if pod.deleting or pod.phase == "Failed":
            ignored.append(name)
        elif pod.phase == "Pending":
            unready.append(name)
        elif name not in samples:
            missing.append(name)
        elif cpu and _cpu_unready(pod, samples[name], now, config):
            unready.append(name)
        else:
            ready += 1
    return PodGroups(ready, _frozen(unready), _frozen(missing), _frozen(ignored))


_NO_PODS: frozenset[str] = frozenset()


def _frozen(names: list[str]) -> frozenset[str]:
    return frozenset(names) if names else _NO_PODS


def _pod_usage(pod: PodSample, resource: str, container: str | None) -> int | None:
    """A pod's usage of `resource`, or None when the metrics API has no usable sample.

    Pod level: the sum over containers, and missing if any container lacks the resource. Container
    level: that container's usage (metricsclient getPodMetrics / getContainerMetrics).
    """
    containers = pod.containers
    if container is None and len(containers) == 1:  # the common case, same result as below
        return containers[0].usage.get(resource)
    if container is not None:
        for c in containers:
            if c.name == container:
                return c.usage.get(resource)
        return None
    if not pod.containers or any(resource not in c.usage for c in pod.containers):
        return None
    return sum(c.usage[resource] for c in pod.containers)


def _has_metrics_item(pod: PodSample) -> bool:
    """Did the resource metrics API return a PodMetrics item for the pod: some container reports usage."""
    return any(c.usage for c in pod.containers)


def resource_samples(
    pods: Sequence[PodSample], resource: str, container: str | None, now: float
) -> dict[str, MetricSample]:
    """Resource-metrics samples by pod name, as the metrics client returns them.

    metrics/client.go GetResourceMetric: only an API answer with no PodMetrics item at all is the
    "no metrics returned" error; items without the resource just leave their pods out (missing),
    and the replica calculator then reports whether any usable metric is left.
    """
    samples: dict[str, MetricSample] = {}
    for pod in pods:
        value = _pod_usage(pod, resource, container)
        if value is not None:
            when = pod.metric_time
            samples[pod.name] = MetricSample(value, now if when is None else when, pod.metric_window_s)
    if not samples and not any(_has_metrics_item(p) for p in pods):
        raise MetricError(
            f"unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )
    return samples


def pods_metric_samples(pods: Sequence[PodSample], metric: str, now: float) -> dict[str, MetricSample]:
    """Custom (Pods) metric samples by pod name; error if the API returned none."""
    samples = {
        pod.name: MetricSample(pod.metrics[metric], now if pod.metric_time is None else pod.metric_time)
        for pod in pods
        if metric in pod.metrics
    }
    if not samples:
        raise MetricError(f"unable to get metric {metric}: no metrics returned from custom metrics API")
    return samples


def pod_requests(pods: Sequence[PodSample], resource: str, container: str | None) -> dict[str, int]:
    """Each pod's request for `resource` (RC calculateRequests): sum over the counted containers.

    Every listed pod counts, ignored ones included; a counted container without a request fails
    the whole metric.
    """
    requests: dict[str, int] = {}
    for pod in pods:
        containers = pod.containers
        if container is None and len(containers) == 1:  # the common case, same result as below
            value = containers[0].requests.get(resource)
            if value is not None:
                requests[pod.name] = 0 + value
                continue
        total = 0
        for c in pod.containers:
            if container is not None and c.name != container:
                continue
            if resource not in c.requests:
                raise MetricError(f"missing request for {resource} in container {c.name} of Pod {pod.name}")
            total += c.requests[resource]
        requests[pod.name] = total
    return requests
