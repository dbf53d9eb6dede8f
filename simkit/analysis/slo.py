"""SLO, cost and queue-age checks: each target with its measured value, margin and verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from simkit.analysis.windows import Windowed, availability_verdict, latency_verdict
from simkit.scenario.model import Scenario

_NAN = float("nan")


@dataclass(frozen=True)
class Check:
    """One target: its threshold, the measured value, the margin and the verdict."""

    target: str
    threshold: float
    value: float
    unit: str
    passed: bool
    margin: float  # positive = room left, negative = by how much it was missed
    reason: str
    cause: str = ""  # what made it miss, one line (`simkit.analysis.causes.explain`)
    # windowed targets (simkit.analysis.windows); NaN for the others
    whole_run: float = _NAN  # the value over the whole run
    worst_window: float = _NAN
    window_s: float = _NAN
    compliance: float = _NAN  # % of the windows (by time) that met the target
    compliance_target: float = _NAN  # %
    time_over_s: float = _NAN  # in windows that missed the target
    error_budget: float = _NAN  # errors the availability window allows
    budget_used: float = _NAN  # % of it used


def _check(
    target: str, value: float, threshold: float, unit: str, higher_is_better: bool, what: str
) -> Check:
    margin = value - threshold if higher_is_better else threshold - value
    passed = margin >= 0
    word = ">=" if higher_is_better else "<="
    got, limit = format_value(value, unit), format_value(threshold, unit)
    reason = "" if passed else f"{what} {got} misses the target {word} {limit}"
    return Check(target, threshold, value, unit, passed, margin, reason)


def _windowed(target: str, w: Windowed, unit: str, higher_is_better: bool) -> Check:
    """A check over windows: `_check` of its value, with its reason and windowed columns."""
    check = _check(target, w.value, w.threshold, unit, higher_is_better, target)
    return replace(check, reason=check.reason and w.reason, **w.extras)


def format_value(value: float, unit: str) -> str:
    """A measured value as the reports print it: 99.951%, $1,501, 154.1 ms."""
    if unit == "%":
        return f"{value:.3f}%"
    if unit.strip() == "USD":
        return f"${value:,.0f}"
    return f"{value:,.1f}{unit}"


def evaluate_checks(scenario: Scenario, summary: Mapping[str, float]) -> pd.DataFrame:
    """One row per target in the scenario: availability, P95 per route, task age per queue, cost."""
    return checks_frame(check_list(scenario, summary))


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    """The checks as the table `evaluate_checks` returns (one row per `Check`)."""
    return pd.DataFrame([c.__dict__ for c in checks], columns=list(Check.__dataclass_fields__))


def check_list(scenario: Scenario, summary: Mapping[str, float]) -> list[Check]:
    """The checks of `evaluate_checks`, before they become a DataFrame."""
    checks: list[Check] = []
    slos = scenario.slos
    availability = availability_verdict(slos, summary)
    if availability is not None:
        checks.append(_windowed("availability", availability, "%", True))
    for route in scenario.traffic.routes:
        latency = latency_verdict(slos, route, summary)
        if latency is not None:
            checks.append(_windowed(f"p95 {route.name}", latency, " ms", False))
    for queue in scenario.traffic.queues:
        target = queue.max_age_target if queue.max_age_target is not None else slos.max_task_age
        key = f"max_task_age_s.{queue.name}"
        if target is not None and key in summary:
            checks.append(
                _check(
                    f"task age {queue.name}",
                    summary[key],
                    target,
                    " s",
                    False,
                    f"oldest task of {queue.name}",
                )
            )
    budget = scenario.cost.budget_usd_month
    if budget is not None and "cost_usd_month" in summary:
        checks.append(
            _check("cost per month", summary["cost_usd_month"], budget, " USD", False, "monthly cost")
        )
    return checks
