"""One self-contained, offline HTML report of a run (`simkit report DIR`, `RunResult.to_html`).

The page reads top-down as a reader asks: what went wrong (alerts: missed targets with their reasons,
plans that did not complete, faults never recovered from), the verdicts, the timeline (load, ready
vs desired replicas, ready nodes per pool, pending pods, P95 against its target, errors), the cost
against the budget, faults, the controllers' decisions with their reasons, and what reproduces it.
It is rendered by a Jinja2 template with plotly.js embedded (no request leaves the page) and the
series downsampled to at most `MAX_POINTS` per line, so a week-long run stays a few MB, most of it
plotly.js. The same run renders to the same bytes but for the one `generated` timestamp.

plotly and jinja2 are the optional extra `simkit[report]`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from simkit.analysis.slo import format_value
from simkit.errors import SimkitError
from simkit.units import format_duration, parse_duration

MAX_POINTS = 600
"""Points per series at most: a week at 30 s ticks (20,160) is averaged (P95: its maximum) into bins."""

MAX_ROWS = 200
"""Rows of the decision and fault tables shown; the rest are counted."""

TABLES = ("checks", "cost", "routes", "nodes", "replicas", "pending", "faults", "decisions", "plans")


@dataclass
class RunData:
    """What the report reads: the tables and what identifies the run."""

    tables: dict[str, pd.DataFrame]
    name: str
    seed: str
    scenario_hash: str
    version: str
    duration_s: float
    catalog_date: str = ""
    source: str = ""
    summary: dict[str, float] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


def from_result(result: Any) -> RunData:
    """The report data of a `RunResult`."""
    tables = {name: result.table(name) for name in TABLES}
    return RunData(
        tables,
        name=result.scenario.name,
        seed=str(result.seed),
        scenario_hash=result.scenario_hash,
        version=result.version,
        duration_s=float(result.duration_s),
        catalog_date=catalog_date(tables["cost"]),
        summary=dict(result.summary),
    )


def from_dir(path: str | Path) -> RunData:
    """The report data of a directory `simkit run --out` wrote (its tables, marker and summary.md)."""
    root = Path(path)
    marker = root / ".simkit-run"
    if not marker.is_file():
        raise SimkitError(f"{path}: not a `simkit run --out` directory (no .simkit-run in it)")
    tables = {}
    for name in TABLES:
        parquet, csv = root / f"{name}.parquet", root / f"{name}.csv"
        if parquet.is_file():
            tables[name] = pd.read_parquet(parquet)
        elif csv.is_file():
            tables[name] = pd.read_csv(csv)
    for name in ("checks", "cost"):
        if name not in tables:
            raise SimkitError(f"{path}: no {name}.csv; expected a `simkit run --out` directory")
    ident = dict(re.findall(r"(\w+)=(\S+)", marker.read_text()))
    md = (root / "summary.md").read_text(encoding="utf-8") if (root / "summary.md").is_file() else ""
    version = re.search(r"simkit (\S+)", md.split("\n", 1)[1] if "\n" in md else "")
    simulated = re.search(r"^- simulated (.+)$", md, re.M)
    summary = {}
    if (root / "summary.csv").is_file():
        frame = pd.read_csv(root / "summary.csv")
        summary = {str(k): float(v) for k, v in zip(frame["metric"], frame["value"], strict=True)}
    return RunData(
        tables,
        name=marker.read_text().split(" ", 1)[0],
        seed=ident.get("seed", "?"),
        scenario_hash=ident.get("hash", "?"),
        version=version.group(1) if version else "?",
        duration_s=_duration(tables, simulated.group(1) if simulated else ""),
        catalog_date=catalog_date(tables["cost"]),
        source=str(path),
        summary=summary,
    )


def _duration(tables: dict[str, pd.DataFrame], text: str) -> float:
    try:
        return float(parse_duration(text.strip()))
    except ValueError:
        routes = tables.get("routes", pd.DataFrame())
        return float(routes["t_s"].max()) if len(routes) else 0.0


def catalog_date(cost: pd.DataFrame) -> str:
    """The newest `as of YYYY-MM-DD` among the cost table's price sources (the catalog's date)."""
    if "source" not in cost:
        return ""
    dates = re.findall(r"as of (\d{4}-\d{2}-\d{2})", " ".join(map(str, cost["source"])))
    return max(dates) if dates else ""


# -- figures ----------------------------------------------------------------------------------------
def _bins(duration_s: float) -> np.ndarray:
    return np.linspace(0.0, max(duration_s, 1.0), MAX_POINTS + 1)


def _binned(frame: pd.DataFrame, value: str, how: str, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A tick series averaged (or its max, or its sum) into the bins; the bins' midpoints in hours."""
    if frame.empty:
        return np.array([]), np.array([])
    idx = np.clip(np.searchsorted(edges, frame["t_s"].to_numpy(), side="right") - 1, 0, len(edges) - 2)
    grouped = frame[value].groupby(idx)
    agg = getattr(grouped, how)()
    mid = (edges[agg.index.to_numpy()] + edges[agg.index.to_numpy() + 1]) / 2
    return np.round(mid / 3600, 4), np.round(agg.to_numpy(dtype=float), 4)


def _steps(frame: pd.DataFrame, key: str, value: str, edges: np.ndarray) -> dict[str, tuple[list, list]]:
    """A change-row series per `key`, sampled as a step at each bin edge (the last value before it)
    and at every change when there are fewer changes than bins."""
    out = {}
    for name, group in frame.groupby(key, sort=False):
        t = group["t_s"].to_numpy(dtype=float)
        v = group[value].to_numpy(dtype=float)
        if len(t) <= MAX_POINTS:
            xs = np.append(t, edges[-1])
            ys = np.append(v, v[-1])
        else:
            pos = np.clip(np.searchsorted(t, edges, side="right") - 1, 0, len(t) - 1)
            xs, ys = edges, v[pos]
        out[str(name)] = (np.round(xs / 3600, 4).tolist(), ys.tolist())
    return out


def timeline(data: RunData) -> go.Figure:
    """Six panels over the run, hours on a shared axis: load, replicas, nodes, pending, P95, errors."""
    edges = _bins(data.duration_s)
    titles = (
        "load (req/s, all routes)",
        "replicas: ready (solid) vs desired (dotted), workloads that changed",
        "ready nodes per pool",
        "pending pods",
        "P95 per route (ms; max per bin) vs target (dashed)",
        "errors (req/s)",
    )
    fig = make_subplots(rows=6, cols=1, shared_xaxes=True, vertical_spacing=0.035, subplot_titles=titles)
    routes = data.table("routes")
    if len(routes):
        load = routes.groupby("t_s", as_index=False)[["load_rps", "errors"]].sum()
        x, y = _binned(load, "load_rps", "mean", edges)
        fig.add_trace(go.Scatter(x=x, y=y, name="load", line={"color": "#555"}), row=1, col=1)
        tick = float(np.median(np.diff(load["t_s"]))) if len(load) > 1 else 1.0
        x, y = _binned(load, "errors", "mean", edges)
        fig.add_trace(
            go.Scatter(x=x, y=np.round(y / tick, 4), name="errors", line={"color": "#cf222e"}), 6, 1
        )
        targets = _p95_targets(data.table("checks"))
        for i, (route, group) in enumerate(routes.groupby("route", sort=False)):
            color = _color(i)
            x, y = _binned(group, "p95_ms", "max", edges)
            fig.add_trace(go.Scatter(x=x, y=y, name=f"P95 {route}", line={"color": color}), row=5, col=1)
            if str(route) in targets:
                fig.add_trace(
                    go.Scatter(
                        x=[0, round(edges[-1] / 3600, 4)],
                        y=[targets[str(route)]] * 2,
                        name=f"target {route}",
                        line={"color": color, "dash": "dash", "width": 1},
                        showlegend=False,
                    ),
                    row=5,
                    col=1,
                )
    reps = data.table("replicas")
    if len(reps):
        changed = reps.groupby("workload", sort=False)[["desired", "ready"]].nunique().max(axis=1) > 1
        moving = reps[reps["workload"].map(changed)]
        if moving.empty:
            _note(fig, 2, f"no workload's replicas changed ({reps['workload'].nunique()} workloads steady)")
        ready, desired = (
            _steps(moving, "workload", "ready", edges),
            _steps(moving, "workload", "desired", edges),
        )
        for i, name in enumerate(ready):
            color = _color(i)
            fig.add_trace(
                go.Scatter(
                    x=ready[name][0],
                    y=ready[name][1],
                    name=f"{name} ready",
                    line_shape="hv",
                    line={"color": color},
                ),
                row=2,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=desired[name][0],
                    y=desired[name][1],
                    name=f"{name} desired",
                    line_shape="hv",
                    line={"color": color, "dash": "dot"},
                ),
                row=2,
                col=1,
            )
    nodes = data.table("nodes")
    if len(nodes):
        per_zone = nodes.pivot_table(
            index="t_s", columns=["pool", "zone"], values="ready_nodes", aggfunc="last"
        )
        pools = per_zone.ffill().fillna(0).T.groupby(level="pool", sort=False).sum().T
        long = pools.reset_index().melt(id_vars="t_s", var_name="pool", value_name="ready")
        for i, (pool, (xs, ys)) in enumerate(_steps(long, "pool", "ready", edges).items()):
            fig.add_trace(
                go.Scatter(
                    x=xs, y=ys, name=f"{pool} ready nodes", line_shape="hv", line={"color": _color(i)}
                ),
                row=3,
                col=1,
            )
    pending = data.table("pending")
    if pending.empty or not pending["pending_pods"].any():
        _note(fig, 4, "no pod waited for a node")
    frame = (
        pending.assign(key="pending")
        if len(pending)
        else pd.DataFrame({"t_s": [0.0], "key": ["pending"], "pending_pods": [0]})
    )
    for xs, ys in _steps(frame, "key", "pending_pods", edges).values():
        fig.add_trace(
            go.Scatter(x=xs, y=ys, name="pending pods", line_shape="hv", line={"color": "#9a6700"}), 4, 1
        )
    fig.update_layout(
        height=1500,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "v", "x": 1.02, "y": 1},
        hovermode="x unified",
        template="plotly_white",
    )
    for row in (2, 3, 4):
        fig.update_yaxes(rangemode="tozero", tickformat="d", row=row, col=1)
    fig.update_yaxes(rangemode="tozero", row=6, col=1)
    fig.update_xaxes(title_text="time since the start (h)", row=6, col=1)
    return fig


def _note(fig: go.Figure, row: int, text: str) -> None:
    """A line of text in the middle of an empty panel, so that it says why it is empty."""
    fig.add_annotation(
        text=text,
        xref=f"x{row} domain",
        yref=f"y{row} domain",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"color": "#59636e"},
    )


def cost_figure(data: RunData) -> go.Figure:
    """Monthly cost per item (bars, largest first) and the running total against the budget."""
    cost = data.table("cost").sort_values("monthly_usd", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=cost["monthly_usd"].round(2),
            y=cost["component"],
            orientation="h",
            marker={"color": "#0969da"},
            name="USD/month",
        )
    )
    total, budget = float(cost["monthly_usd"].sum()), _budget(data.table("checks"))
    title = f"total {format_value(total, ' USD')}/month"
    if budget is not None:
        title += f" against a budget of {format_value(budget, ' USD')} ({100 * total / budget:.0f}% of it)"
    fig.update_layout(
        title=title,
        height=120 + 24 * len(cost),
        margin={"l": 300, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        xaxis_title="USD per month (730 h)",
    )
    return fig


def _p95_targets(checks: pd.DataFrame) -> dict[str, float]:
    return {
        str(r["target"]).removeprefix("p95 "): float(r["threshold"])
        for r in checks.to_dict("records")
        if str(r["target"]).startswith("p95 ")
    }


def _budget(checks: pd.DataFrame) -> float | None:
    rows = checks[checks["target"] == "cost per month"]
    return float(rows["threshold"].iloc[0]) if len(rows) else None


PALETTE = ("#0969da", "#1a7f37", "#bc4c00", "#8250df", "#bf3989", "#4d2d00", "#0a3069", "#116329", "#953800")


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# -- the page ---------------------------------------------------------------------------------------
def _figure_json(fig: go.Figure) -> str:
    """The figure as JSON safe inside a <script> element (no `</`)."""
    return fig.to_json(pretty=False, engine="json").replace("</", "<\\/")


def alerts(data: RunData) -> list[str]:
    """What went wrong, worst first: missed targets (their reasons), plans not completed, faults
    the workloads never recovered from."""
    out = []
    checks = data.table("checks")
    for r in checks[~checks["passed"].astype(bool)].to_dict("records"):
        out.append(str(r["reason"]) or f"{r['target']} missed")
    plans = data.table("plans")
    for r in plans.to_dict("records"):
        if r.get("outcome") != "Complete":
            out.append(f"plan {r['plan']} ({r['kind']} of {r['target']}): {r['outcome']}")
    faults = data.table("faults")
    for r in faults.to_dict("records"):
        if math.isinf(float(r["restore_s"])):
            out.append(
                f"{r['kind']} {r['target']} at {format_duration(float(r['t_s']))}: replicas never restored"
            )
    return out


def _rows(frame: pd.DataFrame, columns: list[str], limit: int = MAX_ROWS) -> tuple[list[list[str]], int]:
    shown = frame.head(limit)
    rows = []
    for r in shown.to_dict("records"):
        rows.append([_cell(r.get(c)) for c in columns])
    return rows, max(0, len(frame) - limit)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "never"
        return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def render(data: RunData, generated: datetime | None = None) -> str:
    """The report as one HTML string; `generated` (default now, UTC) is its only varying byte."""
    checks = data.table("checks")
    verdicts = [
        {
            "target": r["target"],
            "threshold": format_value(float(r["threshold"]), str(r["unit"])),
            "value": format_value(float(r["value"]), str(r["unit"])),
            "margin": format_value(float(r["margin"]), str(r["unit"])),
            "passed": bool(r["passed"]),
        }
        for r in checks.to_dict("records")
    ]
    cost = data.table("cost")
    faults = data.table("faults")
    decisions = data.table("decisions")
    fault_cols = [c for c in ("t_s", "kind", "target", "detail", "restore_s") if c in faults]
    decision_cols = [
        c for c in ("t_s", "controller", "object", "from", "to", "reason", "message") if c in decisions
    ]
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simkit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    stamp = (generated or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return env.get_template("report.html.j2").render(
        data=data,
        passed=bool(checks["passed"].all()) if len(checks) else True,
        alerts=alerts(data),
        verdicts=verdicts,
        duration=format_duration(data.duration_s),
        cost_rows=[
            [r["component"], r["category"], f"${r['monthly_usd']:,.2f}", r.get("basis", "")]
            for r in cost.to_dict("records")
        ],
        cost_total=f"${cost['monthly_usd'].sum():,.2f}" if len(cost) else "$0",
        budget=_budget(checks),
        faults=_rows(faults, fault_cols),
        fault_cols=fault_cols,
        decisions=_rows(decisions, decision_cols),
        decision_cols=decision_cols,
        figures={"timeline": _figure_json(timeline(data)), "cost": _figure_json(cost_figure(data))},
        plotly_js=get_plotlyjs(),
        max_points=MAX_POINTS,
        generated=stamp,
    )


def write(data: RunData, path: str | Path, generated: datetime | None = None) -> Path:
    """Render the report into `path` (its directory must exist); the path written."""
    target = Path(path)
    if not target.resolve().parent.is_dir():
        raise SimkitError(f"{path}: the directory {target.parent} does not exist")
    target.write_text(render(data, generated), encoding="utf-8")
    return target


def figure_data(html: str) -> dict[str, Any]:
    """The figures embedded in a report, parsed (what the tests and a curious reader check)."""
    found = re.findall(r'<script type="application/json" id="fig-(\w+)">(.*?)</script>', html, re.S)
    return {name: json.loads(text) for name, text in found}


__all__ = [
    "MAX_POINTS",
    "RunData",
    "alerts",
    "catalog_date",
    "figure_data",
    "from_dir",
    "from_result",
    "render",
    "timeline",
    "write",
]
