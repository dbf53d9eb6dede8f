"""Windowed verdicts: what a latency or availability check shows, read from the run's summary.

A latency check's `value` is the P95 met in `compliance` of the windows (by time): it is <= the
target exactly when the share of windows meeting the target is >= the compliance, so `value`,
`threshold`, `margin` and `passed` keep their meaning for old readers. Beside it: the whole-run P95
(`whole_run`, failed requests counted at their timeout), the worst window, the share of windows met
and the time over target. An availability check's `value` is its worst window's availability (the
run's, if the run is shorter than the window), with the error budget of that window and the share
of it used. The figures come from `simkit.engine.traffic` (`p95_window_ms.<route>`, ...); a summary
without them (the request-level mode) gives the whole-run value, as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from simkit.scenario.model import Route
from simkit.scenario.slos import SLOs, latency_objective
from simkit.units import format_duration


class Windowed(NamedTuple):
    """A check's value and threshold, the reason if missed, and the windowed columns."""

    value: float
    threshold: float
    reason: str
    extras: dict[str, Any]


def availability_verdict(slos: SLOs, summary: Mapping[str, float]) -> Windowed | None:
    """The availability check over its window, with the error budget (None without traffic)."""
    if "availability" not in summary:
        return None
    run = 100 * summary["availability"]
    threshold = 100 * slos.availability
    if "availability_window" not in summary:
        return Windowed(run, threshold, f"availability {run:.3f}% misses the target >= {threshold:.3f}%", {})
    value = 100 * summary["availability_window"]
    used = 100 * summary["error_budget_used"]
    window = format_duration(slos.availability_window)
    reason = (
        f"availability {value:.3f}% over {window} misses the target >= {threshold:.3f}%: "
        f"{used:,.0f}% of the error budget used ({summary['error_budget']:,.0f} errors allowed)"
    )
    extras = {
        "whole_run": run,
        "worst_window": value,
        "window_s": slos.availability_window,
        "error_budget": summary["error_budget"],
        "budget_used": used,
    }
    return Windowed(value, threshold, reason, extras)


def latency_verdict(slos: SLOs, route: Route, summary: Mapping[str, float]) -> Windowed | None:
    """The route's P95 check over its windows (None without a target or without the route's P95)."""
    objective = latency_objective(slos, route)
    key = f"p95_ms.{route.name}"
    if objective is None or key not in summary:
        return None
    run, threshold = summary[key], 1000 * objective.target_s
    if f"p95_window_ms.{route.name}" not in summary:
        return Windowed(
            run, threshold, f"P95 of {route.name} {run:,.1f} ms misses the target <= {threshold:,.1f} ms", {}
        )
    value = summary[f"p95_window_ms.{route.name}"]
    worst = summary[f"p95_worst_window_ms.{route.name}"]
    if math.isnan(value) and math.isnan(worst) and math.isnan(run):
        return None  # the route served no request in the whole run: there is no latency to judge
    share = 100 * summary[f"p95_compliance.{route.name}"]
    over = summary[f"p95_over_s.{route.name}"]
    window = format_duration(objective.window_s)
    reason = (
        f"P95 of {route.name} over {threshold:,.1f} ms for {format_duration(over)} "
        f"(worst {window} window {worst:,.1f} ms): {share:.2f}% of {window} windows met, "
        f"target {100 * objective.compliance:g}%"
    )
    extras = {
        "whole_run": run,
        "worst_window": worst,
        "window_s": objective.window_s,
        "compliance": share,
        "compliance_target": 100 * objective.compliance,
        "time_over_s": over,
    }
    return Windowed(value, threshold, reason, extras)
