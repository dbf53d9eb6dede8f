"""The optimizer (issue 16 item 5): the same pick as a sweep on a small grid, the exact Erlang C
front of an M/M/c service priced per server, a reproducible front, a journal shared by two
processes, and bad input as one line with exit code 2."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from simkit.catalog.catalog import load_catalog
from simkit.cli import main
from simkit.errors import SimkitError
from simkit.optimizer import Categorical, FloatRange, IntRange, optimize
from simkit.optimizer.objectives import Objective
from simkit.optimizer.result import pareto_mask
from simkit.optimizer.space import parse_dimension, size
from simkit.scenario.loader import load_scenario_file, scenario_hash
from simkit.sweep import cheapest, summarize, sweep
from simkit.traffic.queueing import erlang_c

ROOT = Path(__file__).resolve().parents[1]

# test_sweep.py's scenario: 1 replica (2 servers at 50 ms = 40 req/s) cannot serve 60 req/s
GRID_SCENARIO = """
name: sweepable
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
  load: {base_rps: 60}
  routes: [{name: api, share: 1, path: [web]}]
slos: {availability: 99%, p95_latency: 300ms}
simulation: {duration: 10m, resolution: 60s}
"""

# M/M/c: one server per pod (concurrency 1), one pod per node (3 of 4 vCPU requested), so c servers
# cost c nodes; exponential service of 100 ms, Poisson arrivals of 25/s (a = 2.5 Erlangs), no
# network overhead: the route's P95 is the M/M/c sojourn time's 95th percentile
LAMBDA, MEAN_S = 25.0, 0.1
MMC_SCENARIO = f"""
name: mmc
cluster:
  provider: aws
  region: us-east-1
  zones: [a]
  cluster_autoscaler: {{}}
  node_pools:
    - {{name: app, instance_type: t3.xlarge, capacity_type: on-demand, min_nodes: 1, max_nodes: 12}}
workloads:
  - name: web
    replicas: 3
    resources: {{requests: {{cpu: 3, memory: 512Mi}}}}
    serving: {{concurrency: 1, service_time: {MEAN_S * 1000:g}ms, timeout: 10s}}
traffic:
  load: {{base_rps: {LAMBDA:g}}}
  routes: [{{name: api, share: 1, path: [web], network_overhead: 0s}}]
slos: {{availability: 99%, p95_latency: 1s}}
simulation: {{duration: 10m, resolution: 60s}}
"""

FAST = {"duration": 600, "n_jobs": 1, "progress": False, "require": 0.9}  # 5 search, 35 verify seeds


@pytest.fixture()
def grid_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "sweepable.yaml"
    path.write_text(GRID_SCENARIO)
    return path


@pytest.fixture()
def mmc(tmp_path: Path) -> Path:
    path = tmp_path / "mmc.yaml"
    path.write_text(MMC_SCENARIO)
    return path


def mmc_p95_ms(c: int) -> float:
    """The 95th percentile of the M/M/c sojourn time W + S: W is 0 with probability 1 - C (Erlang
    C), else Exp(c mu - lambda); S ~ Exp(mu) (Kleinrock, Queueing Systems Vol. 1, 1975, section 3.5)."""
    mu = 1 / MEAN_S
    p_wait, theta = float(erlang_c(c, LAMBDA / mu)), c * mu - LAMBDA

    def tail(t: float) -> float:  # P(W + S > t) - 0.05
        hypo = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
        return (1 - p_wait) * math.exp(-mu * t) + p_wait * hypo - 0.05

    return 1000 * brentq(tail, 1e-9, 100.0)


def test_small_grid_gives_the_same_pick_as_sweep(grid_scenario: Path):
    grid = {"workloads.0.replicas": [1, 2], "cluster.node_pools.0.instance_type": ["t3.xlarge", "t3.large"]}
    table = summarize(sweep(grid_scenario, grid, seeds=range(5), duration=600, n_jobs=1, progress=False))
    best = cheapest(table)
    assert best is not None
    result = optimize(grid_scenario, space=grid, n_trials=4, seeds=range(5), **FAST)
    assert len(result.trials) == 4  # every plan of the grid, none twice
    assert (
        result.pick
        == {k: best[k] for k in grid}
        == {
            "workloads.0.replicas": 2,
            "cluster.node_pools.0.instance_type": "t3.large",
        }
    )
    assert set(result.trials.loc[~result.trials["feasible"], "workloads.0.replicas"]) == {1}
    assert result.verification["passed"].iloc[-1]
    assert result.pick_summary is not None and result.pick_summary["passed"].all()


def test_recovers_the_exact_erlang_c_front_of_an_mmc_service(mmc: Path):
    result = optimize(mmc, space={"workloads.0.replicas": range(1, 11)}, n_trials=10, seeds=range(5), **FAST)
    node_usd_month = load_catalog().instance("aws", "us-east-1", "t3.xlarge").usd_hour("on-demand") * 730
    trials = result.trials.set_index("workloads.0.replicas").sort_index()
    assert list(trials.index) == list(range(1, 11))
    # c <= a = 2.5 servers: unstable, requests time out, the chance constraint fails
    assert list(trials.index[~trials["feasible"]]) == [1, 2]
    front = result.front.set_index("workloads.0.replicas").sort_index()
    assert list(front.index) == list(range(3, 11))  # every stable c is Pareto-optimal
    exact = pd.Series({c: mmc_p95_ms(c) for c in front.index})
    np.testing.assert_allclose(front["p95_ms"], exact, rtol=2e-3)
    np.testing.assert_allclose(np.diff(front["cost_usd_month"]), node_usd_month, rtol=1e-9)  # per server
    # Optuna's own constrained front (from Trial.set_constraint; repeated plans included) is ours
    assert {t.params["workloads.0.replicas"] for t in result.study.best_trials} == set(front.index)
    assert result.pick == {"workloads.0.replicas": 3}


def test_a_fixed_sampler_seed_gives_the_same_front(mmc: Path):
    space = {"workloads.0.replicas": "2..9", "cluster.node_pools.0.instance_type": ["t3.xlarge", "m5.xlarge"]}
    runs = [optimize(mmc, space=space, n_trials=5, seeds=range(5), sampler_seed=7, **FAST) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0].trials, runs[1].trials)
    pd.testing.assert_frame_equal(runs[0].front, runs[1].front)
    assert runs[0].pick == runs[1].pick
    tpe = [
        optimize(mmc, space=space, n_trials=5, seeds=range(5), sampler="tpe", sampler_seed=7, **FAST)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(tpe[0].trials, tpe[1].trials)


def test_two_calls_share_a_journal_and_reuse_its_plans(mmc: Path, tmp_path: Path):
    journal = tmp_path / "study.journal"
    space = {"workloads.0.replicas": range(1, 9)}
    first = optimize(mmc, space=space, n_trials=3, seeds=range(5), storage=journal, **FAST)
    second = optimize(mmc, space=space, n_trials=3, seeds=range(5), storage=journal, **FAST)
    assert first.study_name == second.study_name
    assert len(first.trials) == 3 and len(second.trials) == 6  # three new plans, none run twice
    pd.testing.assert_frame_equal(second.trials.iloc[:3], first.trials, check_dtype=False)
    assert second.trials["workloads.0.replicas"].is_unique


def test_two_processes_share_a_journal(mmc: Path, tmp_path: Path):
    journal = tmp_path / "shared.journal"
    cmd = [
        sys.executable, "-m", "simkit.cli", "optimize", str(mmc), "--space", "workloads.0.replicas=1..8",
        "--trials", "3", "--seeds", "5", "--require", "0.9", "--duration", "10m", "--jobs", "1",
        "--no-progress", "--storage", str(journal),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    plans = [t.params["workloads.0.replicas"] for t in study.trials if "repeat_of" not in t.user_attrs]
    assert 3 <= len(set(plans)) <= 6  # each worker ran three plans; a race may run one twice


def test_the_picked_scenario_is_written_and_exports(mmc: Path, tmp_path: Path, capsys):
    out = tmp_path / "opt"
    code = main(
        [
            "optimize", str(mmc), "--space", "workloads.0.replicas=1..6", "--trials", "6", "--seeds", "5",
            "--require", "0.9", "--duration", "10m", "--jobs", "1", "--no-progress", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "pick: {'workloads.0.replicas': 3}" in printed
    assert {p.name for p in out.iterdir()} >= {"trials.csv", "front.csv", "scenario.yaml", "pareto.png"}
    written = load_scenario_file(out / "scenario.yaml")
    expected = load_scenario_file(mmc, overrides={"workloads.0.replicas": 3})
    assert written.sha256 == expected.sha256 == scenario_hash(expected.scenario)
    assert main(["export", str(out / "scenario.yaml"), "--out", str(tmp_path / "manifests")]) == 0


def test_nothing_feasible_exits_1(mmc: Path, capsys):
    code = main(
        [
            "optimize", str(mmc), "--space", "workloads.0.replicas=1..2", "--trials", "2", "--seeds", "5",
            "--require", "0.9", "--duration", "10m", "--jobs", "1", "--no-progress",
        ]
    )  # fmt: skip
    assert code == 1
    assert "no plan of the front held" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--space", "workloads.0.nonsense=1..3"], "workloads[0].nonsense"),
        (["--space", "workloads.7.replicas=1..3"], "--set workloads.7.replicas: no such place"),
        (["--space", "workloads.0.replicas=5..3"], "empty range 5..3"),
        (["--space", "workloads.0.replicas=a..b"], "expected numbers in LO..HI"),
        (["--space", "workloads.0.replicas="], "--space expects KEY=LO..HI"),
        (["--space", "workloads.0.replicas=1..3", "--objective", "joy"], "unknown objective 'joy'"),
        (["--space", "workloads.0.replicas=1..3", "--objective", "p95:nope"], "no route 'nope'"),
        (["--space", "workloads.0.replicas=1..3", "--seeds", "3"], "give at least 5"),
        ([], "give at least one --vary or --space"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(mmc: Path, capsys, args: list[str], message: str):
    assert main(["optimize", str(mmc), "--require", "0.9", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec", "dimension"),
    [
        ("1..8", IntRange(1, 8)),
        ("2..12:2", IntRange(2, 12, 2)),
        ("0.5..0.9", FloatRange(0.5, 0.9)),
        ("50..90:0.5", FloatRange(50.0, 90.0, 0.5)),
        ("spot,on-demand", Categorical(("spot", "on-demand"))),
        (range(2, 7, 2), IntRange(2, 6, 2)),
        ([1, "a"], Categorical((1, "a"))),
    ],
)
def test_space_dimensions(spec: object, dimension: object):
    assert parse_dimension("x", spec) == dimension


@pytest.mark.parametrize("spec", ["3..1", "1..3:0", [], range(3, 3), "nan..1"])
def test_empty_or_bad_dimensions_are_refused(spec: object):
    with pytest.raises(SimkitError, match="^space x: "):
        parse_dimension("x", spec)


def test_space_size():
    dims = {"a": IntRange(1, 9, 2), "b": Categorical(("x", "y")), "c": FloatRange(0, 1, 0.25)}
    assert size(dims) == 5 * 2 * 5
    assert size({"d": FloatRange(0, 1)}) == math.inf


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30))
def test_pareto_mask_keeps_exactly_the_non_dominated(points: list[tuple[int, int]]):
    goals = (Objective("cost", "cost", "minimize"), Objective("availability", "avail", "maximize"))
    table = pd.DataFrame(points, columns=["cost", "avail"])
    mask = pareto_mask(table, goals)

    def dominates(p: tuple[int, int], q: tuple[int, int]) -> bool:
        return p[0] <= q[0] and p[1] >= q[1] and p != q

    for i, q in enumerate(points):
        assert mask[i] == (not any(dominates(p, q) for p in points))


def test_without_optuna_simkit_works_and_optimize_says_what_to_install(tmp_path: Path):
    probe = (
        "import sys; sys.modules['optuna'] = None\n"  # as if the optimize extra were not installed
        "import simkit\n"
        "from simkit.cli import main\n"
        "assert 'optuna' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "code = main(['optimize', '--space', 'workloads.0.replicas=1..3', '--no-progress'])\n"
        "sys.exit(10 + code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 12, done.stderr
    assert done.stderr.strip() == "error: simkit optimize needs Optuna: pip install 'simkit[optimize]'"


def test_a_per_zone_on_demand_floor_is_a_dimension(tmp_path: Path):
    """An on-demand pool beside the spot one, addressed by name, its min_nodes in steps of the zone
    count (here 2): 0, 1 or 2 on-demand nodes per zone, each step two on-demand nodes' price."""
    text = GRID_SCENARIO.replace("autoscaling: false}", "autoscaling: false}\n" + FLOOR_POOL)
    path = tmp_path / "floor.yaml"
    path.write_text(text.replace("on-demand, min_nodes: 2", "spot, min_nodes: 2"))
    result = optimize(
        path, space={"cluster.node_pools.floor.min_nodes": "0..4:2"}, objectives=("cost", "availability"),
        n_trials=3, seeds=range(5), **FAST,
    )  # fmt: skip
    trials = result.trials.set_index("cluster.node_pools.floor.min_nodes").sort_index()
    assert list(trials.index) == [0, 2, 4]
    node_usd_month = load_catalog().instance("aws", "us-east-1", "t3.xlarge").usd_hour("on-demand") * 730
    np.testing.assert_allclose(np.diff(trials["cost_usd_month"]), 2 * node_usd_month, rtol=1e-9)
    assert result.pick == {"cluster.node_pools.floor.min_nodes": 0}  # no interruption in 10 minutes


FLOOR_POOL = (
    "    - {name: floor, instance_type: t3.xlarge, capacity_type: on-demand, min_nodes: 0, max_nodes: 4,\n"
    "       autoscaling: false}"
)
