"""Disruption cost of pods and nodes, and the Balanced policy's move score.

Follows kubernetes-sigs/karpenter at 2266468104f36373ed002241afaee2d3bbc26078:
pkg/utils/disruption/disruption.go (`EvictionCost`, `ReschedulingCost`, `LifetimeRemaining`) and
pkg/controllers/disruption/balanced.go (`ScoreMove`, `BalancedK`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "BALANCED_K",
    "DELETION_COST_ANNOTATION",
    "MoveScore",
    "eviction_cost",
    "rescheduling_cost",
    "lifetime_remaining",
    "score_move",
]

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
BALANCED_K = 2
_GO_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.I
)


def eviction_cost(annotations: Mapping[str, str], priority: int | None) -> float:
    """`EvictionCost`: clamp(1 + deletionCost/2^27 + priority/2^25, -10, 10).

    A deletion cost Go's ParseFloat rejects is ignored; a missing priority adds 0.
    """
    cost = 1.0
    raw = annotations.get(DELETION_COST_ANNOTATION)
    if raw is not None and _GO_FLOAT.fullmatch(raw):
        cost += float(raw) / 2.0**27
    if priority is not None:
        cost += float(priority) / 2.0**25
    return min(max(cost, -10.0), 10.0)


def rescheduling_cost(costs: Iterable[float]) -> float:
    """`ReschedulingCost`: the sum of the pods' eviction costs (all pods of the node)."""
    return math.fsum(costs)


def lifetime_remaining(expire_after: timedelta | None, age: timedelta) -> float:
    """`LifetimeRemaining`: clamp((expireAfter - age)/expireAfter, 0, 1); 1 when expireAfter is nil."""
    if expire_after is None or expire_after.total_seconds() <= 0:
        return 1.0
    frac = (expire_after - age).total_seconds() / expire_after.total_seconds()
    return min(max(frac, 0.0), 1.0)


@dataclass(frozen=True)
class MoveScore:
    """One `ScoreMove` evaluation: the two fractions, the score, the threshold 1/k and the verdict."""

    savings_fraction: float
    disruption_fraction: float
    score: float
    threshold: float
    approved: bool


def score_move(
    savings: float,
    disruption_cost: float,
    total_cost: float,
    total_disruption_cost: float,
    k: int = BALANCED_K,
) -> MoveScore:
    """`ScoreMove`: savings share over disruption share, approved iff score >= 1/k.

    A non-positive pool cost or disruption total zeroes both fractions (so the move is rejected);
    non-positive savings score 0; zero disruption with positive savings scores +Inf.
    """
    if total_cost <= 0 or total_disruption_cost <= 0:
        savings_fraction = disruption_fraction = 0.0
    else:
        savings_fraction = savings / total_cost
        disruption_fraction = disruption_cost / total_disruption_cost
    if savings_fraction <= 0:
        score = 0.0
    elif disruption_fraction == 0:
        score = math.inf
    else:
        score = savings_fraction / disruption_fraction
    threshold = 1.0 / k
    return MoveScore(savings_fraction, disruption_fraction, score, threshold, score >= threshold)
