"""Batches survive a crash and run anywhere (issue 16 items 3 and 4, `simkit.store`, `simkit.batch`).

A sweep subprocess is SIGKILLed after some runs are stored (the `SIMKIT_TEST_KILL_AFTER_ROWS` hook);
re-run with the same `--out`, it does only the missing runs and its final table equals an
uninterrupted run's. The same batch gives identical tables on loky with 1 and 2 workers, threading
and a Dask `LocalCluster`.
"""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simkit.batch import BatchError
from simkit.cli import main
from simkit.errors import SimkitError
from simkit.replicate import replicate
from simkit.scenario.loader import load_scenario
from simkit.store import ResultStore, plan_key
from simkit.sweep import sweep

sweep_module = importlib.import_module("simkit.sweep")

ROOT = Path(__file__).resolve().parents[1]
VARY = [
    "--vary",
    "workloads.0.replicas=1,2",
    "--vary",
    "cluster.node_pools.0.instance_type=t3.xlarge,t3.large",
]

SCENARIO_TEXT = """
name: batchable
cluster:
  provider: aws
  region: us-east-1
  zones: [a, b]
  node_pools:
    - {name: app, instance_type: t3.xlarge, capacity_type: on-demand, min_nodes: 2, max_nodes: 2,
       autoscaling: false}
workloads:
  - name: web
    replicas: 2
    resources: {requests: {cpu: 500m, memory: 512Mi}}
    serving: {concurrency: 2, service_time: 50ms, timeout: 2s}
traffic:
  load: {base_rps: 60, noise: {cv: 0.05}}
  routes: [{name: api, share: 1, path: [web]}]
slos: {availability: 99%, p95_latency: 300ms}
simulation: {duration: 1h, resolution: 60s}
"""


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "batchable.yaml"
    path.write_text(SCENARIO_TEXT)
    return path


def sweep_cli(scenario: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "simkit.cli", "sweep", str(scenario), *VARY, "--seeds", "3", "--jobs", "1"]
    return subprocess.run(
        [*cmd, "--no-progress", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("select count(*) from runs").fetchone()[0])


@pytest.mark.parametrize("name", ["runs.sqlite", "runs.csv"])
def test_a_killed_sweep_resumes_and_ends_with_the_uninterrupted_table(
    scenario: Path, tmp_path: Path, name: str
) -> None:
    whole = sweep_cli(scenario, tmp_path / "whole" / name)
    assert whole.returncode in (0, 1), whole.stderr
    out = tmp_path / "killed" / name
    killed = sweep_cli(scenario, out, SIMKIT_TEST_KILL_AFTER_ROWS="5")
    assert killed.returncode == -signal.SIGKILL
    store = out if name.endswith(".sqlite") else out.parent / f".{name}.simkit-runs.sqlite"
    assert stored(store) == 5 and not (name.endswith(".csv") and out.exists())
    resumed = sweep_cli(scenario, out)
    assert resumed.returncode == whole.returncode, resumed.stderr
    assert "resumed: 5 runs were already stored" in resumed.stderr
    assert resumed.stdout == whole.stdout  # the same summary, the same cheapest plan
    if name.endswith(".csv"):
        assert out.read_text() == (tmp_path / "whole" / name).read_text()
        assert not store.exists()  # the hidden store goes once the CSV is written
    else:
        assert stored(out) == 12  # 4 plans x 3 seeds, none twice

        def table(path: Path) -> pd.DataFrame:
            with sqlite3.connect(path) as db:
                return pd.read_sql("select plan_key, seed, plan, row from runs order by plan_key, seed", db)

        pd.testing.assert_frame_equal(table(out), table(tmp_path / "whole" / name))
        again = sweep_cli(scenario, out)  # all done: nothing runs, nothing is added
        assert "resumed: 12 runs" in again.stderr and again.stdout == whole.stdout and stored(out) == 12


def test_the_store_is_keyed_by_plan_and_seed_and_never_counts_twice(scenario: Path, tmp_path: Path) -> None:
    grid = {"workloads.0.replicas": [1, 2]}
    db = tmp_path / "runs.sqlite"
    first = sweep(scenario, grid, seeds=range(2), n_jobs=1, progress=False, store=db)
    assert first.attrs["resumed"] == 0
    # more seeds, the plans in another order: only the new (plan, seed) pairs run
    more = sweep(
        scenario, {"workloads.0.replicas": [2, 1]}, seeds=range(3), n_jobs=1, progress=False, store=db
    )
    assert more.attrs["resumed"] == 4 and stored(db) == 6
    assert plan_key({"a": 1, "b": "x"}) == plan_key({"b": "x", "a": 1}) != plan_key({"a": 2, "b": "x"})
    plain = sweep(scenario, {"workloads.0.replicas": [2, 1]}, seeds=range(3), n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(more, plain)  # a stored row reads back exactly


def test_a_failed_run_names_its_plan_and_seed_and_the_rest_go_on(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sweep_module._run

    def flaky(source: str, base_dir: Path | None, overrides: dict, seed: int, duration: float | None) -> dict:
        if overrides["workloads.0.replicas"] == 2 and seed == 1:
            raise RuntimeError("disk on fire")
        return real(source, base_dir, overrides, seed, duration)

    monkeypatch.setattr(sweep_module, "_run", flaky)
    db = tmp_path / "runs.sqlite"
    grid = {"workloads.0.replicas": [1, 2]}
    message = r"1 runs failed \(plan .*, seed 1: RuntimeError: disk on fire\); the other 3 finished"
    with pytest.raises(BatchError, match=message):  # the default: never a table that lacks a run silently
        sweep(scenario, grid, seeds=range(2), n_jobs=1, progress=False)
    runs = sweep(scenario, grid, seeds=range(2), n_jobs=1, progress=False, store=db, errors="report")
    assert len(runs) == 3
    [failure] = runs.attrs["failures"]
    assert str(failure) == "plan {'workloads.0.replicas': 2}, seed 1: RuntimeError: disk on fire"
    with sqlite3.connect(db) as con:
        assert con.execute("select seed, error from failures").fetchall() == [
            (1, "RuntimeError: disk on fire")
        ]
    monkeypatch.setattr(sweep_module, "_run", real)  # fixed: the re-run does only the failed one
    again = sweep(
        scenario, {"workloads.0.replicas": [1, 2]}, seeds=range(2), n_jobs=1, progress=False, store=db
    )
    assert again.attrs["resumed"] == 3 and not again.attrs["failures"] and len(again) == 4
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from failures").fetchone() == (0,)


def test_a_failed_replication_is_reported_and_the_cli_says_so(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replicate_module = importlib.import_module("simkit.replicate")  # `simkit.replicate` is the function
    real = replicate_module.simulate

    def flaky(loaded, seed, **kw):  # type: ignore[no-untyped-def]
        if seed == 2:
            raise ValueError("no such luck")
        return real(loaded, seed=seed, **kw)

    monkeypatch.setattr(replicate_module, "simulate", flaky)
    sc = load_scenario(str(scenario))
    runs = replicate(sc, seeds=range(3), n_jobs=1, progress=False, errors="report")
    assert list(runs["seed"]) == [0, 1] and [f.seed for f in runs.attrs["failures"]] == [2]

    monkeypatch.setattr(sweep_module, "_run", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    out = tmp_path / "runs.csv"
    args = ["sweep", str(scenario), "--vary", "workloads.0.replicas=2", "--seeds", "1", "--jobs", "1"]
    assert main([*args, "--no-progress", "--out", str(out)]) == 70
    err = capsys.readouterr().err
    assert "run failed: plan {'workloads.0.replicas': 2}, seed 0: RuntimeError: boom" in err
    assert "1 runs failed" in err and not out.exists()


def test_a_store_never_replaces_a_file_simkit_did_not_write(scenario: Path, tmp_path: Path) -> None:
    user = tmp_path / "mine.db"
    user.write_bytes(b"precious")
    with pytest.raises(SimkitError, match="exists and is not a simkit results store; use --force"):
        sweep(scenario, {"workloads.0.replicas": [2]}, seeds=[0], n_jobs=1, progress=False, store=user)
    assert user.read_bytes() == b"precious"
    assert (
        main(["sweep", str(scenario), "--vary", "workloads.0.replicas=2", "--seeds", "1", "--out", str(user)])
        == 2
    )
    assert user.read_bytes() == b"precious"
    ResultStore(tmp_path / "other.db", batch="another scenario").close()
    with pytest.raises(SimkitError, match="holds the results of another batch"):
        sweep(
            scenario,
            {"workloads.0.replicas": [2]},
            seeds=[0],
            n_jobs=1,
            progress=False,
            store=tmp_path / "other.db",
        )


BACKENDS = [("loky", 1), ("loky", 2), ("threading", 2)]


@pytest.fixture(scope="module")
def spot_storm() -> object:
    return load_scenario("scenarios/spot-storm.yaml", overrides={"simulation.duration": "3h"})


def test_the_table_is_the_same_on_every_backend_and_number_of_workers(
    spot_storm: object, tmp_path: Path
) -> None:
    tables = [
        replicate(spot_storm, seeds=range(4), n_jobs=n, backend=backend, progress=False)  # type: ignore[arg-type]
        for backend, n in BACKENDS
    ]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], table)
    assert tables[0]["nodes_interrupted"].nunique() > 1  # the seeds really differ


def test_dask_local_cluster_gives_the_same_table(spot_storm: object, scenario: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = replicate(spot_storm, seeds=range(3), n_jobs=1, progress=False)  # type: ignore[arg-type]
    grid = {"workloads.0.replicas": [1, 2]}
    sweep_serial = sweep(scenario, grid, seeds=range(2), n_jobs=1, progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = replicate(
            spot_storm,  # type: ignore[arg-type]
            seeds=range(3),
            backend="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        sweep_dask = sweep(
            scenario, grid, seeds=range(2), backend="dask", scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(serial, on_dask)
    pd.testing.assert_frame_equal(sweep_serial, sweep_dask)


def test_backend_options_are_checked_in_one_line(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sweep", str(scenario), "--vary", "workloads.0.replicas=2", "--seeds", "1"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err == "error: --scheduler: needs --backend dask\n"
    assert main([*args, "--backend", "ray"]) == 2
    assert "--backend: invalid choice" in capsys.readouterr().err
    with pytest.raises(SimkitError, match="--backend: expected one of loky, threading, dask"):
        replicate(seeds=[0], backend="mpi")
