"""`run --out` light and safe: the destination checked before simulating, Parquet by default that
reads back as the in-memory tables, CSV on request, a choice of tables, a coarser resolution."""

from __future__ import annotations

import io
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from pandas.testing import assert_frame_equal

import simkit.cli.run as cli_run
from simkit import tablefiles
from simkit.api import simulate
from simkit.cli import main
from simkit.errors import SimkitError
from simkit.report import diff as report_diff
from simkit.report import html as report_html
from simkit.results import RunResult
from simkit.scenario.loader import load_scenario_file
from simkit.scenario.plans import Plan
from simkit.tables import TABLES, Deferred

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
PER_TICK = [name for name, spec in TABLES.items() if spec.per_tick]


@pytest.fixture(scope="module")
def run() -> RunResult:
    """Two hours of an AZ outage and a rollout, so that every table has rows."""
    outage = {"faults.az_outages.0.at": "10m", "faults.az_outages.0.duration": "30m"}
    sc = load_scenario_file(SCENARIOS / "az-outage.yaml", overrides=outage).scenario
    rollout = Plan(name="r", kind="rollout", target="bff-service", start=3000.0)
    return simulate(sc.model_copy(update={"plans": [rollout]}), duration=7200, progress=False)


class _NoSimulation(Exception):
    pass


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """`simkit run`'s simulate replaced by a spy that records the call and stops there."""
    calls: list[object] = []

    def spy(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise _NoSimulation

    monkeypatch.setattr(cli_run, "simulate", spy)
    return calls


def test_parquet_is_the_default_and_reads_back_as_the_tables(run: RunResult, tmp_path: Path) -> None:
    out = run.write(tmp_path / "out")
    assert not list(out.glob("*.csv.*")) and {p.suffix for p in out.glob("*") if p.stem in TABLES} == {
        ".parquet"
    }
    for name in TABLES:
        assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), run.table(name))


def test_csv_on_request_has_the_declared_headers(run: RunResult, tmp_path: Path) -> None:
    out = run.write(tmp_path / "out", format="csv")
    for name, spec in TABLES.items():
        assert (out / f"{name}.csv").read_text().splitlines()[0] == ",".join(spec.names)
    assert not list(out.glob("*.parquet"))
    with pytest.raises(SimkitError, match="format 'xlsx'"):
        run.write(tmp_path / "bad", format="xlsx")


def test_a_choice_of_tables_keeps_the_ones_report_and_diff_read(run: RunResult, tmp_path: Path) -> None:
    out = run.write(tmp_path / "out", tables="routes,events")
    written = sorted(p.stem for p in out.glob("*.parquet"))
    assert written == sorted({"routes", "events", *tablefiles.ALWAYS})
    assert report_diff.from_dir(out).cost.equals(run.cost)
    assert report_html.from_dir(out).tables["checks"].shape == run.checks.shape
    with pytest.raises(SimkitError, match=r"--tables routes,nope: .*\(unknown: nope\)"):
        tablefiles.select("routes,nope")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_report_and_diff_read_both_formats(run: RunResult, tmp_path: Path, fmt: str) -> None:
    out = run.write(tmp_path / fmt, format=fmt)
    snap = report_diff.from_dir(out)
    assert len(snap.nodes) == len(run.nodes) and list(snap.checks["target"]) == list(run.checks["target"])
    assert_frame_equal(report_html.from_dir(out).tables["routes"], run.routes, check_dtype=False)


def test_resolution_downsamples_only_the_per_tick_tables(run: RunResult, tmp_path: Path) -> None:
    out = run.write(tmp_path / "out", resolution=900)
    assert PER_TICK == ["services", "routes", "queues"]
    routes = pd.read_parquet(out / "routes.parquet")
    assert set(routes["t_s"]) == {0.0, 900.0, 1800.0, 2700.0, 3600.0, 4500.0, 5400.0, 6300.0}
    assert routes["requests"].sum() == pytest.approx(run.routes["requests"].sum())
    assert routes["errors"].sum() == pytest.approx(run.routes["errors"].sum())
    assert routes["p95_ms"].max() == run.routes["p95_ms"].max()
    assert_frame_equal(pd.read_parquet(out / "nodes.parquet"), run.nodes)  # a row per change: whole
    assert "resolution_s=900" in (out / ".simkit-run").read_text()


@settings(max_examples=60, deadline=None)
@given(
    ticks=st.integers(1, 40),
    keys=st.integers(1, 3),
    step=st.sampled_from([60.0, 30.0]),
    bucket_ticks=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_downsample_keeps_totals_peaks_and_last_values(
    ticks: int, keys: int, step: float, bucket_ticks: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    spec = TABLES["queues"]
    rows = {
        "t_s": np.tile(np.arange(ticks) * step, keys),
        "queue": np.repeat([f"q{k}" for k in range(keys)], ticks),
    }
    for c in spec.columns[2:]:
        rows[c.name] = rng.uniform(0, 100, ticks * keys)
    frame = pd.DataFrame(rows)[list(spec.names)]
    seconds = bucket_ticks * step
    out = tablefiles.downsample(spec, frame, seconds)
    buckets = -(-ticks // bucket_ticks)
    assert list(out.columns) == list(spec.names) and len(out) == keys * buckets
    assert (out["t_s"] % seconds == 0).all()
    for q, g in frame.groupby("queue"):
        mine = out[out["queue"] == q].set_index("t_s")
        for start, part in g.groupby(g["t_s"] // seconds * seconds):
            row = mine.loc[start]
            assert row["arrivals"] == pytest.approx(part["arrivals"].sum())  # sum: counts in the tick
            assert row["backlog"] == part["backlog"].max()  # max: backlogs and ages
            assert row["oldest_s"] == part["oldest_s"].max()
            assert row["consumers"] == part["consumers"].iloc[-1]  # last: things that exist
            assert row["utilization"] == pytest.approx(part["utilization"].mean())  # mean: shares


def test_out_into_a_user_directory_is_refused_before_simulating(
    tmp_path: Path, no_simulation: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    assert main(["run", "--duration", "1h", "--no-progress", "--out", str(mine)]) == 2
    assert no_simulation == [] and (mine / "notes.txt").read_text() == "precious"
    assert "not a simkit output directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/o", "--tables", "services,bogus"], "(unknown: bogus)"),
        (["--tables", "services"], "give --out too"),
        (["--out", "{tmp}/o", "--resolution", "0s"], "positive duration"),
        (["--out", "{tmp}/o", "--format", "xlsx"], "invalid choice"),
    ],
)
def test_bad_table_options_exit_2_before_simulating(
    tmp_path: Path,
    no_simulation: list[object],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert main(["run", "--duration", "1h", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert no_simulation == [] and message in err and len(err.strip().splitlines()) == 1


def test_cli_csv_tables_and_resolution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    args = ["--out", str(out), "--format", "csv", "--tables", "routes", "--resolution", "10m"]
    assert main(["run", "--duration", "1h", "--no-progress", *args]) == 0
    assert sorted(p.stem for p in out.glob("*.csv")) == sorted({"routes", "summary", *tablefiles.ALWAYS})
    routes = pd.read_csv(out / "routes.csv")
    assert sorted(set(routes["t_s"])) == [0.0, 600.0, 1200.0, 1800.0, 2400.0, 3000.0]
    assert f"wrote {out}" in capsys.readouterr().out


def test_writing_reads_back_every_table_exactly_and_keeps_the_result_unbuilt(tmp_path: Path) -> None:
    """A fresh result's big tables are built for writing only (the result still holds them deferred), and
    each file reads back exactly as the table the result builds (values, dtypes, column order)."""
    outage = {"faults.az_outages.0.at": "10m", "faults.az_outages.0.duration": "30m"}
    sc = load_scenario_file(SCENARIOS / "az-outage.yaml", overrides=outage).scenario
    fresh = simulate(sc, duration=3600, progress=False)
    big = ("services", "queues")  # summary.md builds (and keeps) the small ones it reports
    assert all(isinstance(fresh.__dict__[name], Deferred) for name in big)
    out = fresh.write(tmp_path / "out")
    assert all(isinstance(fresh.__dict__[name], Deferred) for name in big)
    for name in TABLES:
        assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), fresh.table(name), check_exact=True)


def test_only_the_float_columns_are_written_without_a_dictionary(run: RunResult) -> None:
    """Labels repeat on every row (a dictionary of a few names); floats are mostly distinct."""
    meta = pq.ParquetFile(io.BytesIO(tablefiles.encode(run.services, "parquet"))).metadata
    encodings = {meta.schema.column(i).name: meta.row_group(0).column(i).encodings for i in range(14)}
    assert "RLE_DICTIONARY" in encodings["service"]
    assert all("RLE_DICTIONARY" not in e for c, e in encodings.items() if c != "service")


_TEXT = st.one_of(st.none(), st.text(max_size=6))
_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.tuples(_FLOAT, _TEXT, st.integers(-(2**62), 2**62), st.booleans(), _FLOAT), max_size=30),
    repeat=st.integers(1, 50),
)
def test_any_frame_reads_back_as_written(rows: list[tuple[object, ...]], repeat: int) -> None:
    """Whatever the values (NaN, infinities, -0.0, None and empty names, big integers), a frame
    written as Parquet reads back equal, dtypes included; repeated rows exercise the dictionaries."""
    frame = pd.DataFrame(rows * repeat, columns=["t_s", "name", "count", "ok", "value"])
    frame = frame.astype({"t_s": "float64", "value": "float64"}) if rows else frame
    back = pd.read_parquet(io.BytesIO(tablefiles.encode(frame, "parquet")))
    assert_frame_equal(back, frame, check_exact=True)
    if rows:  # -0.0 stays -0.0 (a NaN is written as a null, as pandas' own writer does: no sign)
        sent, got = frame["t_s"].to_numpy(), back["t_s"].to_numpy()
        assert (np.signbit(got) == np.signbit(sent))[~np.isnan(sent)].all()
