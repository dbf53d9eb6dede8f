"""Replica proposals per metric kind: the HPA's replica calculator, as pure functions.

Models RC (`replica_calculator.go`: GetResourceReplicas, calcPlainMetricReplicas,
Get{Object,External}[PerPod]MetricReplicas, getUsageRatioReplicaCount) and UT
(`metrics/utilization.go`: integer utilization arithmetic); pod grouping lives in `hpa_pods`.
Floats are float64 like Go's; `float(a) / float(b)` is used on purpose instead of `a / b`, which
would round big integers differently from Go.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simkit.control.hpa.pods import MetricError, MetricSample, PodGroups, group_pods, pod_requests
from simkit.control.hpa.types import MAX_INT32, MAX_INT64, HPAControllerConfig, PodSample, Tolerances

__all__ = [
    "MetricReplicas",
    "utilization_ratio",
    "resource_replicas",
    "plain_metric_replicas",
    "ready_pod_count",
    "usage_ratio_replicas",
    "object_value_replicas",
    "object_average_value_replicas",
    "external_value_replicas",
    "external_average_value_replicas",
]


@dataclass(frozen=True)
class MetricReplicas:
    """A metric's proposal: replicas plus the current value the HPA status would report.

    `usage_milli` is the raw average (Resource/Pods), the value (Object/External Value) or the
    per-pod average (AverageValue forms); `utilization_percent` is set for Utilization targets.
    """

    replicas: int
    usage_milli: int
    utilization_percent: int | None = None


# ---------------------------------------------------------------------------------------------
# Go numeric helpers
# ---------------------------------------------------------------------------------------------


def _go_quo(a: int, b: int) -> int:
    """Go integer division: truncates toward zero (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _fdiv(a: float, b: float) -> float:
    """IEEE float64 division as Go does it: x/0 is +-Inf, 0/0 is NaN (Python would raise)."""
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def _ceil_saturated(x: float, limit: int) -> int:
    """ceil(x), saturating at `limit` as upstream does for replica counts and averages (RC overflow tests)."""
    if math.isnan(x):
        return 0
    if x >= limit:
        return limit
    if x <= -limit - 1:
        return -limit - 1
    return math.ceil(x)


# ---------------------------------------------------------------------------------------------
# Resource (Utilization) and plain (Pods, Resource AverageValue) metrics
# ---------------------------------------------------------------------------------------------


def utilization_ratio(
    values: Mapping[str, int], requests: Mapping[str, int], target_utilization: int
) -> tuple[float, int, int]:
    """(ratio, utilization %, raw average) with UT GetResourceUtilizationRatio's integer arithmetic.

    Only samples of known pods count; the ratio is built from the already truncated percentage.
    """
    total = request_total = count = 0
    for name, value in values.items():
        if name not in requests:
            continue  # a sample for a pod that is not listed ("superfluous")
        total += value
        request_total += requests[name]
        count += 1
    if request_total == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = _go_quo(total * 100, request_total)
    return _fdiv(float(utilization), float(target_utilization)), utilization, _go_quo(total, count)


def _usage_ratio(values: Mapping[str, int], target: int) -> tuple[float, int]:
    """(ratio, truncated average) as UT GetMetricUsageRatio computes them."""
    average = _go_quo(sum(values.values()), len(values))
    return _fdiv(float(average), float(target)), average


def _keep_counted(samples: Mapping[str, MetricSample], groups: PodGroups) -> dict[str, int]:
    """Sample values without the ignored and unready pods (RC removeMetricsForPods)."""
    dropped = groups.ignored | groups.unready
    kept = {name: s.value for name, s in samples.items() if name not in dropped}
    if not kept:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    return kept


def _direction_flipped(old: float, new: float) -> bool:
    return (old < 1.0 < new) or (old > 1.0 > new)


def _conservative_replicas(
    current: int, ratio: float, new_ratio: float, counted: int, tol: Tolerances
) -> int:
    """Result after filling in missing/unready pods (RC, end of GetResourceReplicas/calcPlainMetricReplicas).

    Keep `current` when the new ratio is within tolerance, flips direction, or when the number of
    counted samples would move the count against the ratio (a surge pod without metrics).
    """
    if tol.is_within(new_ratio) or _direction_flipped(ratio, new_ratio):
        return current
    proposal = _ceil_saturated(new_ratio * counted, MAX_INT32)
    if (new_ratio < 1.0 and proposal > current) or (new_ratio > 1.0 and proposal < current):
        return current
    return proposal


def resource_replicas(
    current_replicas: int,
    target_utilization: int,
    resource: str,
    container: str | None,
    pods: Sequence[PodSample],
    samples: Mapping[str, MetricSample],
    tolerances: Tolerances,
    now: float,
    config: HPAControllerConfig,
) -> MetricReplicas:
    """Replicas for a Resource/ContainerResource Utilization target (RC GetResourceReplicas, hpa_spec.md §5).

    On scale-down, pods without metrics count at max(100%, target) of their request (PR112178);
    on scale-up they and unready pods count at 0, which damps the step.
    """
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = group_pods(pods, samples, resource, now, config)
    kept = _keep_counted(samples, groups)
    requests = pod_requests(pods, resource, container)
    ratio, utilization, raw = utilization_ratio(kept, requests, target_utilization)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.is_within(ratio):
            return MetricReplicas(current_replicas, raw, utilization)
        return MetricReplicas(_ceil_saturated(ratio * groups.ready_count, MAX_INT32), raw, utilization)
    filled = dict(kept)
    if ratio < 1.0:
        fallback = max(100, target_utilization)
        filled.update({name: requests[name] * fallback // 100 for name in groups.missing})
    elif ratio > 1.0:
        filled.update(dict.fromkeys(groups.missing, 0))
    if scale_up_with_unready:
        filled.update(dict.fromkeys(groups.unready, 0))
    new_ratio, _, _ = utilization_ratio(filled, requests, target_utilization)
    replicas = _conservative_replicas(current_replicas, ratio, new_ratio, len(filled), tolerances)
    return MetricReplicas(replicas, raw, utilization)


def plain_metric_replicas(
    current_replicas: int,
    target_average_milli: int,
    pods: Sequence[PodSample],
    samples: Mapping[str, MetricSample],
    resource: str | None,
    tolerances: Tolerances,
    now: float,
    config: HPAControllerConfig,
) -> MetricReplicas:
    """Replicas for an average-value target: Pods metrics and Resource AverageValue.

    RC calcPlainMetricReplicas.

    `resource` is the resource name for Resource AverageValue (so the CPU readiness rules apply to
    cpu) and None for Pods metrics. Missing pods count as exactly the target on scale-down.
    """
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = group_pods(pods, samples, resource, now, config)
    kept = _keep_counted(samples, groups)
    ratio, usage = _usage_ratio(kept, target_average_milli)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.is_within(ratio):
            return MetricReplicas(current_replicas, usage)
        return MetricReplicas(_ceil_saturated(ratio * groups.ready_count, MAX_INT32), usage)
    filled = dict(kept)
    if ratio < 1.0:
        filled.update(dict.fromkeys(groups.missing, target_average_milli))
    elif ratio > 1.0:
        filled.update(dict.fromkeys(groups.missing, 0))
    if scale_up_with_unready:
        filled.update(dict.fromkeys(groups.unready, 0))
    new_ratio, _ = _usage_ratio(filled, target_average_milli)
    replicas = _conservative_replicas(current_replicas, ratio, new_ratio, len(filled), tolerances)
    return MetricReplicas(replicas, usage)


# ---------------------------------------------------------------------------------------------
# Object and External metrics
# ---------------------------------------------------------------------------------------------


def ready_pod_count(pods: Sequence[PodSample]) -> int | None:
    """Pods that are Running and Ready (RC getReadyPodsCount); None when the selector matched no pod."""
    if not pods:
        return None
    return sum(1 for p in pods if p.phase == "Running" and p.ready is True)


def usage_ratio_replicas(
    current_replicas: int, ratio: float, tolerances: Tolerances, ready_pods: int | None
) -> int:
    """Replicas from a usage ratio for Value targets (RC getUsageRatioReplicaCount).

    From zero replicas (minReplicas 0) the ratio alone decides and tolerance is ignored; otherwise
    the ratio multiplies the number of ready pods, not the spec replica count.
    """
    if current_replicas == 0:
        return _ceil_saturated(ratio, MAX_INT32)
    if tolerances.is_within(ratio):
        return current_replicas
    if ready_pods is None:
        raise MetricError(
            "unable to calculate ready pods: no pods returned by selector while calculating replica count"
        )
    return _ceil_saturated(ratio * ready_pods, MAX_INT32)


def object_value_replicas(
    current_replicas: int,
    target_value_milli: int,
    object_value_milli: int,
    ready_pods: int | None,
    tolerances: Tolerances,
) -> MetricReplicas:
    """Object metric with a Value target (RC GetObjectMetricReplicas)."""
    ratio = _fdiv(float(object_value_milli), float(target_value_milli))
    replicas = usage_ratio_replicas(current_replicas, ratio, tolerances, ready_pods)
    return MetricReplicas(replicas, object_value_milli)


def _per_pod_replicas(
    status_replicas: int, target_average_milli: int, total_milli: int, tolerances: Tolerances
) -> MetricReplicas:
    """AverageValue form of Object/External metrics: total / target is the wanted pod count.

    The tolerance test compares total with target x status.replicas; readiness and spec.replicas
    play no part (RC GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas).
    """
    replicas = status_replicas
    ratio = _fdiv(float(total_milli), float(target_average_milli) * float(status_replicas))
    if not tolerances.is_within(ratio):
        replicas = _ceil_saturated(_fdiv(float(total_milli), float(target_average_milli)), MAX_INT32)
    if status_replicas == 0:
        average = total_milli  # upstream divides by zero here; report the total instead
    else:
        average = _ceil_saturated(_fdiv(float(total_milli), float(status_replicas)), MAX_INT64)
    return MetricReplicas(replicas, average)


def object_average_value_replicas(
    status_replicas: int, target_average_value_milli: int, object_value_milli: int, tolerances: Tolerances
) -> MetricReplicas:
    """Object metric with an AverageValue target (RC GetObjectPerPodMetricReplicas)."""
    return _per_pod_replicas(status_replicas, target_average_value_milli, object_value_milli, tolerances)


def _external_total(values: Sequence[int], metric: str) -> int:
    """Sum of all series matching the selector, saturating at MaxInt64 (RC GetExternalMetricReplicas)."""
    if not values:
        raise MetricError(
            f"unable to get external metric {metric}: no metrics returned from external metrics API"
        )
    return min(sum(values), MAX_INT64)


def external_value_replicas(
    current_replicas: int,
    target_value_milli: int,
    values_milli: Sequence[int],
    ready_pods: int | None,
    tolerances: Tolerances,
    metric: str = "",
) -> MetricReplicas:
    """External metric, Value target: Object Value on the summed series (RC GetExternalMetricReplicas)."""
    total = _external_total(values_milli, metric)
    ratio = _fdiv(float(total), float(target_value_milli))
    return MetricReplicas(usage_ratio_replicas(current_replicas, ratio, tolerances, ready_pods), total)


def external_average_value_replicas(
    status_replicas: int,
    target_average_value_milli: int,
    values_milli: Sequence[int],
    tolerances: Tolerances,
    metric: str = "",
) -> MetricReplicas:
    """External metric, AverageValue target: one pod per target units (RC GetExternalPerPodMetricReplicas)."""
    total = _external_total(values_milli, metric)
    return _per_pod_replicas(status_replicas, target_average_value_milli, total, tolerances)
