"""Quiet HPA syncs in closed form: which future syncs provably repeat the last decision.

Most of a month, an HPA's sync changes nothing: the metrics propose the same count P, every
recommendation in the stabilization windows is P, and no scale event is inside a policy period.
Then `decide` returns the same decision at every later sync whose metrics propose P again, and the
only trace the sync leaves is the recommendation (P, now) in the state (hpa_spec.md §7-8):
* stabilization: every in-window recommendation and the proposal are P, so it yields P;
* rate limits: the event sums over the periods are constant (no event is inside a period);
* min/max and the message depend on current and P only.
With a `behavior`, a proposal equal to the current count repeats the decision whatever the windows
hold (`repeats`). So the engine may skip those syncs if it can tell, without running them, which future syncs
propose P. In the *steady* case (every pod Ready, counted and past the CPU initialization period,
all with the same usage) the replica calculator reduces to a few integer and float operations per
metric, done here for a whole series of syncs with numpy, in the same IEEE operations and order as
`hpa_metrics` (tests/test_hpa_steady.py checks them against `compute_replicas_for_metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from simkit.control.hpa.types import (
    AVERAGE_VALUE,
    EXTERNAL,
    MAX_INT32,
    OBJECT,
    PODS,
    RESOURCE,
    UTILIZATION,
    VALUE,
    HPAControllerConfig,
    HPASpec,
    HPAState,
    Recommendation,
    Tolerances,
)

__all__ = [
    "stabilization_reach_s",
    "settled",
    "repeats",
    "steady_supported",
    "steady_replicas",
    "record_quiet_syncs",
]


def stabilization_reach_s(spec: HPASpec, config: HPAControllerConfig) -> float:
    """How far back any stabilization window of this HPA looks (seconds)."""
    if spec.behavior is None:
        return config.downscale_stabilization_s
    down = spec.behavior.scale_down.stabilization_window_s
    down_s = config.downscale_stabilization_s if down is None else float(down)
    return max(down_s, float(spec.behavior.scale_up.stabilization_window_s or 0))


def settled(spec: HPASpec, state: HPAState, proposal: int, now: float, config: HPAControllerConfig) -> bool:
    """True when later syncs proposing `proposal` must repeat the decision just taken at `now`.

    `state` is the state that decision returned (its own recommendation included), and the
    decision kept the replica count. Needs: every recommendation still inside a stabilization
    window equals the proposal, and no scale event inside any policy period (so none can leave
    one later either).
    """
    if not state.initialized:
        return False
    cutoff = now - stabilization_reach_s(spec, config)  # >=: the legacy window includes its edge
    if any(rec.value != proposal for rec in state.recommendations if rec.time >= cutoff):
        return False
    if spec.behavior is None:
        return True  # the legacy path keeps no events
    rules = (spec.behavior.scale_up, spec.behavior.scale_down)
    longest = max(r.longest_period_s for r in rules)
    events = (*state.scale_up_events, *state.scale_down_events)
    return all(e.time <= now - longest for e in events)


def repeats(
    spec: HPASpec, state: HPAState, proposal: int, current: int, now: float, config: HPAControllerConfig
) -> bool:
    """True when later syncs proposing `proposal` must repeat the keep-the-count decision taken at `now`.

    Either the HPA is `settled`, or it has a `behavior` and the proposal is the current count
    (within min/max): then whatever the windows hold, stabilization yields the current count (the
    up floor is at most it, the down ceiling at least it: HZ stabilizeRecommendationWithBehaviors),
    no rate limit applies to no change (convertDesiredReplicasWithBehaviorRate: DesiredWithinRange),
    and the message names the current count only. The legacy path is not covered this way: its
    stabilization takes the highest recent recommendation even above the current count.
    """
    if (
        spec.behavior is not None
        and state.initialized
        and proposal == current
        and spec.min_replicas <= current <= spec.max_replicas
    ):
        return True
    return settled(spec, state, proposal, now, config)


def steady_supported(spec: HPASpec) -> bool:
    """Whether every metric of the HPA has a steady-case form here (all but ContainerResource)."""
    for m in spec.metrics:
        t = m.target
        average = t.type == AVERAGE_VALUE and bool(t.average_value_milli)
        if m.type == RESOURCE:
            ok = (t.type == UTILIZATION and bool(t.average_utilization)) or average
        elif m.type == PODS:
            ok = average
        elif m.type in (OBJECT, EXTERNAL):
            ok = (t.type == VALUE and bool(t.value_milli)) or average
        else:
            ok = False
        if not ok:
            return False
    return bool(spec.metrics)


def _ceil_saturated(x: np.ndarray) -> np.ndarray:
    """Vector form of hpa_metrics._ceil_saturated for the non-negative, finite ratios seen here."""
    out = np.ceil(np.minimum(x, float(MAX_INT32)))
    return out.astype(np.int64)


def _within(ratio: np.ndarray, tol: Tolerances) -> np.ndarray:
    return ((1.0 - tol.scale_down) <= ratio) & (ratio <= (1.0 + tol.scale_up))


def steady_replicas(
    spec: HPASpec,
    tol: Tolerances,
    current: int,
    pods: int,
    usage_milli: Mapping[str, np.ndarray],
    requests_milli: Mapping[str, int],
    values_milli: Mapping[tuple[str, str], np.ndarray],
) -> np.ndarray:
    """The replica count `compute_replicas_for_metrics` proposes at each of a series of syncs.

    Steady case only: `pods` pods, all Ready with a sample, none terminating; `current` is
    spec.replicas. `usage_milli[resource]` is every pod's usage at each sync (the same for all
    pods) and `requests_milli[resource]` one pod's request; `values_milli[(type, name)]` is a Pods
    metric's per-pod value, or an Object or External metric's (single) value, at each sync.
    Callers check `steady_supported(spec)` first.
    """
    n = len(next(iter((*usage_milli.values(), *values_milli.values()))))
    best = np.zeros(n, dtype=np.int64)
    for m in spec.metrics:
        t = m.target
        if m.type in (RESOURCE, PODS):
            u = np.asarray(usage_milli[m.name] if m.type == RESOURCE else values_milli[(m.type, m.name)])
            u = u.astype(np.int64)
            if t.type == UTILIZATION:  # RC GetResourceReplicas, UT integer utilization
                assert t.average_utilization is not None
                util = (u * pods * 100) // (requests_milli[m.name] * pods)
                ratio = util.astype(np.float64) / float(t.average_utilization)
            else:  # RC calcPlainMetricReplicas: the truncated per-pod average over the target
                assert t.average_value_milli is not None
                ratio = ((u * pods) // pods).astype(np.float64) / float(t.average_value_milli)
            proposal = np.where(_within(ratio, tol), current, _ceil_saturated(ratio * float(pods)))
        else:
            total = np.asarray(values_milli[(m.type, m.name)], dtype=np.int64)
            if t.type == VALUE:  # RC getUsageRatioReplicaCount on the ready pods
                assert t.value_milli is not None
                ratio = total.astype(np.float64) / float(t.value_milli)
                proposal = np.where(_within(ratio, tol), current, _ceil_saturated(ratio * float(pods)))
            else:  # per-pod: tolerance against target x status.replicas, else total / target
                assert t.average_value_milli is not None
                target = float(t.average_value_milli)
                ratio = total.astype(np.float64) / (target * float(pods))
                proposal = np.where(
                    _within(ratio, tol), pods, _ceil_saturated(total.astype(np.float64) / target)
                )
        first = best == 0
        best = np.where(first | (proposal > best), proposal, best)
    return best


def record_quiet_syncs(state: HPAState, proposal: int, times: Sequence[float], reach_s: float) -> HPAState:
    """The state after quiet syncs at `times` (ascending), each recording (proposal, t).

    Only recommendations inside a stabilization window can ever change a decision (a new one only
    ever overwrites a slot older than every window), so the log keeps those that may still
    matter after the last sync and adds the skipped syncs' own; the decisions that follow are
    exactly those of the full sequence of syncs.
    """
    if not times:
        return state
    cutoff = times[-1] - reach_s
    kept = [rec for rec in state.recommendations if rec.time >= cutoff]
    kept.extend(Recommendation(proposal, t) for t in times if t >= cutoff)
    return HPAState(tuple(kept), state.scale_up_events, state.scale_down_events, state.initialized)
