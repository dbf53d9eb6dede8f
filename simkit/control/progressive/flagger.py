"""Flagger's canary analysis loop, pure (fluxcd/flagger v1.44.0).

Upstream: `pkg/controller/scheduler.go` (advanceCanary, runCanary, runBlueGreen,
runPromotionTrafficShift, nextStepWeight, maxWeight, totalWeight) and
`pkg/apis/flagger/v1beta1/canary.go` (defaults: interval 60 s, at least 10 s
[GetAnalysisInterval]; threshold 1 [GetAnalysisThreshold]; maxWeight = totalWeight = 100 when
unset; progressDeadlineSeconds 600; primary/canaryReadyThreshold 100 %).

The primary copy serves throughout: on a new revision the canary Deployment is scaled up
(ScaleFromZero: to the target's replicas) beside the primary. Every `interval` one tick runs:
- Progressing: the canary not ready yet -> wait (rollback once progressDeadlineSeconds passes);
  failedChecks >= threshold -> rollback (weight 0, canary scaled to zero, phase Failed);
  at weight 0 before any iteration no check (no traffic to the canary: `analysis_runs`);
  a failed metric check -> failedChecks + 1 and no advance; otherwise the weight advances by
  nextStepWeight (stepWeight, or the next of stepWeights) up to maxWeight (canary strategy), or the
  iteration count advances (blue/green: `iterations` set), and at maxWeight / after the iterations
  the canary spec is copied to the primary (Promoting);
- Promoting: all traffic back to the primary in one go (stepWeightPromotion 0) -> Finalising;
- Finalising: once the primary runs the new version, the canary is scaled to zero -> Succeeded.

The primary's own update after Promote is a Deployment rolling update (25 %/25 % defaults),
modelled by `primary_rolling_counts` (pkg/controller/deployment/rolling.go's arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TOTAL_WEIGHT = 100  # scheduler.go totalWeight
DEFAULT_INTERVAL_S = 60.0  # canary.go AnalysisInterval
MIN_INTERVAL_S = 10.0  # canary.go GetAnalysisInterval: below 10 s -> 10 s
DEFAULT_THRESHOLD = 1  # canary.go GetAnalysisThreshold
DEFAULT_PROGRESS_DEADLINE_S = 600.0  # canary.go ProgressDeadlineSeconds

INITIALIZING = "Initializing"
PROGRESSING = "Progressing"
PROMOTING = "Promoting"
FINALISING = "Finalising"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

# reason codes
WAIT_CANARY = "WaitingForCanaryReady"
ADVANCE = "AdvanceCanaryWeight"
ITERATION = "AdvanceCanaryIteration"
ROUTE_ALL_TO_CANARY = "RoutingAllTrafficToCanary"
CHECK_FAILED = "MetricCheckFailed"
ROLLBACK = "Rollback"
DEADLINE = "ProgressDeadlineExceeded"
COPY_TO_PRIMARY = "CopyingSpecToPrimary"
ROUTE_TO_PRIMARY = "RoutingAllTrafficToPrimary"
WAIT_PRIMARY = "WaitingForPrimaryRollout"
PROMOTED = "PromotionCompleted"


@dataclass(frozen=True)
class FlaggerSpec:
    """`spec.analysis` of a Flagger Canary (and progressDeadlineSeconds)."""

    interval_s: float = DEFAULT_INTERVAL_S
    threshold: int = DEFAULT_THRESHOLD
    max_weight: int | None = None
    step_weight: int = 0
    step_weights: tuple[int, ...] = ()
    iterations: int = 0
    progress_deadline_s: float = DEFAULT_PROGRESS_DEADLINE_S

    @property
    def interval(self) -> float:
        return max(self.interval_s, MIN_INTERVAL_S)


def max_weight(spec: FlaggerSpec) -> int:
    """scheduler.go maxWeight: the last stepWeights entry (at most 100), else maxWeight, else 100."""
    if spec.step_weights:
        return min(TOTAL_WEIGHT, spec.step_weights[-1])
    return spec.max_weight if spec.max_weight else TOTAL_WEIGHT


def next_step_weight(spec: FlaggerSpec, canary_weight: int) -> int:
    """scheduler.go nextStepWeight."""
    if spec.step_weight > 0 or not spec.step_weights:
        return spec.step_weight
    max_step = TOTAL_WEIGHT - canary_weight
    if max_step == 0:
        return 1
    if canary_weight == 0:
        return min(max_step, spec.step_weights[0])
    for a, b in zip(spec.step_weights, spec.step_weights[1:], strict=False):
        if a == canary_weight:
            return min(max_step, b - canary_weight)
    return max_step


@dataclass(frozen=True)
class FlaggerObservation:
    canary_ready: bool  # canaryReadyThreshold (100 %) of the canary's pods available
    primary_updated: bool  # the primary's rolling update to the new spec has finished
    check_ok: bool  # this tick's metric checks passed


@dataclass(frozen=True)
class FlaggerState:
    phase: str = INITIALIZING
    weight: int = 0  # traffic to the canary
    failed_checks: int = 0
    iterations: int = 0
    canary_up: bool = True  # the canary Deployment is scaled up
    primary_new: bool = False  # Promote has copied the new spec to the primary
    started_s: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class FlaggerDecision:
    state: FlaggerState
    reason: str


def _rollback(st: FlaggerState, reason: str, message: str) -> FlaggerDecision:
    return FlaggerDecision(replace(st, phase=FAILED, weight=0, canary_up=False, message=message), reason)


def analysis_runs(spec: FlaggerSpec, st: FlaggerState, canary_ready: bool) -> bool:
    """Whether this tick judges the metrics (scheduler.go advanceCanary, in its order): Progressing,
    the canary ready, the failed checks under the threshold (else it rolls back first), and traffic
    routed to the canary: "skip check if no traffic is routed or mirrored to canary" - at weight 0
    before the first iteration Flagger runs the pre-rollout hooks and advances instead, so the first
    check sees the canary under its first stepWeight (mirroring is not modelled)."""
    return (
        st.phase == PROGRESSING
        and canary_ready
        and st.failed_checks < spec.threshold
        and not (st.weight == 0 and st.iterations == 0)
    )


def flagger_tick(spec: FlaggerSpec, st: FlaggerState, obs: FlaggerObservation, now: float) -> FlaggerDecision:
    """One run of advanceCanary (every `spec.interval`)."""
    if st.phase in (SUCCEEDED, FAILED):
        return FlaggerDecision(st, st.phase)
    if st.phase == INITIALIZING:  # new revision detected: scale the canary up, start progressing
        st = replace(st, phase=PROGRESSING, started_s=now, canary_up=True)
    if st.phase == FINALISING:
        if not obs.primary_updated:
            return FlaggerDecision(st, WAIT_PRIMARY)
        return FlaggerDecision(replace(st, phase=SUCCEEDED, canary_up=False), PROMOTED)
    if st.phase == PROMOTING:
        return FlaggerDecision(replace(st, phase=FINALISING, weight=0), ROUTE_TO_PRIMARY)
    if not obs.canary_ready:
        if now - st.started_s >= spec.progress_deadline_s:
            return _rollback(st, DEADLINE, f"canary not ready after {spec.progress_deadline_s:.0f}s")
        return FlaggerDecision(st, WAIT_CANARY)
    if st.failed_checks >= spec.threshold:
        return _rollback(st, ROLLBACK, f"failed checks threshold reached {st.failed_checks}")
    if analysis_runs(spec, st, obs.canary_ready) and not obs.check_ok:
        return FlaggerDecision(replace(st, failed_checks=st.failed_checks + 1), CHECK_FAILED)
    if spec.iterations > 0:  # blue/green: iterations, then all traffic to the canary, then promote
        if spec.iterations > st.iterations:
            return FlaggerDecision(replace(st, iterations=st.iterations + 1), ITERATION)
        if spec.iterations == st.iterations:
            return FlaggerDecision(
                replace(st, iterations=st.iterations + 1, weight=TOTAL_WEIGHT), ROUTE_ALL_TO_CANARY
            )
        return FlaggerDecision(replace(st, phase=PROMOTING, primary_new=True), COPY_TO_PRIMARY)
    if st.weight < max_weight(spec):
        weight = min(TOTAL_WEIGHT, st.weight + next_step_weight(spec, st.weight))
        return FlaggerDecision(replace(st, weight=weight), ADVANCE)
    return FlaggerDecision(replace(st, phase=PROMOTING, primary_new=True), COPY_TO_PRIMARY)


def primary_rolling_counts(replicas: int, old: int, new: int, new_available: int) -> tuple[int, int]:
    """(old, new) ReplicaSet replicas of the primary Deployment's rolling update, one sync, with the
    API defaults maxSurge 25 % (rounded up) / maxUnavailable 25 % (rounded down, 1 if both 0):
    NewRSNewReplicas (scale up to replicas + maxSurge in total) and reconcileOldReplicaSets (scale
    down while available >= replicas - maxUnavailable), pkg/controller/deployment/rolling.go."""
    surge = -(-25 * replicas // 100)
    unavailable = 25 * replicas // 100
    if surge == 0 and unavailable == 0:
        unavailable = 1
    total = old + new
    if total < replicas + surge and new < replicas:
        new = min(replicas, new + (replicas + surge - total))
    min_available = replicas - unavailable
    new_unavailable = new - new_available
    can_down = (old + new) - min_available - new_unavailable
    if can_down > 0 and old > 0:
        old -= min(can_down, old)
    return old, new
