"""CI outputs of `simkit run|check`: JUnit XML, a GitHub job summary, workflow annotations and JSON.

All four render one list of `ScenarioVerdict`s, made from one run's checks (`from_result`) or from a
Monte Carlo summary over seeds (`from_summary`), so they always agree. The JUnit file follows the
Jenkins xUnit plugin's `junit-10.xsd` (what Jenkins, GitLab and most JUnit readers accept): that schema
has no properties on a test case, so a target's observed value, threshold, margin, seeds and pass
probability are properties of its scenario's suite named `<target>.<field>`, and are repeated in the
test case's `system-out` and in its failure message.
"""

from __future__ import annotations

import json
import math
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from simkit.analysis.slo import format_value
from simkit.errors import SimkitError

SUMMARY_BUDGET = 1_000_000
"""Bytes of job summary at most: GitHub refuses a step summary over 1 MiB (1,048,576 bytes)."""

ANNOTATIONS_PER_LEVEL = 10
"""GitHub shows at most 10 error and 10 warning annotations per step; the rest go in one notice."""

THIN_MARGIN = 0.05
"""A met target whose margin is under this share of its threshold gets a warning annotation."""


@dataclass(frozen=True)
class TargetVerdict:
    """One target of one scenario: what was observed against what was required, and the verdict.

    For a batch of seeds `observed` and `margin` are means over the seeds and `p_met` is the share of
    seeds in which the target held (with its Wilson 95 % interval); for one run `p_met` is 1 or 0.
    """

    target: str
    unit: str
    threshold: float
    observed: float
    margin: float
    passed: bool
    seeds: int
    met: int
    p_met: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    reason: str = ""

    def text(self, key: str) -> str:
        """A value of this target as the reports print it (`99.951%`, `154.1 ms`, `0.950`)."""
        value = getattr(self, key)
        if isinstance(value, float) and math.isnan(value):
            return ""
        if key in ("threshold", "observed", "margin"):
            return format_value(value, self.unit)
        if key in ("p_met", "ci_low", "ci_high"):
            return f"{value:.3f}"
        return str(value)


@dataclass(frozen=True)
class ScenarioVerdict:
    """One scenario's verdict: its targets, the seeds and duration it ran for, and where it came from."""

    path: str
    name: str
    passed: bool
    seeds: str  # "seed 42" or "8 seeds (42 to 49)"
    duration_s: float
    scenario_hash: str = ""
    rule: str = ""
    targets: list[TargetVerdict] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the outputs name it: the file, or the scenario's name when it came from no file."""
        return self.path or self.name

    @property
    def failed(self) -> list[TargetVerdict]:
        return [t for t in self.targets if not t.passed]


def from_result(path: str, result: Any) -> ScenarioVerdict:
    """The verdict of one run (a `RunResult`): one target per row of `result.checks`."""
    targets = [
        TargetVerdict(
            target=str(r["target"]),
            unit=str(r["unit"]),
            threshold=float(r["threshold"]),
            observed=float(r["value"]),
            margin=float(r["margin"]),
            passed=bool(r["passed"]),
            seeds=1,
            met=int(bool(r["passed"])),
            p_met=1.0 if r["passed"] else 0.0,
            reason=str(r["reason"] or ""),
        )
        for r in result.checks.to_dict("records")
    ]
    return ScenarioVerdict(
        path=path,
        name=result.scenario.name,
        passed=bool(result.passed),
        seeds=f"seed {result.seed}",
        duration_s=float(result.duration_s),
        scenario_hash=str(result.scenario_hash),
        rule="a target passes when it held in the run",
        targets=targets,
    )


def from_summary(
    path: str,
    name: str,
    table: pd.DataFrame,
    margins: Mapping[str, float],
    reasons: Mapping[str, str],
    *,
    seeds: str,
    duration_s: float,
    scenario_hash: str = "",
    rule: str = "",
) -> ScenarioVerdict:
    """The verdict of a batch: one target per row of `summarize_runs` (`all targets` included).

    `margins` gives each target's mean margin over the seeds, `reasons` the line of each missed one.
    """
    targets = []
    for r in table.to_dict("records"):
        target = str(r["target"])
        targets.append(
            TargetVerdict(
                target=target,
                unit=str(r["unit"]),
                threshold=_float(r["threshold"]),
                observed=_float(r["mean"]),
                margin=_float(margins.get(target, math.nan)),
                passed=bool(r["passed"]),
                seeds=int(r["n"]),
                met=int(r["met"]),
                p_met=_float(r["p_met"]),
                ci_low=_float(r["ci_low"]),
                ci_high=_float(r["ci_high"]),
                reason=reasons.get(target, ""),
            )
        )
    return ScenarioVerdict(
        path=path,
        name=name,
        passed=bool(table["passed"].all()),
        seeds=seeds,
        duration_s=duration_s,
        scenario_hash=scenario_hash,
        rule=rule,
        targets=targets,
    )


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def failed_line(verdicts: Iterable[ScenarioVerdict]) -> str:
    """`N of M scenarios failed` (the last line `simkit check` prints)."""
    verdicts = list(verdicts)
    failed = sum(not v.passed for v in verdicts)
    noun = "scenario" if len(verdicts) == 1 else "scenarios"
    return f"{failed} of {len(verdicts)} {noun} failed"


# -- JUnit XML --------------------------------------------------------------------------------------
PROPERTY_FIELDS = ("observed", "threshold", "margin", "unit", "seeds", "met", "p_met", "ci_low", "ci_high")


def junit_xml(verdicts: Iterable[ScenarioVerdict]) -> str:
    """The verdicts as JUnit XML: a testsuite per scenario, a testcase per target (valid junit-10.xsd)."""
    verdicts = list(verdicts)
    root = ET.Element(
        "testsuites",
        name="simkit",
        tests=str(sum(len(v.targets) for v in verdicts)),
        failures=str(sum(len(v.failed) for v in verdicts)),
        errors="0",
    )
    for v in verdicts:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=v.label,
            tests=str(len(v.targets)),
            failures=str(len(v.failed)),
            errors="0",
            skipped="0",
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("scenario", v.name),
            ("scenario_hash", v.scenario_hash),
            ("seeds", v.seeds),
            ("duration_s", _num(v.duration_s)),
            ("rule", v.rule),
        ):
            ET.SubElement(props, "property", name=key, value=value)
        for t in v.targets:
            for key in PROPERTY_FIELDS:
                value = getattr(t, key)
                text = _num(value) if isinstance(value, float) else str(value)
                if text:
                    ET.SubElement(props, "property", name=f"{t.target}.{key}", value=text.strip())
        for t in v.targets:
            case = ET.SubElement(suite, "testcase", name=t.target, classname=v.name)
            if not t.passed:
                failure = ET.SubElement(case, "failure", type="TargetMissed", message=t.reason or "missed")
                failure.text = _case_text(t)
            ET.SubElement(case, "system-out").text = _case_text(t)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _case_text(t: TargetVerdict) -> str:
    parts = [f"{k} {t.text(k)}" for k in ("observed", "threshold", "margin") if t.text(k)]
    parts.append(f"met in {t.met} of {t.seeds} seed(s), P(met) {t.p_met:.3f}")
    if not math.isnan(t.ci_low):
        parts.append(f"95% CI {t.ci_low:.3f}-{t.ci_high:.3f}")
    return "; ".join(parts)


def _num(value: float) -> str:
    """A number for a property: repr-exact, `nan` left empty."""
    return "" if math.isnan(value) else repr(value)


# -- GitHub job summary (Markdown) ------------------------------------------------------------------
def summary_markdown(verdicts: Iterable[ScenarioVerdict], budget: int = SUMMARY_BUDGET) -> str:
    """A Markdown job summary: the count of failed scenarios, a scenario x target table, the misses.

    Failed scenarios come first. Past `budget` bytes (UTF-8) rows are left out and a last line says
    how many, so the file never exceeds the budget.
    """
    verdicts = sorted(verdicts, key=lambda v: v.passed)  # stable: failed first, in the given order
    head = [
        f"## simkit: {failed_line(verdicts)}",
        "",
        "| | scenario | target | threshold | observed | margin | P(met) | seeds |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for v in verdicts:
        for t in v.targets:
            rows.append(
                "| "
                + " | ".join(
                    [
                        "✅" if t.passed else "❌",
                        _md(v.label),
                        _md(t.target),
                        t.text("threshold"),
                        t.text("observed"),
                        t.text("margin"),
                        t.text("p_met"),
                        f"{t.met}/{t.seeds}",
                    ]
                )
                + " |"
            )
    misses = [f"- ❌ **{_md(v.label)}** {_md(t.reason)}" for v in verdicts for t in v.failed if t.reason]
    body = [*head, *rows, *(["", "**Missed**", "", *misses] if misses else [])]
    return _within(body, len(head), budget)


def _within(lines: list[str], keep: int, budget: int) -> str:
    """`lines` joined, cut to `budget` bytes: the first `keep` lines always, then a truncation note."""
    out = "\n".join(lines) + "\n"
    if len(out.encode()) <= budget:
        return out
    note = "\n_truncated: {} more line(s) left out to stay under {:,} bytes; see the JUnit or JSON file_\n"
    size = len(("\n".join(lines[:keep]) + "\n").encode()) + len(note.format(len(lines), budget).encode())
    n = keep
    while n < len(lines) and size + len(lines[n].encode()) + 1 <= budget:
        size += len(lines[n].encode()) + 1
        n += 1
    return "\n".join(lines[:n]) + "\n" + note.format(len(lines) - n, budget)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# -- GitHub workflow commands -----------------------------------------------------------------------
def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded (GitHub's toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as `escape_data`, and `:` and `,` too (`escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str) -> str:
    """One workflow command line, `::error file=a.yaml,title=...::message`."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def workflow_commands(verdicts: Iterable[ScenarioVerdict], limit: int = ANNOTATIONS_PER_LEVEL) -> list[str]:
    """Workflow commands: an error per missed target, a warning per target met by a thin margin (under
    5 % of its threshold), a notice per scenario that passed; at most `limit` per level, and one last
    notice counting those left out."""
    by_level: dict[str, list[str]] = {"error": [], "warning": [], "notice": []}
    for v in verdicts:
        for t in v.targets:
            title = f"simkit: {t.target} ({v.label})"
            if not t.passed:
                by_level["error"].append(
                    command("error", t.reason or f"{t.target} missed", file=v.path, title=title)
                )
            elif _thin(t):
                by_level["warning"].append(
                    command(
                        "warning",
                        f"{t.target} is met by a thin margin: {t.text('observed')} against "
                        f"{t.text('threshold')} (margin {t.text('margin')})",
                        file=v.path,
                        title=title,
                    )
                )
        if v.passed:
            by_level["notice"].append(
                command(
                    "notice",
                    f"{v.label}: all {len(v.targets)} targets met ({v.seeds})",
                    file=v.path,
                    title=f"simkit: {v.label} passed",
                )
            )
    lines, left = [], []
    for level, items in by_level.items():
        lines += items[:limit]
        if len(items) > limit:
            left.append(f"{len(items) - limit} more {level}s")
    if left:
        lines.append(command("notice", f"{', '.join(left)} not shown; see the job summary", title="simkit"))
    return lines


def _thin(t: TargetVerdict) -> bool:
    """Met, by less than 5 % of the threshold (of the error budget, 100 % - threshold, for a share)."""
    scale = 100 - t.threshold if t.unit == "%" else abs(t.threshold)
    if math.isnan(t.margin) or math.isnan(scale) or scale <= 0:
        return False
    return 0 <= t.margin < THIN_MARGIN * scale


# -- JSON -------------------------------------------------------------------------------------------
def to_json(verdicts: Iterable[ScenarioVerdict]) -> str:
    """The same content as JSON (NaN as null), for CI systems that read neither JUnit nor Markdown."""
    verdicts = list(verdicts)
    doc = {
        "failed": sum(not v.passed for v in verdicts),
        "total": len(verdicts),
        "passed": all(v.passed for v in verdicts),
        "scenarios": [{**asdict(v), "label": v.label} for v in verdicts],
    }
    return json.dumps(_nulls(doc), indent=2, ensure_ascii=False) + "\n"


def _nulls(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    return value


# -- writing them ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outputs:
    """Where `simkit run|check` writes its CI outputs (`--junit`, `--summary`, `--json`, `--annotations`)."""

    junit: str | None = None
    summary: str | None = None
    json: str | None = None
    annotations: bool = False

    def check(self) -> None:
        """Refuse, before anything is simulated, a destination that cannot be written."""
        for option, path in (("--junit", self.junit), ("--summary", self.summary), ("--json", self.json)):
            if path is None:
                continue
            target = Path(path)
            if target.is_dir():
                raise SimkitError(f"{option} {path}: is a directory; expected a file")
            if not target.resolve().parent.is_dir():
                raise SimkitError(f"{option} {path}: the directory {target.parent} does not exist")

    def write(self, verdicts: Iterable[ScenarioVerdict], stream: TextIO | None = None) -> None:
        """Write each requested output; the annotations go to `stream` (stdout, where GitHub reads them).

        The job summary is appended when it is `$GITHUB_STEP_SUMMARY` (as GitHub's docs do, so other
        steps' content stays), else written anew.
        """
        verdicts = list(verdicts)
        if self.junit:
            Path(self.junit).write_text(junit_xml(verdicts), encoding="utf-8")
        if self.json:
            Path(self.json).write_text(to_json(verdicts), encoding="utf-8")
        if self.summary:
            step = os.environ.get("GITHUB_STEP_SUMMARY")
            append = bool(step) and Path(step or "").resolve() == Path(self.summary).resolve()
            with open(self.summary, "a" if append else "w", encoding="utf-8") as f:
                f.write(summary_markdown(verdicts))
        if self.annotations:
            out = stream if stream is not None else sys.stdout
            for line in workflow_commands(verdicts):
                print(line, file=out)


__all__ = [
    "Outputs",
    "ANNOTATIONS_PER_LEVEL",
    "SUMMARY_BUDGET",
    "ScenarioVerdict",
    "TargetVerdict",
    "workflow_commands",
    "command",
    "escape_data",
    "escape_property",
    "failed_line",
    "from_result",
    "from_summary",
    "junit_xml",
    "summary_markdown",
    "to_json",
]
