"""The table registry: every table of a run has the columns `TABLES` declares, and everything iterates it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from simkit.analysis.cost import COLUMNS as COST_COLUMNS
from simkit.analysis.slo import Check
from simkit.api import simulate
from simkit.engine.simulation import EngineOutput
from simkit.results import RunResult
from simkit.scenario.loader import load_scenario_file
from simkit.scenario.plans import Plan
from simkit.tables import TABLES, Derived, EngineRows, TrafficFrame, reported, schema

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def run() -> RunResult:
    """Two hours with a zone outage from 10 min to 40 min in and a rollout at 50 min, so that every
    table has rows."""
    outage = {"faults.az_outages.0.at": "10m", "faults.az_outages.0.duration": "30m"}
    sc = load_scenario_file(SCENARIOS / "az-outage.yaml", overrides=outage).scenario
    rollout = Plan(name="r", kind="rollout", target="bff-service", start=3000.0)
    return simulate(sc.model_copy(update={"plans": [rollout]}), duration=7200, progress=False)


def test_every_table_of_a_run_has_the_declared_columns(run: RunResult) -> None:
    for name, spec in TABLES.items():
        frame = getattr(run, name)
        assert isinstance(frame, pd.DataFrame)
        assert tuple(frame.columns) == spec.names, name
        assert run.table(name) is frame
    assert [n for n in TABLES if getattr(run, n).empty] == []


def test_engine_row_tables_name_a_list_of_engine_output() -> None:
    fields = {f.name for f in dataclasses.fields(EngineOutput)}
    sources = {type(t.source) for t in TABLES.values()}
    assert sources == {EngineRows, TrafficFrame, Derived}
    for spec in TABLES.values():
        if isinstance(spec.source, EngineRows):
            assert spec.source.field in fields, spec.name
            assert spec.source.field.endswith("_rows")


def test_derived_tables_match_what_builds_them() -> None:
    assert TABLES["cost"].names == tuple(COST_COLUMNS)
    assert TABLES["checks"].names == tuple(f.name for f in dataclasses.fields(Check))


def test_run_result_has_one_field_per_table_and_optional_ones_default_empty(run: RunResult) -> None:
    fields = {f.name: f for f in dataclasses.fields(RunResult)}
    assert set(TABLES) <= set(fields)
    for name, spec in TABLES.items():
        assert fields[name].kw_only
        has_default = fields[name].default is not dataclasses.MISSING
        assert has_default == spec.optional, name
    required = {n: getattr(run, n) for n, t in TABLES.items() if not t.optional}
    bare = RunResult(run.scenario, run.seed, "h", "v", run.duration_s, summary={}, **required)
    for name, spec in TABLES.items():
        if spec.optional:
            frame = getattr(bare, name)
            assert frame.empty and tuple(frame.columns) == spec.names
    with pytest.raises(TypeError):
        RunResult(run.scenario, run.seed, "h", "v", run.duration_s, summary={})


def test_write_and_the_reprs_iterate_the_registry(run: RunResult, tmp_path: Path) -> None:
    out = run.write(tmp_path / "out", format="csv")
    csvs = sorted(p.stem for p in out.glob("*.csv"))
    assert csvs == sorted([*TABLES, "summary"])
    for name, spec in TABLES.items():
        assert (out / f"{name}.csv").read_text().splitlines()[0] == ",".join(spec.names)
    listed = run._repr_html_().split("tables: ")[1].split("</small>")[0].split(", ")
    assert listed == [n for n in TABLES if n != "checks"]  # checks is the body of the repr
    md = (out / "summary.md").read_text()
    titles = [f"## {report.title}" for _, report in reported()]
    assert [line for line in md.splitlines() if line in titles] == titles
    assert "| target | threshold | value | unit | passed | margin |" in md  # reason is left out


def test_table_by_name_names_the_tables_when_unknown(run: RunResult) -> None:
    with pytest.raises(KeyError, match="the tables are services, routes"):
        run.table("service")


def test_units_follow_the_column_names() -> None:
    """A column named with a unit suffix declares that unit; every table says what it holds."""
    suffix_unit = {"_s": "s", "_ms": "ms", "_rps": "req/s", "_cpu_m": "m", "_mib": "MiB", "_usd": "USD/month"}
    frame = schema()
    assert len(frame) == sum(len(t.columns) for t in TABLES.values())
    for row in frame.itertuples():
        for suffix, unit in suffix_unit.items():
            if row.column.endswith(suffix):
                assert row.unit == unit, (row.table, row.column)
    for spec in TABLES.values():
        assert spec.description and "\n" not in spec.description
        assert len(set(spec.names)) == len(spec.names)
        assert str(spec.source)


def test_positions_are_read_by_name() -> None:
    alloc = TABLES["allocation"]
    row = tuple(range(len(alloc.columns)))
    assert alloc.values([row, row], "workload_cpu_m") == [alloc.index("workload_cpu_m")] * 2
    pd.testing.assert_frame_equal(alloc.empty().build(), pd.DataFrame(columns=list(alloc.names)))
