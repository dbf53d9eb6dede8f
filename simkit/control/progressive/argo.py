"""The Argo Rollouts canary and blue-green step machines, pure (argo-rollouts v1.9.1).

Canary (`rollout/canary.go` rolloutCanary, completedCurrentCanaryStep, reconcileCanaryPause;
`rollout/trafficrouting.go` reconcileTrafficRouting; `utils/replicaset/canary.go`):
- every sync scales the stable and canary ReplicaSets to `argo_counts` (basic canary: by weight,
  within maxSurge / maxUnavailable; with trafficRouting: canary by weight, stable at full scale
  unless `dynamicStableScale`);
- a step completes when: setWeight / setCanaryScale — AtDesiredReplicaCountsForCanary (the canary
  available at its count, the stable created at its count); pause {duration} — the duration since
  the pause started; pause {} — a manual promote (`promoted`); analysis — its AnalysisRun Successful;
- the router weight (trafficRouting) is the step's setWeight once at the desired counts, else the
  previous setWeight (reconcileTrafficRouting), 0 while the canary has no available pod;
- after the last step the canary becomes stable: weight 100, the old ReplicaSet scaled down (with
  trafficRouting after scaleDownDelaySeconds, default 30);
- a failed analysis aborts: weight 0, the stable back to full scale, the canary scaled down (with
  trafficRouting after abortScaleDownDelaySeconds, default 30); outcome Aborted;
- progressDeadlineSeconds (600) without progress: ProgressDeadlineExceeded, the rollout continues
  (progressDeadlineAbort defaults to false).

Blue-green (`rollout/bluegreen.go`, `rollout/pause.go` CompletedBlueGreenPause,
`utils/defaults/defaults.go`): the preview (new) ReplicaSet is scaled to previewReplicaCount or
spec.replicas beside the active one; once fully available, promotion switches the active Service to
it at once when autoPromotionEnabled (default true) and autoPromotionSeconds is 0; with
autoPromotionSeconds > 0 after that long paused; with autoPromotionEnabled false on a manual promote.
The old ReplicaSet is scaled down scaleDownDelaySeconds (default 30) after the switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from simkit.control.progressive.analysis import FAILED, SUCCESSFUL
from simkit.control.progressive.argo_counts import (
    DEFAULT_ABORT_SCALE_DOWN_DELAY_S,
    DEFAULT_PROGRESS_DEADLINE_S,
    DEFAULT_SCALE_DOWN_DELAY_S,
    MAX_WEIGHT,
    RS,
    IntOrStr,
    SetCanaryScale,
    basic_canary_counts,
    canary_replicas_or_weight,
    traffic_routed_counts,
)

# reason codes
SET_WEIGHT = "SetWeight"
PAUSED = "CanaryPauseStep"
PAUSED_INDEFINITELY = "PausedIndefinitely"  # pause {}: waits for `kubectl argo rollouts promote`
SCALING = "WaitingForReplicaCounts"
ANALYSIS_RUNNING = "AnalysisRunning"
PROMOTING = "Promoting"
SCALE_DOWN_DELAY = "ScaleDownDelay"
ABORTING = "RolloutAborted"
COMPLETE = "Complete"
ABORTED = "Aborted"
DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
PREVIEW = "PreviewScalingUp"
BG_PAUSE = "BlueGreenPause"
SWITCHED = "ActiveServiceSwitched"


@dataclass(frozen=True)
class CanaryStep:
    """One entry of `strategy.canary.steps`: exactly one of its fields set."""

    set_weight: int | None = None
    pause: bool = False
    pause_s: float | None = None  # pause {duration}; None with `pause`: pause {} (indefinite)
    scale: SetCanaryScale | None = None
    analysis: bool = False


@dataclass(frozen=True)
class CanarySpec:
    """`strategy.canary` (Argo field names in scenario/plans.py)."""

    steps: tuple[CanaryStep, ...]
    max_surge: IntOrStr | None = None
    max_unavailable: IntOrStr | None = None
    traffic_routing: bool = False
    dynamic_stable_scale: bool = False
    min_pods_per_rs: int | None = None
    scale_down_delay_s: float = DEFAULT_SCALE_DOWN_DELAY_S
    abort_scale_down_delay_s: float | None = DEFAULT_ABORT_SCALE_DOWN_DELAY_S  # None: 0, keep canary up
    progress_deadline_s: float = DEFAULT_PROGRESS_DEADLINE_S


@dataclass(frozen=True)
class Side:
    """A ReplicaSet as observed: pods created (status.replicas) and available."""

    created: int = 0
    available: int = 0


@dataclass(frozen=True)
class Observation:
    replicas: int  # spec.replicas (the HPA's)
    canary: Side
    stable: Side
    analysis: str = ""  # the current analysis step's AnalysisRun phase, or a background run's
    promoted: bool = False  # a human ran `promote` (ends an indefinite pause)


@dataclass(frozen=True)
class CanaryState:
    step: int = 0
    canary_replicas: int = 0
    stable_replicas: int = 0
    weight: int = 0  # router weight (trafficRouting); basic canary: the desired weight
    pause_start_s: float | None = None
    abort_s: float | None = None
    switch_s: float | None = None  # when the canary became stable (all steps done, weight 100)
    last_progress_s: float = 0.0
    deadline_exceeded: bool = False
    done: str = ""  # COMPLETE or ABORTED once finished


@dataclass(frozen=True)
class Decision:
    state: CanaryState
    reason: str
    requeue_after_s: float | None = None  # wake at the latest after this long
    start_analysis: bool = False  # the current step is an analysis step just reached


def _set_weight(steps: Sequence[CanaryStep], index: int) -> int:
    """GetCurrentSetWeight: the last setWeight at or before `index`; 100 past the steps."""
    if index >= len(steps):
        return MAX_WEIGHT
    for i in range(index, -1, -1):
        if steps[i].set_weight is not None:
            return int(steps[i].set_weight)  # type: ignore[arg-type]
    return 0


def _previous_weight(steps: Sequence[CanaryStep], index: int) -> int:
    for i in range(min(index, len(steps)) - 1, -1, -1):
        if steps[i].set_weight is not None:
            return int(steps[i].set_weight)  # type: ignore[arg-type]
    return 0


def _canary_scale(steps: Sequence[CanaryStep], index: int) -> SetCanaryScale | None:
    """UseSetCanaryScale: the last setCanaryScale at or before `index` (before the matchTrafficWeight)."""
    if index >= len(steps):
        return None
    for i in range(index, -1, -1):
        if steps[i].scale is not None:
            return steps[i].scale
    return None


def _counts(
    spec: CanarySpec,
    st: CanaryState,
    obs: Observation,
    weight: int,
    scale: SetCanaryScale | None,
    abort: bool,
    promote_full: bool,
) -> tuple[int, int]:
    explicit, desired = canary_replicas_or_weight(
        weight, scale, spec.traffic_routing, abort, spec.abort_scale_down_delay_s, promote_full
    )
    if spec.traffic_routing:
        return traffic_routed_counts(
            obs.replicas,
            desired,
            canary_scale_replicas=explicit,
            dynamic_stable_scale=spec.dynamic_stable_scale,
            actual_stable_weight=MAX_WEIGHT - st.weight,
            actual_canary_weight=st.weight,
            abort=abort,
            min_pods_per_rs=spec.min_pods_per_rs,
        )
    return basic_canary_counts(
        obs.replicas,
        desired,
        RS(st.canary_replicas, obs.canary.available),
        RS(st.stable_replicas, obs.stable.available),
        max_surge=spec.max_surge,
        max_unavailable=spec.max_unavailable,
    )


def _at_desired(spec: CanarySpec, obs: Observation, canary: int, stable: int) -> bool:
    """AtDesiredReplicaCountsForCanary (replicaProgressThreshold unset: all canary available)."""
    stable_ok = (spec.traffic_routing and spec.dynamic_stable_scale) or obs.stable.created == stable
    return obs.canary.available == canary and stable_ok


def canary_sync(spec: CanarySpec, st: CanaryState, obs: Observation, now: float) -> Decision:
    """One reconcile of the canary rollout: the ReplicaSets' replicas, the router weight, the step."""
    if st.done:
        return Decision(st, st.done)
    steps = spec.steps
    if st.abort_s is None and obs.analysis == FAILED:
        st = replace(st, abort_s=now, pause_start_s=None)
    if st.abort_s is not None:
        return _abort(spec, st, obs, now)
    for _ in range(len(steps) + 1):  # a sync may complete several steps (Argo requeues at once)
        if st.step >= len(steps):
            return _promote(spec, st, obs, now)
        step = steps[st.step]
        weight = _set_weight(steps, st.step)
        canary, stable = _counts(spec, st, obs, weight, _canary_scale(steps, st.step), False, False)
        st = replace(st, canary_replicas=canary, stable_replicas=stable)
        at = _at_desired(spec, obs, canary, stable)
        if spec.traffic_routing:
            routed = 0 if obs.canary.available == 0 else (weight if at else _previous_weight(steps, st.step))
            st = replace(st, weight=routed)
        else:
            st = replace(st, weight=weight)
        if step.pause:
            if st.pause_start_s is None:
                st = replace(st, pause_start_s=now, last_progress_s=now)
            if step.pause_s is None:
                if not obs.promoted:
                    return Decision(st, PAUSED_INDEFINITELY)
            elif now < st.pause_start_s + step.pause_s:  # type: ignore[operator]
                return Decision(st, PAUSED, st.pause_start_s + step.pause_s - now)  # type: ignore[operator]
        elif step.analysis:
            if st.pause_start_s is None:  # entered: a new AnalysisRun (the field marks "step entered")
                st = replace(st, pause_start_s=now, last_progress_s=now)
                return Decision(st, ANALYSIS_RUNNING, None, True)
            if obs.analysis != SUCCESSFUL:
                return Decision(st, ANALYSIS_RUNNING)
        elif not at:
            return _waiting(spec, st, now, SCALING)
        st = replace(st, step=st.step + 1, pause_start_s=None, last_progress_s=now)
    return Decision(st, SET_WEIGHT)


def _waiting(spec: CanarySpec, st: CanaryState, now: float, reason: str) -> Decision:
    """Waiting for pods: ProgressDeadlineExceeded once `progress_deadline_s` passes without progress."""
    left = st.last_progress_s + spec.progress_deadline_s - now
    if left <= 0 and not st.deadline_exceeded:
        return Decision(replace(st, deadline_exceeded=True), DEADLINE_EXCEEDED)
    return Decision(st, reason, max(left, 0.0) if not st.deadline_exceeded else None)


def _promote(spec: CanarySpec, st: CanaryState, obs: Observation, now: float) -> Decision:
    """Past the last step: the canary to full scale, then the stable (old) ReplicaSet down."""
    canary, stable = _counts(spec, st, obs, MAX_WEIGHT, None, False, True)
    if spec.traffic_routing:
        stable = st.stable_replicas if st.switch_s is None else stable
        if obs.canary.available < obs.replicas:
            return _waiting(spec, replace(st, canary_replicas=canary), now, PROMOTING)
        if st.switch_s is None:
            st = replace(st, switch_s=now, weight=MAX_WEIGHT, last_progress_s=now)
        left = st.switch_s + spec.scale_down_delay_s - now  # type: ignore[operator]
        if left > 0:
            return Decision(replace(st, canary_replicas=canary), SCALE_DOWN_DELAY, left)
        stable = 0
    elif st.switch_s is None:
        st = replace(st, switch_s=now)
    st = replace(st, canary_replicas=canary, stable_replicas=stable, weight=MAX_WEIGHT)
    if stable == 0 and obs.stable.created == 0 and obs.canary.available >= obs.replicas:
        return Decision(replace(st, done=COMPLETE), COMPLETE)
    return _waiting(spec, st, now, PROMOTING)


def _abort(spec: CanarySpec, st: CanaryState, obs: Observation, now: float) -> Decision:
    """Aborted: weight 0 at once, the stable to full scale, the canary down (after the delay)."""
    canary, stable = _counts(spec, replace(st, weight=0), obs, 0, None, True, False)
    st = replace(st, weight=0)
    if spec.traffic_routing:
        delay = spec.abort_scale_down_delay_s
        if delay is None:  # abortScaleDownDelaySeconds: 0 -> leave the canary up
            canary = st.canary_replicas
        elif now < st.abort_s + delay:  # type: ignore[operator]
            st = replace(st, stable_replicas=stable)
            return Decision(st, ABORTING, st.abort_s + delay - now)  # type: ignore[operator]
        else:
            canary = 0
    st = replace(st, canary_replicas=canary, stable_replicas=stable)
    keep = spec.traffic_routing and spec.abort_scale_down_delay_s is None
    if obs.stable.available >= obs.replicas and (keep or (canary == 0 and obs.canary.created == 0)):
        return Decision(replace(st, done=ABORTED), ABORTED)
    return Decision(st, ABORTING)


# ---------------------------------------------------------------------------------- blue-green
@dataclass(frozen=True)
class BlueGreenSpec:
    """`strategy.blueGreen`."""

    auto_promotion_enabled: bool = True  # defaults.go DefaultAutoPromotionEnabled
    auto_promotion_s: float = 0.0  # autoPromotionSeconds
    scale_down_delay_s: float = DEFAULT_SCALE_DOWN_DELAY_S
    preview_replica_count: int | None = None
    progress_deadline_s: float = DEFAULT_PROGRESS_DEADLINE_S


@dataclass(frozen=True)
class BlueGreenState:
    new_replicas: int = 0
    old_replicas: int = 0
    pause_start_s: float | None = None
    switch_s: float | None = None
    last_progress_s: float = 0.0
    deadline_exceeded: bool = False
    done: str = ""

    @property
    def active_new(self) -> bool:
        """The active Service selects the new ReplicaSet (all production traffic to it)."""
        return self.switch_s is not None


@dataclass(frozen=True)
class BGDecision:
    state: BlueGreenState
    reason: str
    requeue_after_s: float | None = None


def blue_green_sync(spec: BlueGreenSpec, st: BlueGreenState, obs: Observation, now: float) -> BGDecision:
    """One reconcile of a blue-green rollout (`obs.canary` is the preview / new ReplicaSet)."""
    if st.done:
        return BGDecision(st, st.done)
    n = obs.replicas
    if st.switch_s is None:
        preview = n if spec.preview_replica_count is None else spec.preview_replica_count
        st = replace(st, new_replicas=preview, old_replicas=n)
        if obs.canary.available < preview:
            left = st.last_progress_s + spec.progress_deadline_s - now
            if left <= 0 and not st.deadline_exceeded:
                return BGDecision(replace(st, deadline_exceeded=True), DEADLINE_EXCEEDED)
            return BGDecision(st, PREVIEW, None if st.deadline_exceeded else max(left, 0.0))
        needs_pause = not spec.auto_promotion_enabled or spec.auto_promotion_s > 0
        if needs_pause:
            if st.pause_start_s is None:
                st = replace(st, pause_start_s=now, last_progress_s=now)
            if not spec.auto_promotion_enabled:
                if not obs.promoted:
                    return BGDecision(st, PAUSED_INDEFINITELY)
            elif now < st.pause_start_s + spec.auto_promotion_s:  # type: ignore[operator]
                return BGDecision(st, BG_PAUSE, st.pause_start_s + spec.auto_promotion_s - now)  # type: ignore[operator]
        # promotion: the new ReplicaSet to full scale first (previewReplicaCount), then the switch
        st = replace(st, new_replicas=n)
        if obs.canary.available < n:
            return BGDecision(st, PROMOTING)
        st = replace(st, switch_s=now, last_progress_s=now)
    st = replace(st, new_replicas=n)
    left = st.switch_s + spec.scale_down_delay_s - now  # type: ignore[operator]
    if left > 0:
        return BGDecision(st, SCALE_DOWN_DELAY, left)
    st = replace(st, old_replicas=0)
    if obs.stable.created == 0:
        return BGDecision(replace(st, done=COMPLETE), COMPLETE)
    return BGDecision(st, SWITCHED)
