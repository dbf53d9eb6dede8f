"""RTO and RPO per event against the targets, in the columns of `simkit.analysis.slo.Check`.

The compared value is `spec.statistic` (P95 by default) over an event's Monte Carlo draws; an event
evaluated with a single draw is compared as that one value. Values and thresholds are in minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simkit.analysis.slo import Check
from simkit.scenario.dr import DREvent, DRSpec
from simkit.units import format_number, format_time

__all__ = ["dr_checks", "dr_summary", "statistic", "CHECK_COLUMNS"]

CHECK_COLUMNS = list(Check.__dataclass_fields__)  # the windowed columns stay empty (NaN) for RTO/RPO
_STAT_LABEL = {"mean": "mean", "p50": "P50", "p90": "P90", "p95": "P95", "p99": "P99", "max": "max"}


def statistic(values: np.ndarray | pd.Series, name: str) -> float:
    """The named statistic of a sample ('mean', 'max' or 'pNN')."""
    arr = np.asarray(values, dtype=float)
    if name == "mean":
        return float(arr.mean())
    if name == "max":
        return float(arr.max())
    return float(np.percentile(arr, float(name[1:])))


def _targets(spec: DRSpec, label: str) -> tuple[float, float]:
    event: DREvent | None = next((e for e in spec.events if e.label == label), None)
    rto = event.rto if event is not None and event.rto is not None else spec.targets.rto
    rpo = event.rpo if event is not None and event.rpo is not None else spec.targets.rpo
    return rto, rpo


def _row(measure: str, label: str, values: pd.Series, threshold_s: float, stat: str) -> dict[str, object]:
    single = len(values) == 1
    value = float(values.iloc[0]) / 60 if single else statistic(values, stat) / 60
    threshold = threshold_s / 60
    margin = threshold - value
    passed = bool(margin >= 0)
    what = f"{measure} of {label}" if single else f"{measure} of {label} {_STAT_LABEL[stat]}"
    reason = "" if passed else f"{what} {value:,.1f} min misses the target <= {format_number(threshold)} min"
    missed = int((values > threshold_s).sum())
    cause = (
        f"{missed:,} of {len(values):,} draws missed the target; the worst {format_time(float(values.max()))}"
        if not passed
        else ""
    )
    return {
        "target": f"{measure} {label}",
        "threshold": threshold,
        "value": value,
        "unit": " min",
        "passed": passed,
        "margin": margin,
        "reason": reason,
        "cause": cause,
    }


def dr_checks(df: pd.DataFrame, spec: DRSpec) -> pd.DataFrame:
    """Two rows per event (RTO, RPO), in event order; `reason` is one line per missed target."""
    rows: list[dict[str, object]] = []
    for label, group in df.groupby("event", sort=False):
        rto, rpo = _targets(spec, str(label))
        rows.append(_row("RTO", str(label), group["rto_s"], rto, spec.statistic))
        rows.append(_row("RPO", str(label), group["rpo_s"], rpo, spec.statistic))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def dr_summary(df: pd.DataFrame, spec: DRSpec) -> pd.DataFrame:
    """Per event, in minutes: RTO and RPO P50/P95/max, the probability of meeting each target and the
    number of draws that missed it (a probability that prints as 1 next to a tail that missed hides it)."""
    rows = []
    for label, g in df.groupby("event", sort=False):
        rto, rpo = _targets(spec, str(label))
        rows.append(
            {
                "event": label,
                "draws": len(g),
                "rto_p50_min": statistic(g["rto_s"], "p50") / 60,
                "rto_p95_min": statistic(g["rto_s"], "p95") / 60,
                "rto_max_min": float(g["rto_s"].max()) / 60,
                "p_rto_met": float((g["rto_s"] <= rto).mean()),
                "rto_missed": int((g["rto_s"] > rto).sum()),
                "rpo_p50_min": statistic(g["rpo_s"], "p50") / 60,
                "rpo_p95_min": statistic(g["rpo_s"], "p95") / 60,
                "rpo_max_min": float(g["rpo_s"].max()) / 60,
                "p_rpo_met": float((g["rpo_s"] <= rpo).mean()),
                "rpo_missed": int((g["rpo_s"] > rpo).sum()),
            }
        )
    return pd.DataFrame(rows)
