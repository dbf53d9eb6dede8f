"""Replica proposal of all of an HPA's metrics (HZ computeReplicasForMetrics / computeReplicasForMetric).

Dispatches each `MetricSpec` to the replica calculator in `hpa_metrics`, turns failures into the
condition reasons upstream sets (FailedGetResourceMetric, InvalidMetricSourceType, ...), and
takes the maximum over the metrics, refusing to scale down on partial data (hpa_spec.md §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.control.hpa.metrics import (
    MetricReplicas,
    external_average_value_replicas,
    external_value_replicas,
    object_average_value_replicas,
    object_value_replicas,
    plain_metric_replicas,
    ready_pod_count,
    resource_replicas,
)
from simkit.control.hpa.pods import MetricError, pods_metric_samples, resource_samples
from simkit.control.hpa.types import (
    AVERAGE_VALUE,
    CONTAINER_RESOURCE,
    EXTERNAL,
    OBJECT,
    PODS,
    RESOURCE,
    UTILIZATION,
    VALUE,
    HPAControllerConfig,
    HPAObservation,
    HPASpec,
    MetricProposal,
    MetricSpec,
    Tolerances,
)

__all__ = ["MetricsResult", "tolerances_for", "compute_replicas_for_metrics"]

# Condition reason when computing a metric of this type fails (HZ computeReplicasForMetric).
_FAILED_REASON = {
    RESOURCE: "FailedGetResourceMetric",
    CONTAINER_RESOURCE: "FailedGetContainerResourceMetric",
    PODS: "FailedGetPodsMetric",
    OBJECT: "FailedGetObjectMetric",
    EXTERNAL: "FailedGetExternalMetric",
}


def tolerances_for(spec: HPASpec, config: HPAControllerConfig) -> Tolerances:
    """Per-direction tolerance: the behavior's `tolerance` fields if set, else the flag.

    HZ tolerancesForHpa, with the HPAConfigurableTolerance gate on (its default since beta).
    """
    up = down = config.tolerance
    if spec.behavior is not None:
        if spec.behavior.scale_up.tolerance is not None:
            up = spec.behavior.scale_up.tolerance
        if spec.behavior.scale_down.tolerance is not None:
            down = spec.behavior.scale_down.tolerance
    return Tolerances(scale_down=down, scale_up=up)


# ---------------------------------------------------------------------------------------------
# Metrics (HZ computeReplicasForMetrics / computeReplicasForMetric)
# ---------------------------------------------------------------------------------------------


def _resource_proposal(
    metric: MetricSpec, obs: HPAObservation, now: float, config: HPAControllerConfig, tol: Tolerances
) -> MetricReplicas:
    """Resource / ContainerResource: Utilization via RC GetResourceReplicas, AverageValue via plain path."""
    container = metric.container if metric.type == CONTAINER_RESOURCE else None
    target = metric.target
    samples = resource_samples(obs.pods, metric.name, container, now)
    if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
        return plain_metric_replicas(
            obs.spec_replicas, target.average_value_milli, obs.pods, samples, metric.name, tol, now, config
        )
    if target.type == UTILIZATION and target.average_utilization is not None:
        return resource_replicas(
            obs.spec_replicas,
            target.average_utilization,
            metric.name,
            container,
            obs.pods,
            samples,
            tol,
            now,
            config,
        )
    raise MetricError(
        "invalid resource metric source: neither an average utilization target nor an "
        "average value (usage) target was set"
    )


def _object_proposal(metric: MetricSpec, obs: HPAObservation, tol: Tolerances) -> MetricReplicas:
    """Object metric: Value uses spec replicas and ready pods, AverageValue uses status replicas."""
    value = obs.object_values.get(metric.name)
    if value is None:
        raise MetricError(f"unable to get metric {metric.name}: no value observed for this object metric")
    target = metric.target
    if target.type == VALUE and target.value_milli is not None:
        return object_value_replicas(
            obs.spec_replicas, target.value_milli, value, ready_pod_count(obs.pods), tol
        )
    if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
        return object_average_value_replicas(obs.status_replicas, target.average_value_milli, value, tol)
    raise MetricError(
        "invalid object metric source: neither a value target nor an average value target was set"
    )


def _external_proposal(metric: MetricSpec, obs: HPAObservation, tol: Tolerances) -> MetricReplicas:
    """External metric: the sum of the matching series; same Value/AverageValue split as Object."""
    values = obs.external_values.get(metric.name)
    if values is None:
        raise MetricError(f"unable to get external metric {metric.name}: no values observed")
    target = metric.target
    if target.type == VALUE and target.value_milli is not None:
        return external_value_replicas(
            obs.spec_replicas, target.value_milli, values, ready_pod_count(obs.pods), tol, metric.name
        )
    if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
        return external_average_value_replicas(
            obs.status_replicas, target.average_value_milli, values, tol, metric.name
        )
    raise MetricError(
        "invalid external metric source: neither a value target nor an average value target was set"
    )


def _metric_replicas(
    metric: MetricSpec, obs: HPAObservation, now: float, config: HPAControllerConfig, tol: Tolerances
) -> MetricReplicas:
    """Dispatch on the metric type; unknown types raise (reason InvalidMetricSourceType)."""
    if metric.type in (RESOURCE, CONTAINER_RESOURCE):
        return _resource_proposal(metric, obs, now, config, tol)
    if metric.type == PODS:
        if metric.target.average_value_milli is None:
            raise MetricError("invalid pods metric source: an average value target was not set")
        samples = pods_metric_samples(obs.pods, metric.name, now)
        return plain_metric_replicas(
            obs.spec_replicas, metric.target.average_value_milli, obs.pods, samples, None, tol, now, config
        )
    if metric.type == OBJECT:
        return _object_proposal(metric, obs, tol)
    if metric.type == EXTERNAL:
        return _external_proposal(metric, obs, tol)
    raise MetricError(f'unknown metric source type "{metric.type}"')


def _wrapped_errors(metric: MetricSpec, error: str) -> tuple[str, str]:
    """(condition error, returned error) for a failed metric, worded as HZ wraps the RC error.

    Condition: computeStatusFor*Metric (Resource: "failed to get <res> utilization|usage: ...").
    Returned: computeReplicasForMetric's wrapping ("failed to get <res> resource metric value: ...").
    """
    target, name = metric.target, metric.name
    if metric.type in (RESOURCE, CONTAINER_RESOURCE):
        inner = error
        if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
            inner = f"failed to get {name} usage: {error}"
        elif target.type == UTILIZATION and target.average_utilization is not None:
            inner = f"failed to get {name} utilization: {error}"
        if metric.type == RESOURCE:
            return inner, f"failed to get {name} resource metric value: {inner}"
        return inner, f"failed to get {metric.container} container metric value: {inner}"
    if metric.type == PODS:
        return error, f"failed to get pods metric value: {error}"
    if metric.type == OBJECT:
        if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
            return error, f"failed to get object metric value: failed to get {name} object metric: {error}"
        return error, f"failed to get object metric value: {error}"
    if metric.type == EXTERNAL:
        outer = error
        if target.type == AVERAGE_VALUE and target.average_value_milli is not None:
            outer = f"failed to get {name} external metric: {error}"
        elif target.type == VALUE and target.value_milli is not None:
            outer = f"failed to get external metric {name}: {error}"
        return error, f"failed to get {name} external metric value: {outer}"
    return error, error


def _proposal(
    metric: MetricSpec, obs: HPAObservation, now: float, config: HPAControllerConfig, tol: Tolerances
) -> MetricProposal:
    """One metric's proposal, or its failure with the condition reason and errors upstream would set.

    HZ computeReplicasForMetric / computeStatusFor*Metric / getUnableComputeReplicaCountCondition.
    """
    try:
        result = _metric_replicas(metric, obs, now, config, tol)
    except MetricError as exc:
        reason = _FAILED_REASON.get(metric.type, "InvalidMetricSourceType")
        condition_error, error = _wrapped_errors(metric, str(exc))
        return MetricProposal(
            metric.label, None, error_reason=reason, error=error, condition_error=condition_error
        )
    return MetricProposal(metric.label, result.replicas, result.usage_milli, result.utilization_percent)


@dataclass(frozen=True)
class MetricsResult:
    """Outcome of all metrics: the chosen proposal, or the error that forbids scaling.

    On failure `error_reason` is the first failed metric's condition reason, `error` the
    FailedComputeMetricsReplicas event text ("invalid metrics (...), first error is: ...") and
    `condition_error` the first failed metric's own error, which upstream puts in the
    ScalingActive=False condition ("the HPA was unable to compute the replica count: <it>").
    """

    replicas: int | None
    metric: str
    proposals: tuple[MetricProposal, ...]
    error_reason: str | None = None
    error: str | None = None
    condition_error: str | None = None


def compute_replicas_for_metrics(
    spec: HPASpec, obs: HPAObservation, now: float, config: HPAControllerConfig
) -> MetricsResult:
    """Maximum over the metrics' proposals (HZ computeReplicasForMetrics, hpa_spec.md §3.1).

    If every metric fails, or some fail and the valid maximum is below spec.replicas, there is no
    proposal: the HPA never scales down on partial data (kubernetes PR #99514). The condition is
    then the first failed metric's (HZ computeReplicasForMetrics: setCondition(invalidMetricCondition)).
    """
    if obs.ambiguous_selector:
        return MetricsResult(
            None, "", (), "AmbiguousSelector", "pods by this HPA's selector are controlled by multiple HPAs"
        )
    tol = tolerances_for(spec, config)
    proposals = tuple(_proposal(m, obs, now, config, tol) for m in spec.metrics)
    replicas, chosen = 0, ""
    for p in proposals:
        if p.replicas is not None and (replicas == 0 or p.replicas > replicas):
            replicas, chosen = p.replicas, p.metric
    failed = [p for p in proposals if p.replicas is None]
    if len(failed) >= len(proposals) or (failed and replicas < obs.spec_replicas):
        if not failed:
            return MetricsResult(None, "", proposals, "InvalidMetricSourceType", "the HPA has no metrics")
        first = failed[0]
        counts = f"{len(failed)} invalid out of {len(proposals)}"
        error = f"invalid metrics ({counts}), first error is: {first.error}"
        return MetricsResult(None, "", proposals, first.error_reason, error, first.condition_error)
    return MetricsResult(replicas, chosen, proposals)
