"""Argo Rollouts canary replica arithmetic, transcribed from argo-rollouts v1.9.1.

Upstream (github.com/argoproj/argo-rollouts, tag v1.9.1):
- `utils/replicaset/canary.go`: CalculateReplicaCountsForBasicCanary,
  approximateWeightedCanaryStableReplicaCounts, floorCeilingTied, weightDelta,
  calculateScaleDownReplicaCount, adjustReplicaWithinLimits, GetReplicasForScaleDown,
  CalculateReplicaCountsForTrafficRoutedCanary, trafficWeightToReplicas, CheckMinPodsPerReplicaSet.
- `utils/replicaset/replicaset.go`: MaxSurge, MaxUnavailable, resolveFenceposts (surge rounds up,
  unavailable down, both 0 -> unavailable 1).
- `utils/defaults/defaults.go`: DefaultMaxSurge = DefaultMaxUnavailable = "25" (read through the
  legacy `intstr.GetValueFromIntOrPercent`, which strips any "%" and treats a string as a
  percentage: 25 %), DefaultScaleDownDelaySeconds = DefaultAbortScaleDownDelaySeconds = 30,
  DefaultAutoPromotionEnabled = true, DefaultProgressDeadlineSeconds = 600.

Verified against upstream's own tests (`utils/replicaset/canary_test.go`:
TestCalculateReplicaCountsForCanary, TestApproximateWeightedNewStableReplicaCounts) in
tests/test_canary_argo.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

IntOrStr = int | str

DEFAULT_MAX_SURGE = "25%"  # defaults.go DefaultMaxSurge "25" (a string: a percentage)
DEFAULT_MAX_UNAVAILABLE = "25%"  # defaults.go DefaultMaxUnavailable "25"
DEFAULT_SCALE_DOWN_DELAY_S = 30.0  # defaults.go DefaultScaleDownDelaySeconds
DEFAULT_ABORT_SCALE_DOWN_DELAY_S = 30.0  # defaults.go DefaultAbortScaleDownDelaySeconds
DEFAULT_AUTO_PROMOTION_ENABLED = True  # defaults.go DefaultAutoPromotionEnabled
DEFAULT_PROGRESS_DEADLINE_S = 600.0  # defaults.go DefaultProgressDeadlineSeconds
MAX_WEIGHT = 100  # weightutil.MaxTrafficWeight without trafficRouting.maxTrafficWeight


@dataclass(frozen=True)
class RS:
    """A ReplicaSet as the arithmetic reads it: spec.replicas and status.availableReplicas."""

    replicas: int
    available: int = 0


def _legacy_value(value: IntOrStr, total: int, round_up: bool) -> int:
    """`intstr.GetValueFromIntOrPercent` (the legacy form Argo calls): a string is a percentage."""
    if isinstance(value, int):
        return value
    pct = int(value.replace("%", ""))
    return -(-pct * total // 100) if round_up else pct * total // 100


def fenceposts(
    max_surge: IntOrStr | None, max_unavailable: IntOrStr | None, replicas: int
) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as MaxSurge / MaxUnavailable resolve them (replicaset.go)."""
    if replicas == 0:
        surge = _legacy_value(DEFAULT_MAX_SURGE if max_surge is None else max_surge, 0, True)
        return surge, 0
    surge = _legacy_value(DEFAULT_MAX_SURGE if max_surge is None else max_surge, replicas, True)
    unavailable = _legacy_value(
        DEFAULT_MAX_UNAVAILABLE if max_unavailable is None else max_unavailable, replicas, False
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def _floor_ceiling_tied(weight: int, max_weight: int, total: int) -> bool:
    frac = math.modf(float(total) * (float(weight) / float(max_weight)))[0]
    return frac == 0.5


def _weight_delta(weight: int, max_weight: int, canary: int, total: int) -> float:
    return abs(float(canary * max_weight) / float(total) - float(weight))


def approximate_counts(spec: int, weight: int, max_weight: int, max_surge: int) -> tuple[int, int]:
    """approximateWeightedCanaryStableReplicaCounts: the (canary, stable) closest to `weight`; their
    sum is spec or spec + 1 (only with surge), and 1-99 % never rounds a side to 0 when spec > 1."""
    if spec == 0:
        return 0, 0
    ceil_c = -(-spec * weight // max_weight)
    floor_c = spec * weight // max_weight
    tied = _floor_ceiling_tied(weight, max_weight, spec)
    zero_allowed = weight in (max_weight, 0) or (spec == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil_c < spec or zero_allowed:
        options.append((ceil_c, spec))
    if not tied and (floor_c != 0 or zero_allowed):
        options.append((floor_c, spec))
    if max_surge > 0:
        options.append((ceil_c, spec + 1))
        if not _floor_ceiling_tied(weight, max_weight, spec + 1) and (floor_c != 0 or zero_allowed):
            options.append((floor_c, spec + 1))
    if not options:
        return 0, spec
    best = options[0]
    best_delta = _weight_delta(weight, max_weight, *best)
    for opt in options[1:]:
        delta = _weight_delta(weight, max_weight, *opt)
        if delta < best_delta:
            best, best_delta = opt, delta
    return best[0], best[1] - best[0]


def _for_scale_down(rs: RS | None, ignore_availability: bool) -> int:
    """GetReplicasForScaleDown."""
    if rs is None:
        return 0
    if rs.replicas < rs.available:
        return rs.replicas
    return rs.replicas if ignore_availability else rs.available


def _scale_down_count(drain: RS | None, desired: int, scale_down: int, current: int) -> int:
    """calculateScaleDownReplicaCount."""
    if drain is not None and drain.replicas > desired:
        return max(desired, drain.replicas - scale_down)
    return current


def _within_limits(
    drain: RS | None,
    adjust: RS | None,
    drain_count: int,
    adjust_count: int,
    max_allowed: int,
    min_available: int,
) -> tuple[int, int]:
    """adjustReplicaWithinLimits: keep within maxSurge, give back availability lost to it."""
    over = max(0, adjust_count + drain_count - max_allowed)
    total_available = min(drain.available, drain_count) if drain is not None else 0
    if adjust is not None:
        adjust_count -= over
        total_available += min(adjust.available, adjust_count)
        extra = max(0, adjust.available - adjust_count)
        more = max(0, min_available - total_available)
        adjust_count += min(extra, more)
        over = max(0, adjust_count + drain_count - max_allowed)
        drain_count -= over
    return drain_count, adjust_count


def basic_canary_counts(
    spec: int,
    weight: int,
    new: RS | None,
    stable: RS | None,
    older: Sequence[RS] = (),
    max_surge: IntOrStr | None = None,
    max_unavailable: IntOrStr | None = None,
    same_rs: bool = False,
    max_weight: int = MAX_WEIGHT,
) -> tuple[int, int]:
    """CalculateReplicaCountsForBasicCanary: (new RS, stable RS) replicas for this sync.

    `weight` is the desired canary weight (GetCanaryReplicasOrWeight); `same_rs`: the stable RS is
    the new one (CheckStableRSExists false: go straight to 100 %).
    """
    surge, unavailable = fenceposts(max_surge, max_unavailable, spec)
    want_new, want_stable = approximate_counts(spec, weight, max_weight, surge)
    new_count = new.replicas if new is not None else 0
    scale_stable = stable is not None and not same_rs
    stable_count = 0
    if scale_stable:
        assert stable is not None
        stable_count = stable.replicas
    else:
        want_new, want_stable = spec, 0
    max_allowed = spec + surge
    all_rs = [*older, *([new] if new is not None else []), *([stable] if scale_stable and stable else [])]
    up = max_allowed - sum(r.replicas for r in all_rs)
    if scale_stable and stable is not None and stable.replicas < want_stable and up > 0:
        if stable.replicas + up < want_stable:
            stable_count, up = stable.replicas + up, 0
        else:
            stable_count, up = want_stable, up - (want_stable - stable.replicas)
    if new is not None and new.replicas < want_new and up > 0:
        new_count = min(new.replicas + up, want_new)
    if sum(r.replicas for r in older) > 0:
        return new_count, stable_count  # older ReplicaSets are scaled down first
    min_available = spec - unavailable
    increasing = new is None or want_new >= new.replicas
    to_scale_down = _for_scale_down(new, not increasing) + _for_scale_down(stable, increasing)
    if to_scale_down <= min_available:
        return new_count, stable_count
    down = to_scale_down - min_available
    if not increasing:
        new_count = _scale_down_count(new, want_new, down, new_count)
        new_count, stable_count = _within_limits(
            new, stable, new_count, stable_count, max_allowed, min_available
        )
    elif scale_stable:
        stable_count = _scale_down_count(stable, want_stable, down, stable_count)
        stable_count, new_count = _within_limits(
            stable, new, stable_count, new_count, max_allowed, min_available
        )
    return new_count, stable_count


def weight_to_replicas(replicas: int, weight: int, max_weight: int = MAX_WEIGHT) -> int:
    """trafficWeightToReplicas: ceil(weight x replicas / maxWeight)."""
    return -(-weight * replicas // max_weight)


def _min_pods(count: int, min_pods: int | None) -> int:
    """CheckMinPodsPerReplicaSet (only with traffic routing, which is the only caller here)."""
    return count if count == 0 or min_pods is None else max(count, min_pods)


def traffic_routed_counts(
    spec: int,
    weight: int,
    canary_scale_replicas: int | None = None,
    dynamic_stable_scale: bool = False,
    actual_stable_weight: int | None = None,
    actual_canary_weight: int | None = None,
    abort: bool = False,
    min_pods_per_rs: int | None = None,
    max_weight: int = MAX_WEIGHT,
) -> tuple[int, int]:
    """CalculateReplicaCountsForTrafficRoutedCanary: (canary, stable). Without dynamicStableScale the
    stable side stays at spec.replicas; the canary follows setWeight or setCanaryScale."""
    if canary_scale_replicas is not None:
        canary = canary_scale_replicas
    else:
        canary = _min_pods(weight_to_replicas(spec, weight, max_weight), min_pods_per_rs)
    if not dynamic_stable_scale:
        return canary, spec
    stable = weight_to_replicas(spec, max_weight - weight, max_weight)
    if actual_stable_weight is not None:
        stable = max(stable, weight_to_replicas(spec, actual_stable_weight, max_weight))
        if abort and actual_canary_weight is not None:
            canary = max(weight_to_replicas(spec, actual_canary_weight, max_weight), canary)
    return _min_pods(canary, min_pods_per_rs), _min_pods(stable, min_pods_per_rs)


@dataclass(frozen=True)
class SetCanaryScale:
    """A setCanaryScale step: replicas, or weight, or matchTrafficWeight (canary.go UseSetCanaryScale)."""

    replicas: int | None = None
    weight: int | None = None
    match_traffic_weight: bool = False


def canary_replicas_or_weight(
    step_weight: int,
    scale: SetCanaryScale | None,
    traffic_routing: bool,
    abort: bool = False,
    abort_scale_down_delay_s: float | None = DEFAULT_ABORT_SCALE_DOWN_DELAY_S,
    promote_full: bool = False,
    max_weight: int = MAX_WEIGHT,
) -> tuple[int | None, int]:
    """GetCanaryReplicasOrWeight: (explicit canary replicas or None, desired weight).

    `step_weight`: GetCurrentSetWeight (the last setWeight at or before the current step; 100 once
    past the steps). Aborted: weight 0. setCanaryScale applies only with traffic routing and, when
    aborted, only if abortScaleDownDelaySeconds is 0 (`abort_scale_down_delay_s` None)."""
    if promote_full:
        return None, max_weight
    usable = traffic_routing and scale is not None and not scale.match_traffic_weight
    if usable and scale is not None and not (abort and abort_scale_down_delay_s is not None):
        if scale.replicas is not None:
            return scale.replicas, 0
        if scale.weight is not None:
            return None, scale.weight
    return None, 0 if abort else step_weight
