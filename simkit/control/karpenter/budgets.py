"""NodePool disruption budgets: when a budget is active and how many nodes it lets go.

Follows kubernetes-sigs/karpenter pkg/apis/v1/nodepool_budgets.go (`Budget.IsActive`,
`Budget.GetAllowedDisruptions`) and pkg/apis/v1/nodepool.go (`GetAllowedDisruptionsByReason`,
`MustGetAllowedDisruptions`) at commit 2266468104f36373ed002241afaee2d3bbc26078.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from simkit.control.karpenter.cron import CronError, parse_standard

__all__ = [
    "MAX_INT32",
    "REASONS",
    "Budget",
    "BudgetResult",
    "budget_is_active",
    "allowed_disruptions",
    "allowed_disruptions_by_reason",
    "must_allowed_disruptions",
]

MAX_INT32 = 2**31 - 1  # Karpenter's "unbounded" (math.MaxInt32)
REASONS = ("Empty", "Underutilized", "Drifted")  # DisruptionReason values
_GO_ATOI = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Budget:
    """One `spec.disruption.budgets[]` entry; `duration` None with `schedule` None = always active."""

    nodes: str = "10%"
    schedule: str | None = None
    duration: timedelta | None = None
    reasons: tuple[str, ...] | None = None  # None = applies to every reason


@dataclass(frozen=True)
class BudgetResult:
    """A value with the error Karpenter would return beside it (None when there is none)."""

    value: int
    error: str | None = None


def budget_is_active(budget: Budget, now: datetime) -> tuple[bool, str | None]:
    """`Budget.IsActive`: active iff the first cron hit after `now - duration` is not after `now` (UTC).

    A hit exactly `duration` ago still counts (window `[hit, hit + duration]`). An unparsable cron
    is inactive with the error `invariant violated, invalid cron, <robfig error>`.
    """
    if budget.schedule is None and budget.duration is None:
        return True, None
    try:
        schedule = parse_standard(budget.schedule or "")
    except CronError as exc:
        return False, f"invariant violated, invalid cron, {exc}"
    now_utc = now.astimezone(UTC)
    hit = schedule.next(now_utc - (budget.duration or timedelta(0)))
    return hit is None or hit <= now_utc, None  # robfig's zero time is never after now


def _atoi(text: str) -> int | None:
    return int(text) if _GO_ATOI.fullmatch(text) else None


def allowed_disruptions(budget: Budget, num_nodes: int, now: datetime) -> BudgetResult:
    """`Budget.GetAllowedDisruptions`: MaxInt32 if inactive; an int as-is; `P%` rounds UP; errors give 0."""
    active, error = budget_is_active(budget, now)
    if error is not None:
        return BudgetResult(0, error)
    if not active:
        return BudgetResult(MAX_INT32)
    whole = _atoi(budget.nodes)
    if whole is not None:
        return BudgetResult(whole)  # integer budgets are never scaled
    percent = _atoi(budget.nodes[:-1]) if budget.nodes.endswith("%") else None
    if percent is None:
        return BudgetResult(0, f'invalid value for IntOrString: invalid value "{budget.nodes}"')
    return BudgetResult(math.ceil(float(percent) * float(num_nodes) / 100.0))


def allowed_disruptions_by_reason(
    budgets: Sequence[Budget], num_nodes: int, now: datetime, reason: str
) -> BudgetResult:
    """`NodePool.GetAllowedDisruptionsByReason`: the minimum over budgets that apply to `reason`.

    Errors from any budget are reported, even from a budget that does not apply to `reason`.
    """
    allowed = MAX_INT32
    errors: list[str] = []
    for budget in budgets:
        got = allowed_disruptions(budget, num_nodes, now)
        if got.error is not None:
            errors.append(got.error)
        if budget.reasons is None or reason in budget.reasons:
            allowed = min(allowed, got.value)
    return BudgetResult(allowed, "; ".join(errors) or None)


def must_allowed_disruptions(budgets: Sequence[Budget], num_nodes: int, now: datetime, reason: str) -> int:
    """`NodePool.MustGetAllowedDisruptions`: fail closed (0) whenever any budget errors."""
    got = allowed_disruptions_by_reason(budgets, num_nodes, now, reason)
    return 0 if got.error is not None else got.value
