"""Horizontal Pod Autoscaler as a pure controller: one `decide` call is one reconcile of one HPA.

Models HZ `reconcileAutoscaler` (pkg/controller/podautoscaler/horizontal.go, about v1.31-1.32) with
the replica calculator of RC (recent master); see shared/reference/hpa_spec.md §3. No simpy, no
clock: the caller passes `now` (seconds) and the HPA's previous `HPAState`, and gets the new state
back in the decision. The engine applies `desired_replicas` and calls again one sync period later.

Public API (the rest of the names are re-exported for tests and notebooks):
    hpa_spec_from_k8s(spec) -> HPASpec
    decide(spec, obs, state, now, config) -> HPADecision
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.control.hpa.behavior import (
    Outcome,
    convert_desired_replicas_with_behavior_rate,
    legacy_convert_desired_replicas,
    legacy_stabilize,
    mark_scale_events_outdated,
    replicas_change_in_period,
    scale_down_limit,
    scale_up_limit,
    stabilize_with_behavior,
    store_scale_event,
)
from simkit.control.hpa.compute import MetricsResult, compute_replicas_for_metrics, tolerances_for
from simkit.control.hpa.config import KCM_HPA_FLAGS, hpa_controller_config
from simkit.control.hpa.metrics import (
    MetricReplicas,
    external_average_value_replicas,
    external_value_replicas,
    object_average_value_replicas,
    object_value_replicas,
    plain_metric_replicas,
    resource_replicas,
)
from simkit.control.hpa.pods import MetricError, MetricSample, PodGroups, group_pods
from simkit.control.hpa.spec import hpa_spec_from_k8s
from simkit.control.hpa.types import (
    ContainerSample,
    HPABehavior,
    HPACondition,
    HPAControllerConfig,
    HPADecision,
    HPAObservation,
    HPASpec,
    HPAState,
    MetricProposal,
    MetricSpec,
    MetricTarget,
    PodSample,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    Tolerances,
)

__all__ = [
    "HPASpec",
    "HPABehavior",
    "ScalingRules",
    "ScalingPolicy",
    "MetricSpec",
    "MetricTarget",
    "HPAControllerConfig",
    "KCM_HPA_FLAGS",
    "hpa_controller_config",
    "HPAObservation",
    "PodSample",
    "ContainerSample",
    "HPAState",
    "Recommendation",
    "ScaleEvent",
    "HPADecision",
    "HPACondition",
    "MetricProposal",
    "Tolerances",
    "hpa_spec_from_k8s",
    "decide",
    "tolerances_for",
    "compute_replicas_for_metrics",
    "MetricsResult",
    # lower-level pure functions, one per upstream function (see their modules)
    "MetricError",
    "MetricSample",
    "MetricReplicas",
    "PodGroups",
    "group_pods",
    "resource_replicas",
    "plain_metric_replicas",
    "object_value_replicas",
    "object_average_value_replicas",
    "external_value_replicas",
    "external_average_value_replicas",
    "Outcome",
    "legacy_stabilize",
    "legacy_convert_desired_replicas",
    "stabilize_with_behavior",
    "convert_desired_replicas_with_behavior_rate",
    "scale_up_limit",
    "scale_down_limit",
    "replicas_change_in_period",
    "mark_scale_events_outdated",
    "store_scale_event",
]

ABLE_TO_SCALE, SCALING_ACTIVE, SCALING_LIMITED = "AbleToScale", "ScalingActive", "ScalingLimited"

# ---------------------------------------------------------------------------------------------
# Normalization and the reconcile
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalized:
    able: Outcome  # AbleToScale reason: ReadyForNewScale or Scale{Up,Down}Stabilized
    limited: Outcome  # ScalingLimited reason and the final replica count
    stabilized: int
    recommendations: tuple[Recommendation, ...]


_READY = "ReadyForNewScale", "recommended size matches current size"


def _normalize(
    spec: HPASpec, state: HPAState, current: int, proposal: int, now: float, config: HPAControllerConfig
) -> _Normalized:
    """Stabilize, then limit: legacy path without `behavior`, else the behavior path (hpa_spec.md §7-8)."""
    behavior = spec.behavior
    if behavior is None:  # HZ normalizeDesiredReplicas
        stabilized, recs = legacy_stabilize(
            state.recommendations, proposal, now, config.downscale_stabilization_s
        )
        able = Outcome(
            stabilized,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
        limited = legacy_convert_desired_replicas(
            current,
            stabilized,
            spec.min_replicas,
            spec.max_replicas,
            config.scale_up_limit_factor,
            config.scale_up_limit_minimum,
        )
    else:  # HZ normalizeDesiredReplicasWithBehaviors
        down_window = behavior.scale_down.stabilization_window_s
        if down_window is None:  # HZ maybeInitScaleDownStabilizationWindow
            down_window = int(config.downscale_stabilization_s)
        able, recs = stabilize_with_behavior(
            state.recommendations,
            current,
            proposal,
            behavior.scale_up.stabilization_window_s or 0,
            down_window,
            now,
        )
        stabilized = able.replicas
        limited = convert_desired_replicas_with_behavior_rate(
            current,
            stabilized,
            spec.min_replicas,
            spec.max_replicas,
            behavior.scale_up,
            behavior.scale_down,
            state.scale_up_events,
            state.scale_down_events,
            now,
        )
    if stabilized == proposal:
        able = Outcome(stabilized, *_READY)
    return _Normalized(able, limited, stabilized, recs)


def _with_initial_recommendation(state: HPAState, current: int, now: float) -> HPAState:
    """A never-seen HPA starts its log with the current count (HZ recordInitialRecommendation).

    This blocks scale-down for one stabilization window after creation or a controller restart.
    """
    if state.initialized:
        return state
    recs = state.recommendations or (Recommendation(current, now),)
    return HPAState(recs, state.scale_up_events, state.scale_down_events, initialized=True)


def _cond(type_: str, status: bool, reason: str, message: str) -> HPACondition:
    return HPACondition(type_, status, reason, message)


def _got_scale() -> HPACondition:
    return _cond(
        ABLE_TO_SCALE,
        True,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    )


def _rescaled(spec: HPASpec, state: HPAState, current: int, desired: int, now: float) -> HPAState:
    """Record the scale event (behavior path only, HZ storeScaleEvent) when the count changes."""
    up, down = store_scale_event(
        spec.behavior, state.scale_up_events, state.scale_down_events, current, desired, now
    )
    return HPAState(state.recommendations, up, down, state.initialized)


def _jump(spec: HPASpec, state: HPAState, current: int, now: float) -> HPADecision:
    """Outside [min, max]: go straight to the bound, without metrics, stabilization or rate limits."""
    if current > spec.max_replicas:
        desired, reason, why = (
            spec.max_replicas,
            "TooManyReplicas",
            "Current number of replicas above Spec.MaxReplicas",
        )
    else:
        desired, reason, why = (
            spec.min_replicas,
            "TooFewReplicas",
            "Current number of replicas below Spec.MinReplicas",
        )
    conditions = (
        _cond(
            ABLE_TO_SCALE,
            True,
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        ),
    )
    return HPADecision(
        desired,
        reason,
        f"New size: {desired}; reason: {why}",
        (),
        _rescaled(spec, state, current, desired, now),
        conditions,
    )


def decide(
    spec: HPASpec,
    obs: HPAObservation,
    state: HPAState,
    now: float,
    config: HPAControllerConfig | None = None,
    metrics: MetricsResult | None = None,
) -> HPADecision:
    """One reconcile of one HPA (HZ reconcileAutoscaler): the replica count to set, why, and the new state.

    `state` is the controller's memory of this HPA from the previous call (`HPAState()` the first
    time). The returned state assumes the engine applies `desired_replicas`. `metrics`, when given, is
    `compute_replicas_for_metrics(spec, obs, now, config)` computed by the caller (who may reuse it
    while the observation provably gives the same result); `obs.pods` is then not read.
    """
    config = config or HPAControllerConfig()
    current = obs.spec_replicas
    state = _with_initial_recommendation(state, current, now)
    if current == 0 and spec.min_replicas != 0:
        message = "scaling is disabled since the replica count of the target is zero"
        return HPADecision(
            0,
            "ScalingDisabled",
            message,
            (),
            state,
            (_got_scale(), _cond(SCALING_ACTIVE, False, "ScalingDisabled", message)),
        )
    if current > spec.max_replicas or current < spec.min_replicas:
        return _jump(spec, state, current, now)
    if metrics is None:
        metrics = compute_replicas_for_metrics(spec, obs, now, config)
    if metrics.replicas is None:
        reason = metrics.error_reason or "FailedComputeMetricsReplicas"
        # The event (and this decision) carries the aggregate error; the ScalingActive condition the
        # first invalid metric's own error (HZ computeReplicasForMetrics: invalidMetricCondition).
        message = f"the HPA was unable to compute the replica count: {metrics.error}"
        condition = (
            f"the HPA was unable to compute the replica count: {metrics.condition_error or metrics.error}"
        )
        return HPADecision(
            current,
            reason,
            message,
            metrics.proposals,
            state,
            (_got_scale(), _cond(SCALING_ACTIVE, False, reason, condition)),
        )
    return _scale(spec, obs, state, now, config, metrics)


def _scale(
    spec: HPASpec,
    obs: HPAObservation,
    state: HPAState,
    now: float,
    config: HPAControllerConfig,
    metrics: MetricsResult,
) -> HPADecision:
    """Normalize the metrics' proposal, build the conditions and the human message, record the event."""
    current, proposal = obs.spec_replicas, max(0, metrics.replicas or 0)
    norm = _normalize(spec, state, current, proposal, now, config)
    desired = norm.limited.replicas
    state = HPAState(norm.recommendations, state.scale_up_events, state.scale_down_events, state.initialized)
    is_limited = desired != norm.stabilized
    active = _cond(
        SCALING_ACTIVE,
        True,
        "ValidMetricFound",
        f"the HPA was able to successfully calculate a replica count from {metrics.metric}",
    )
    able = _cond(ABLE_TO_SCALE, True, norm.able.reason, norm.able.message)
    if desired != current:
        able = _cond(
            ABLE_TO_SCALE,
            True,
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        )
        state = _rescaled(spec, state, current, desired, now)
    limited = _cond(SCALING_LIMITED, is_limited, norm.limited.reason, norm.limited.message)
    if is_limited:
        reason, detail = norm.limited.reason, norm.limited.message
    elif norm.stabilized != proposal:
        reason, detail = norm.able.reason, norm.able.message
    else:
        reason, detail = norm.limited.reason, norm.limited.message
    if desired > current:
        head = f"New size: {desired}; reason: {metrics.metric} above target"
    elif desired < current:
        head = f"New size: {desired}; reason: All metrics below target"
    else:
        head = f"Keeping {current} replicas (metrics propose {proposal})"
    return HPADecision(
        desired, reason, f"{head}; {detail}", metrics.proposals, state, (able, active, limited)
    )
