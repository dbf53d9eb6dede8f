"""Normalization of a metric proposal: stabilization, rate limits and scale-event bookkeeping.

Two paths, chosen by whether `spec.behavior` is set (HZ horizontal.go):
* legacy (`behavior` nil): stabilizeRecommendation (max over the downscale window) then
  convertDesiredReplicasWithRules (scale-up cap max(factor x current, minimum)); hpa_spec.md §7.
* behavior: stabilizeRecommendationWithBehaviors (up and down windows) then
  convertDesiredReplicasWithBehaviorRate (Pods/Percent policies over periods); hpa_spec.md §8.
Everything is pure: histories come in as tuples and updated copies go out. Windows compare
timestamps strictly, as Go's `After(now - W)` / `Before(now - W)` do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from simkit.control.hpa.types import (
    POLICY_PERCENT,
    POLICY_PODS,
    SELECT_DISABLED,
    SELECT_MIN,
    HPABehavior,
    Recommendation,
    ScaleEvent,
    ScalingRules,
)

__all__ = [
    "Outcome",
    "legacy_stabilize",
    "legacy_convert_desired_replicas",
    "stabilize_with_behavior",
    "replicas_change_in_period",
    "scale_up_limit",
    "scale_down_limit",
    "convert_desired_replicas_with_behavior_rate",
    "mark_scale_events_outdated",
    "record_scale_event",
    "store_scale_event",
]

DESIRED_WITHIN_RANGE = "DesiredWithinRange"
MSG_WITHIN_RANGE = "the desired count is within the acceptable range"
MSG_UP_RATE = "the desired replica count is increasing faster than the maximum scale rate"
MSG_DOWN_RATE = "the desired replica count is decreasing faster than the maximum scale rate"
MSG_TOO_MANY = "the desired replica count is more than the maximum replica count"
MSG_TOO_FEW = "the desired replica count is less than the minimum replica count"
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_Item = TypeVar("_Item", Recommendation, ScaleEvent)


@dataclass(frozen=True)
class Outcome:
    """A replica count with the condition reason and message that explain it."""

    replicas: int
    reason: str
    message: str


def _store(items_in: Sequence[_Item], slot: int | None, new: _Item) -> tuple[_Item, ...]:
    """Overwrite the reusable slot if there is one, else append (HZ: the last expired index is reused)."""
    items = list(items_in)
    if slot is None:
        items.append(new)
    else:
        items[slot] = new
    return tuple(items)


# ---------------------------------------------------------------------------------------------
# Legacy path (behavior nil)
# ---------------------------------------------------------------------------------------------


def legacy_stabilize(
    recommendations: Sequence[Recommendation], desired: int, now: float, window_s: float
) -> tuple[int, tuple[Recommendation, ...]]:
    """Max of `desired` and the recommendations not older than the window (HZ stabilizeRecommendation).

    Returns the stabilized value and the log with `desired` recorded. This also pulls scale-ups
    up to a higher recent recommendation, unlike the behavior path.
    """
    cutoff = now - window_s
    best, slot = desired, None
    for i, rec in enumerate(recommendations):
        if rec.time < cutoff:
            slot = i
        elif rec.value > best:
            best = rec.value
    return best, _store(recommendations, slot, Recommendation(desired, now))


def legacy_convert_desired_replicas(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    scale_up_limit_factor: float = 2.0,
    scale_up_limit_minimum: float = 4.0,
) -> Outcome:
    """Clamp to [min, min(max, scale-up cap)] (HZ convertDesiredReplicasWithRules, calculateScaleUpLimit).

    The cap max(factor x current, minimum) has no memory of earlier scale-ups, and nothing
    limits the speed of a scale-down on this path.
    """
    cap = int(max(scale_up_limit_factor * float(current), scale_up_limit_minimum))
    if max_replicas > cap:
        maximum, reason, message = cap, "ScaleUpLimit", MSG_UP_RATE
    else:
        maximum, reason, message = max_replicas, "TooManyReplicas", MSG_TOO_MANY
    if desired < min_replicas:
        return Outcome(min_replicas, "TooFewReplicas", MSG_TOO_FEW)
    if desired > maximum:
        return Outcome(maximum, reason, message)
    return Outcome(desired, DESIRED_WITHIN_RANGE, MSG_WITHIN_RANGE)


# ---------------------------------------------------------------------------------------------
# Behavior path: stabilization
# ---------------------------------------------------------------------------------------------


def stabilize_with_behavior(
    recommendations: Sequence[Recommendation],
    current: int,
    desired: int,
    up_window_s: float,
    down_window_s: float,
    now: float,
) -> tuple[Outcome, tuple[Recommendation, ...]]:
    """Stabilize between the up floor and the down ceiling (HZ stabilizeRecommendationWithBehaviors).

    Scale up only to the lowest recommendation of the last `up_window_s`, scale down only to the
    highest of the last `down_window_s`. The unstabilized `desired` is recorded, reusing the last
    slot older than both windows.
    """
    up_cutoff, down_cutoff = now - up_window_s, now - down_window_s
    up_floor = down_ceiling = desired
    slot = None
    for i, rec in enumerate(recommendations):  # comparisons, not min()/max(): every sync runs this loop
        t, value = rec.time, rec.value
        if t > up_cutoff and value < up_floor:
            up_floor = value
        if t > down_cutoff and value > down_ceiling:
            down_ceiling = value
        if t < up_cutoff and t < down_cutoff:
            slot = i
    stabilized = min(max(current, up_floor), down_ceiling)
    if desired >= current:
        outcome = Outcome(
            stabilized,
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    else:
        outcome = Outcome(
            stabilized,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    return outcome, _store(recommendations, slot, Recommendation(desired, now))


# ---------------------------------------------------------------------------------------------
# Behavior path: rate limits
# ---------------------------------------------------------------------------------------------


def replicas_change_in_period(events: Sequence[ScaleEvent], period_s: float, now: float) -> int:
    """Sum of the changes of events younger than the period (HZ getReplicasChangePerPeriod)."""
    cutoff = now - period_s
    return sum(e.change for e in events if e.time > cutoff)


def _period_start(
    current: int, up: Sequence[ScaleEvent], down: Sequence[ScaleEvent], period_s: float, now: float
) -> int:
    """Replica count at the start of the period: recent scale-ups backed out, scale-downs added back."""
    return (
        current
        - replicas_change_in_period(up, period_s, now)
        + replicas_change_in_period(down, period_s, now)
    )


def scale_up_limit(
    current: int,
    up_events: Sequence[ScaleEvent],
    down_events: Sequence[ScaleEvent],
    rules: ScalingRules,
    now: float,
) -> int:
    """Highest replica count the scale-up policies allow now (HZ calculateScaleUpLimitWithScalingRules).

    Pods: start + value; Percent: ceil(start x (1 + value/100)). selectPolicy Max takes the largest
    proposal, Min the smallest, Disabled allows no change.
    """
    if rules.select_policy == SELECT_DISABLED:
        return current
    proposals = []
    for policy in rules.policies:
        start = _period_start(current, up_events, down_events, policy.period_s, now)
        if policy.type == POLICY_PODS:
            proposals.append(start + policy.value)
        elif policy.type == POLICY_PERCENT:
            proposals.append(math.ceil(float(start) * (1 + float(policy.value) / 100)))
    if rules.select_policy == SELECT_MIN:
        return min(proposals, default=_INT32_MAX)
    return max(proposals, default=_INT32_MIN)


def scale_down_limit(
    current: int,
    up_events: Sequence[ScaleEvent],
    down_events: Sequence[ScaleEvent],
    rules: ScalingRules,
    now: float,
) -> int:
    """Lowest replica count the scale-down policies allow now (HZ calculateScaleDownLimitWithBehaviors).

    Pods: start - value; Percent: start x (1 - value/100) truncated toward zero like Go's int32().
    selectPolicy Max means the biggest change, so the smallest proposal; Min the largest.
    """
    if rules.select_policy == SELECT_DISABLED:
        return current
    proposals = []
    for policy in rules.policies:
        start = _period_start(current, up_events, down_events, policy.period_s, now)
        if policy.type == POLICY_PODS:
            proposals.append(start - policy.value)
        elif policy.type == POLICY_PERCENT:
            proposals.append(int(float(start) * (1 - float(policy.value) / 100)))
    if rules.select_policy == SELECT_MIN:
        return max(proposals, default=_INT32_MIN)
    return min(proposals, default=_INT32_MAX)


def convert_desired_replicas_with_behavior_rate(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    scale_up_rules: ScalingRules,
    scale_down_rules: ScalingRules,
    up_events: Sequence[ScaleEvent],
    down_events: Sequence[ScaleEvent],
    now: float,
) -> Outcome:
    """Apply the policy rate limits and min/max (HZ convertDesiredReplicasWithBehaviorRate).

    A limit used up by recent events is held at `current` (never reverses direction). The reason
    names whichever bound binds: ScaleUpLimit vs TooManyReplicas, ScaleDownLimit vs TooFewReplicas.
    """
    if desired > current:
        limit = max(scale_up_limit(current, up_events, down_events, scale_up_rules, now), current)
        if max_replicas > limit:
            bound = Outcome(limit, "ScaleUpLimit", MSG_UP_RATE)
        else:
            bound = Outcome(max_replicas, "TooManyReplicas", MSG_TOO_MANY)
        if desired > bound.replicas:
            return bound
    elif desired < current:
        limit = min(scale_down_limit(current, up_events, down_events, scale_down_rules, now), current)
        if min_replicas < limit:
            bound = Outcome(limit, "ScaleDownLimit", MSG_DOWN_RATE)
        else:
            bound = Outcome(min_replicas, "TooFewReplicas", MSG_TOO_FEW)
        if desired < bound.replicas:
            return bound
    return Outcome(desired, DESIRED_WITHIN_RANGE, MSG_WITHIN_RANGE)


# ---------------------------------------------------------------------------------------------
# Scale events
# ---------------------------------------------------------------------------------------------


def mark_scale_events_outdated(
    events: Sequence[ScaleEvent], longest_period_s: float, now: float
) -> tuple[ScaleEvent, ...]:
    """Flag events older than the longest policy period as reusable (HZ markScaleEventsOutdated)."""
    cutoff = now - longest_period_s
    return tuple(ScaleEvent(e.change, e.time, True) if e.time < cutoff else e for e in events)


def record_scale_event(
    events: Sequence[ScaleEvent], change: int, rules: ScalingRules, now: float
) -> tuple[ScaleEvent, ...]:
    """Mark outdated events, then store (|change|, now) in the last outdated slot or append it."""
    marked = list(mark_scale_events_outdated(events, rules.longest_period_s, now))
    slot = next((i for i in range(len(marked) - 1, -1, -1) if marked[i].outdated), None)
    return _store(marked, slot, ScaleEvent(abs(change), now, False))


def store_scale_event(
    behavior: HPABehavior | None,
    up_events: Sequence[ScaleEvent],
    down_events: Sequence[ScaleEvent],
    previous: int,
    new: int,
    now: float,
) -> tuple[tuple[ScaleEvent, ...], tuple[ScaleEvent, ...]]:
    """Record a rescale from `previous` to `new` in the list of its direction (HZ storeScaleEvent).

    Nothing is stored without `behavior`: the legacy path never reads events.
    """
    up, down = tuple(up_events), tuple(down_events)
    if behavior is None or new == previous:
        return up, down
    if new > previous:
        return record_scale_event(up, new - previous, behavior.scale_up, now), down
    return up, record_scale_event(down, previous - new, behavior.scale_down, now)
