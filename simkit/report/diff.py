"""Compare two runs (`simkit diff BASE HEAD`): cost per line item, each target, and capacity.

A side is a `Snapshot`: the few tables a comparison reads (cost, checks, nodes, replicas), taken from
a `RunResult` or from a directory `simkit run --out` wrote (CSV, or Parquet where a table is written
so). `compare` lines the two up into three tables; `to_text` prints them for a terminal and
`to_markdown` for a pull-request comment, led by a one-line headline (Infracost-style).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.analysis.slo import format_value
from simkit.errors import SimkitError

MARKER = ".simkit-run"  # what `RunResult.write` leaves in its directory (simkit.results.MARKER)
TABLES = ("cost", "checks", "nodes", "replicas")


@dataclass(frozen=True)
class Snapshot:
    """What one side of a diff shows: a label and its cost, checks, nodes and replicas tables."""

    label: str
    cost: pd.DataFrame
    checks: pd.DataFrame
    nodes: pd.DataFrame
    replicas: pd.DataFrame


def from_result(label: str, result: Any) -> Snapshot:
    """The snapshot of a `RunResult`."""
    return Snapshot(label, *(result.table(name) for name in TABLES))


def is_result_dir(path: str | Path) -> bool:
    """Whether `path` is a directory `simkit run --out` wrote."""
    return (Path(path) / MARKER).is_file()


def from_dir(path: str | Path) -> Snapshot:
    """The snapshot of a `run --out` directory; a missing table is an input error naming it."""
    root = Path(path)
    frames = []
    for name in TABLES:
        parquet, csv = root / f"{name}.parquet", root / f"{name}.csv"
        if parquet.is_file():
            frames.append(pd.read_parquet(parquet))
        elif csv.is_file():
            frames.append(pd.read_csv(csv, keep_default_na=False, na_values=[""]))
        else:
            raise SimkitError(
                f"{root}: no {name}.csv or {name}.parquet; expected a `simkit run --out` directory"
            )
    return Snapshot(str(path), *frames)


@dataclass(frozen=True)
class Diff:
    """Two snapshots lined up: `cost` per line item, `targets` per check, `capacity` per pool/workload."""

    base: str
    head: str
    cost: pd.DataFrame
    targets: pd.DataFrame
    capacity: pd.DataFrame

    @property
    def cost_change(self) -> float:
        return float(self.cost["change_usd"].sum())


def compare(base: Snapshot, head: Snapshot) -> Diff:
    """Line up two snapshots: items present on one side only count as 0 (cost) or blank on the other."""
    return Diff(base.label, head.label, _cost(base, head), _targets(base, head), _capacity(base, head))


def _cost(base: Snapshot, head: Snapshot) -> pd.DataFrame:
    keys = ["component", "category"]
    b = base.cost.groupby(keys, sort=False)["monthly_usd"].sum().rename("base_usd")
    h = head.cost.groupby(keys, sort=False)["monthly_usd"].sum().rename("head_usd")
    out = pd.concat([b, h], axis=1).fillna(0.0).reset_index()
    out["change_usd"] = out["head_usd"] - out["base_usd"]
    out["change_pct"] = [
        100 * c / b if b else (math.inf if c else 0.0)
        for b, c in zip(out["base_usd"], out["change_usd"], strict=True)
    ]
    return out


def _targets(base: Snapshot, head: Snapshot) -> pd.DataFrame:
    cols = ["target", "unit", "threshold", "value", "margin", "passed"]
    b = base.checks[cols].set_index("target")
    h = head.checks[cols].set_index("target")
    out = b.merge(h, how="outer", left_index=True, right_index=True, suffixes=("_base", "_head"))
    order = list(dict.fromkeys([*b.index, *h.index]))
    out = out.loc[order].reset_index()
    out["unit"] = out["unit_head"].fillna(out["unit_base"]).fillna("")
    return out[
        ["target", "unit", "threshold_base", "value_base", "margin_base", "passed_base"]
        + ["threshold_head", "value_head", "margin_head", "passed_head"]
    ]


def capacity(snapshot: Snapshot) -> pd.DataFrame:
    """Per pool (ready nodes, all zones) and per workload (desired pods): the peak and the end count."""
    rows = []
    nodes = snapshot.nodes
    if len(nodes):
        wide = nodes.pivot_table(index="t_s", columns=["pool", "zone"], values="ready_nodes", aggfunc="last")
        per_pool = wide.ffill().fillna(0).T.groupby(level="pool", sort=False).sum().T
        for pool in per_pool.columns:
            rows.append(("nodes", str(pool), int(per_pool[pool].max()), int(per_pool[pool].iloc[-1])))
    reps = snapshot.replicas
    for workload, group in reps.groupby("workload", sort=False):
        rows.append(("pods", str(workload), int(group["desired"].max()), int(group["desired"].iloc[-1])))
    return pd.DataFrame(rows, columns=["kind", "name", "peak", "end"])


def _capacity(base: Snapshot, head: Snapshot) -> pd.DataFrame:
    b = capacity(base).set_index(["kind", "name"])
    h = capacity(head).set_index(["kind", "name"])
    order = list(dict.fromkeys([*b.index, *h.index]))
    out = (
        b.merge(h, how="outer", left_index=True, right_index=True, suffixes=("_base", "_head"))
        .loc[order]
        .reset_index()
    )
    return out


# -- rendering --------------------------------------------------------------------------------------
def _usd(value: float) -> str:
    return f"${value:,.0f}" if value == value else ""


def _signed_usd(value: float) -> str:
    if abs(value) < 0.5:
        return "$0"
    return f"{'+' if value > 0 else '-'}${abs(value):,.0f}"


def _pct(value: float) -> str:
    if math.isinf(value):
        return "new"
    return f"{value:+.1f}%" if abs(value) >= 0.05 else ""


def _value(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format_value(float(value), unit)


def _threshold(base: Any, head: Any, unit: str) -> str:
    """The threshold, or `base -> head` where the plan changed it."""
    b, h = _value(base, unit), _value(head, unit)
    return h if b in (h, "-") else b if h == "-" else f"{b} -> {h}"


def _flag(passed: Any) -> bool | None:
    """A verdict cell: True, False, or None where the target is absent on that side."""
    if passed is None or (isinstance(passed, float) and math.isnan(passed)):
        return None
    return bool(passed)


def _verdict(passed: Any) -> str:
    flag = _flag(passed)
    return "-" if flag is None else "PASS" if flag else "FAIL"


def _count(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(value)}"


def _change(base: Any, head: Any) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (base, head)):
        return ""
    d = int(head) - int(base)
    return f"{d:+d}" if d else ""


def headline(diff: Diff) -> str:
    """One line: the monthly cost change and the targets that changed verdict."""
    b, h = diff.cost["base_usd"].sum(), diff.cost["head_usd"].sum()
    pct = f", {100 * (h - b) / b:+.1f}%" if b else ""
    parts = [f"cost {_usd(b)} -> {_usd(h)}/month ({_signed_usd(h - b)}{pct})"]
    records = diff.targets.to_dict("records")
    flags = [(r["target"], _flag(r["passed_base"]), _flag(r["passed_head"])) for r in records]
    now_fail = [t for t, b, h in flags if b is True and h is False]
    now_pass = [t for t, b, h in flags if b is False and h is True]
    met_b, n_b = sum(b is True for _, b, _ in flags), sum(b is not None for _, b, _ in flags)
    met_h, n_h = sum(h is True for _, _, h in flags), sum(h is not None for _, _, h in flags)
    parts.append(f"targets met {met_b}/{n_b} -> {met_h}/{n_h}")
    if now_fail:
        parts.append("now missed: " + ", ".join(now_fail))
    if now_pass:
        parts.append("now met: " + ", ".join(now_pass))
    return "; ".join(parts)


def _rows(diff: Diff) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The three sections as header and text cells, shared by the text and Markdown renderings."""
    cost = [
        [
            r["component"],
            _usd(r["base_usd"]),
            _usd(r["head_usd"]),
            _signed_usd(r["change_usd"]),
            _pct(r["change_pct"]),
        ]
        for r in diff.cost.to_dict("records")
    ]
    b, h = float(diff.cost["base_usd"].sum()), float(diff.cost["head_usd"].sum())
    cost.append(["total", _usd(b), _usd(h), _signed_usd(h - b), _pct(100 * (h - b) / b if b else 0.0)])
    targets = []
    for r in diff.targets.to_dict("records"):
        unit = str(r["unit"])
        targets.append(
            [
                r["target"],
                _threshold(r["threshold_base"], r["threshold_head"], unit),
                _value(r["value_base"], unit),
                _value(r["value_head"], unit),
                _value(r["margin_base"], unit),
                _value(r["margin_head"], unit),
                f"{_verdict(r['passed_base'])} -> {_verdict(r['passed_head'])}",
            ]
        )
    cap = [
        [
            f"{r['kind']} {r['name']}",
            _count(r["peak_base"]),
            _count(r["peak_head"]),
            _change(r["peak_base"], r["peak_head"]),
            _count(r["end_base"]),
            _count(r["end_head"]),
            _change(r["end_base"], r["end_head"]),
        ]
        for r in diff.capacity.to_dict("records")
    ]
    return {
        "Cost per month": (["item", "base", "head", "change", "%"], cost),
        "Targets": (
            ["target", "threshold", "base", "head", "base margin", "head margin", "verdict"],
            targets,
        ),
        "Capacity (ready nodes per pool, desired pods per workload)": (
            ["what", "base peak", "head peak", "change", "base end", "head end", "change"],
            cap,
        ),
    }


def to_text(diff: Diff) -> str:
    """The diff as aligned plain-text tables (first column left, numbers right)."""
    lines = [f"base {diff.base}", f"head {diff.head}", headline(diff)]
    for title, (header, rows) in _rows(diff).items():
        widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
        lines += ["", title]
        for cells in (header, *rows):
            lines.append(
                "  ".join(
                    str(c).ljust(w) if i == 0 else str(c).rjust(w)
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                ).rstrip()
            )
    return "\n".join(lines) + "\n"


def to_markdown(diff: Diff) -> str:
    """The diff as Markdown for a pull-request comment: the headline, then the three tables."""
    lines = [
        "### simkit diff",
        "",
        f"`{_md(diff.base)}` → `{_md(diff.head)}`: **{_md(headline(diff))}**",
    ]
    for title, (header, rows) in _rows(diff).items():
        lines += ["", f"#### {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("`", "'")


__all__ = ["Diff", "Snapshot", "capacity", "compare", "from_dir", "from_result", "headline", "is_result_dir"]
