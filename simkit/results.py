"""What a run gives back: tidy DataFrames, a summary, the checks, and how to read them in a notebook."""

from __future__ import annotations

import html
import importlib
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import pandas as pd

from simkit import tablefiles
from simkit.analysis.slo import format_value
from simkit.errors import SimkitError
from simkit.outputs import replace_dir
from simkit.scenario.model import Scenario
from simkit.tables import TABLES, Deferred, Table, reported, rows_frame
from simkit.units import format_duration, format_number, format_time

MARKER = ".simkit-run"  # marks a directory `RunResult.write` may replace

__all__ = ["ALLOCATION_COLUMNS", "MARKER", "TABLES", "Deferred", "RunResult", "rows_frame"]


class _Table:
    """A `RunResult` table: given as a DataFrame or a `Deferred`, always read as a DataFrame.

    The value lives in the instance's `__dict__` under the table's name, so results pickle as
    they are (deferred tables stay deferred) and assigning a DataFrame replaces the table. An
    optional table (`Table.optional`) defaults to its empty table, a new one per result.
    """

    def __init__(self, spec: Table) -> None:
        self.name = spec.name
        self.default = spec.empty() if spec.optional else None

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> Deferred: ...

    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> pd.DataFrame: ...

    def __get__(self, obj: object | None, objtype: type | None = None) -> pd.DataFrame | Deferred:
        if obj is None:  # the dataclass asks for the field's default
            if self.default is None:
                raise AttributeError(self.name)
            return self.default
        value = obj.__dict__[self.name]
        if isinstance(value, Deferred):
            value = obj.__dict__[self.name] = value.build()
        return cast(pd.DataFrame, value)

    def __set__(self, obj: object, value: pd.DataFrame | Deferred) -> None:
        obj.__dict__[self.name] = value


ALLOCATION_COLUMNS = TABLES["allocation"].names
"""The columns of `RunResult.allocation` (each node at the end: allocatable vs requests)."""

_C = TypeVar("_C", bound=type)


def _with_tables(cls: _C) -> _C:
    """Give the class one `_Table` attribute per entry of `TABLES` (keyword-only dataclass fields)."""
    annotations = cls.__dict__["__annotations__"]
    for name, spec in TABLES.items():
        annotations[name] = "_Table"
        setattr(cls, name, _Table(spec))
    return cls


@dataclass
@_with_tables
class RunResult:
    """One simulation run. Every table is a pandas DataFrame with units in its column names.

    There is one attribute per table of `simkit.tables.TABLES` (`result.services`, `result.checks`,
    ...; `result.table(name)` is the same). Tables are passed by keyword, as DataFrames or as
    `Deferred` (built on first read); reading one always gives a DataFrame.
    """

    scenario: Scenario
    seed: int
    scenario_hash: str
    version: str
    duration_s: float
    _: KW_ONLY
    summary: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)
    # ... and one keyword-only field per table of TABLES (`_with_tables`)

    if TYPE_CHECKING:  # the table attributes are made from TABLES at import: to mypy, a DataFrame each

        def __getattr__(self, name: str) -> pd.DataFrame: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def table(self, name: str) -> pd.DataFrame:
        """The table `name` of `TABLES` (the same as `getattr(result, name)`)."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; the tables are {', '.join(TABLES)}")
        return cast(pd.DataFrame, getattr(self, name))

    @property
    def passed(self) -> bool:
        """True when every target (SLOs, cost, task age) is met."""
        return bool(self.checks["passed"].all()) if len(self.checks) else True

    @property
    def failures(self) -> list[str]:
        """One line per missed target."""
        return [str(r) for r in self.checks.loc[~self.checks["passed"], "reason"]]

    @property
    def missed(self) -> list[tuple[str, str]]:
        """(why it was missed, what caused it) per missed target; the cause may be ''."""
        rows = self.checks.loc[~self.checks["passed"]]
        causes = rows["cause"] if "cause" in rows else pd.Series([""] * len(rows))
        return [(str(r), "" if pd.isna(c) else str(c)) for r, c in zip(rows["reason"], causes, strict=True)]

    def summary_frame(self) -> pd.DataFrame:
        """The summary as a two-column table (metric, value)."""
        return pd.DataFrame({"metric": list(self.summary), "value": list(self.summary.values())})

    def nodes_by_pool(self) -> pd.DataFrame:
        """Node count per pool over time (a step function; columns are pools)."""
        if self.nodes.empty:
            return pd.DataFrame()
        wide = self.nodes.pivot_table(index="t_s", columns=["pool", "zone"], values="nodes", aggfunc="last")
        return wide.ffill().T.groupby(level="pool").sum().T

    # ------------------------------------------------------------------------ presentation
    def summary_table(self) -> str:
        """The plain-text summary the CLI prints: headline figures, then one line per check."""
        s = self.summary
        head = [
            f"scenario {self.scenario.name}  seed {self.seed}  hash {self.scenario_hash}  "
            f"simulated {format_duration(self.duration_s)}  simkit {self.version}",
            f"requests {s.get('requests', 0):,.0f}  errors {s.get('errors', 0):,.0f}  "
            f"availability {100 * s.get('availability', 1):.4f}%",
            f"cost ${s.get('cost_usd_month', 0):,.0f}/month  "
            f"(${s.get('cost_per_million_requests_usd', 0):,.2f} per million requests; "
            f"nodes ${s.get('node_cost_usd_month', 0):,.0f}/month)",
            *self._packing_line(),
            *self._fault_lines(),
            "",
            f"{'target':<28}{'threshold':>14}{'value':>14}{'margin':>14}  verdict"
            f"{'whole run':>14}{'worst window':>14}{'time over':>11}",
        ]
        rows = []
        for r in self.checks.to_dict("records"):
            cells = [format_value(r[k], r["unit"]) for k in ("threshold", "value", "margin")]
            verdict = "PASS" if r["passed"] else "FAIL"
            windowed = [
                "" if pd.isna(r.get(k, float("nan"))) else format_value(r[k], r["unit"])
                for k in ("whole_run", "worst_window")
            ]
            over = r.get("time_over_s", float("nan"))
            windowed.append("" if pd.isna(over) else format_duration(round(over)))
            rows.append(
                f"{r['target']:<28}{cells[0]:>14}{cells[1]:>14}{cells[2]:>14}  {verdict}   "
                f"{windowed[0]:>14}{windowed[1]:>14}{windowed[2]:>11}".rstrip()
            )
        return "\n".join(head + rows)

    def _packing_line(self) -> list[str]:
        """How much of the nodes' allocatable the pods request at the end (result.allocation per node)."""
        s = self.summary
        if "requested_cpu_frac" not in s:
            return []
        ds = ""
        if s.get("daemonset_cpu_frac", 0) or s.get("daemonset_memory_frac", 0):
            ds = (
                f" (DaemonSets {100 * s['daemonset_cpu_frac']:.0f}% / "
                f"{100 * s['daemonset_memory_frac']:.0f}%)"
            )
        return [
            f"requested at the end: {100 * s['requested_cpu_frac']:.0f}% of allocatable CPU, "
            f"{100 * s['requested_memory_frac']:.0f}% of memory{ds}"
        ]

    def _fault_lines(self, limit: int = 8) -> list[str]:
        """One line per fault: when, what, and how long until every workload was back at its replicas."""
        if self.faults.empty:
            return []
        lines = [
            f"faults {len(self.faults)}  pods lost {self.summary.get('pods_lost', 0):.0f}  "
            f"nodes lost {self.summary.get('nodes_lost', 0):.0f}  "
            f"spot interruptions {self.summary.get('nodes_interrupted', 0):.0f}"
        ]
        for f in self.faults.head(limit).to_dict("records"):
            lines.append(
                f"  t={format_time(f['t_s'])} {f['kind']} {f['target']}: {f['detail']}; "
                f"replicas restored after {format_time(f['restore_s'])}"
            )
        if len(self.faults) > limit:
            lines.append(f"  ... {len(self.faults) - limit} more in result.faults / faults.csv")
        return lines

    def __repr__(self) -> str:
        verdict = "all targets met" if self.passed else f"{len(self.failures)} target(s) missed"
        return (
            f"<RunResult {self.scenario.name} seed={self.seed} {format_duration(self.duration_s)}: {verdict}>"
        )

    def _repr_html_(self) -> str:
        verdict = "all targets met" if self.passed else "; ".join(self.failures)
        colour = "#1a7f37" if self.passed else "#cf222e"
        checks = self.checks[["target", "threshold", "value", "unit", "margin", "passed"]].to_html(
            index=False, float_format=format_number
        )
        s = self.summary
        return (
            f"<div><b>RunResult</b> {html.escape(self.scenario.name)} — seed {self.seed}, "
            f"{format_duration(self.duration_s)} simulated, hash <code>{self.scenario_hash}</code><br>"
            f"<span style='color:{colour}'><b>{html.escape(verdict)}</b></span><br>"
            f"requests {s.get('requests', 0):,.0f}, availability {100 * s.get('availability', 1):.4f}%, "
            f"cost ${s.get('cost_usd_month', 0):,.0f}/month{checks}"
            f"<small>tables: {', '.join(n for n in TABLES if n != 'checks')}</small></div>"
        )

    def to_markdown(self) -> str:
        """A short Markdown report: the verdict, the checks and the cost breakdown."""
        lines = [f"# simkit run: {self.scenario.name}", ""]
        lines.append(f"- seed {self.seed}, scenario hash `{self.scenario_hash}`, simkit {self.version}")
        lines.append(f"- simulated {format_duration(self.duration_s)}")
        lines.append(f"- verdict: {'all targets met' if self.passed else 'targets missed'}")
        for spec, report in reported():  # the checks, then the cost breakdown
            frame = self.table(spec.name).drop(columns=list(report.omits))
            lines += ["", f"## {report.title}", "", _md_table(frame)]
            if spec.name == "checks" and self.failures:  # the reasons the table leaves out
                lines += ["", *[f"- {r}" + (f" (cause: {c})" if c else "") for r, c in self.missed]]
        lines += ["", "## Summary", "", _md_table(self.summary_frame())]
        return "\n".join(lines) + "\n"

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained, offline HTML report of this run (needs `simkit[report]`)."""
        html = html_report_module()
        written: Path = html.write(html.from_result(self), path)
        return written

    def _for_writing(self, name: str) -> pd.DataFrame:
        """The table `name`, a deferred one built without being kept: written and dropped, so the
        biggest tables of a long run are not all held at once (nor by the result after it)."""
        value = self.__dict__[name]
        return value.build() if isinstance(value, Deferred) else cast(pd.DataFrame, value)

    def write(
        self,
        out_dir: str | Path,
        force: bool = False,
        *,
        format: str = "parquet",
        tables: str | Sequence[str] | None = None,
        resolution: float | None = None,
    ) -> Path:
        """Write the tables (Parquet by default, or CSV), summary.csv and summary.md into `out_dir`,
        all or nothing, crash-safe; a directory simkit did not write is refused unless `force`
        (`simkit.outputs`). `tables` picks some (the ones `simkit.tablefiles.ALWAYS` lists are always
        written); `resolution` (seconds) downsamples the per-tick tables (`simkit.tablefiles`)."""
        if format not in tablefiles.FORMATS:
            raise SimkitError(f"format {format!r}: expected one of {', '.join(tablefiles.FORMATS)}")
        files: dict[str, str | bytes] = {}
        for name in tablefiles.select(tables):
            frame = self._for_writing(name)
            if frame.columns.empty:  # a traffic table of a platform without queues: keep its header
                frame = pd.DataFrame(columns=list(TABLES[name].names))
            if resolution:
                frame = tablefiles.downsample(TABLES[name], frame, resolution)
            files[f"{name}.{format}"] = tablefiles.encode(frame, format)
        files["summary.csv"] = self.summary_frame().to_csv(index=False)
        files["summary.md"] = self.to_markdown()
        marker = f"{self.scenario.name} seed={self.seed} hash={self.scenario_hash}"
        if resolution:
            marker += f" resolution_s={resolution:g}"
        files[MARKER] = marker + "\n"
        return replace_dir(out_dir, files, force)


def html_report_module() -> Any:
    """`simkit.report.html`, imported on first use: plotly and jinja2 are the optional extra `report`."""
    try:
        return importlib.import_module("simkit.report.html")
    except ImportError as exc:
        raise SimkitError(f"the HTML report needs {exc.name}: pip install 'simkit[report]'") from None


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(out)


def _md_cell(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value)
    return str(value).replace("|", "\\|")
