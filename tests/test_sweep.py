"""Sweeps: every plan over the same seeds; the cheapest plan that holds its targets."""

from pathlib import Path

import pytest

from simkit.cli import main
from simkit.sweep import cheapest, plans, summarize, sweep

SCENARIO = """
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
simulation: {duration: 1h, resolution: 60s}
"""


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "sweepable.yaml"
    path.write_text(SCENARIO)
    return path


def test_plans_are_the_cartesian_product():
    assert plans({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_the_cheapest_plan_that_holds(scenario: Path):
    # 1 replica x 2 servers at 50 ms = 40 req/s < 60 req/s offered: overload, timeouts -> fails.
    # 2 replicas (80 req/s) hold; t3.large nodes are cheaper than t3.xlarge ones and still fit.
    grid = {"workloads.0.replicas": [1, 2], "cluster.node_pools.0.instance_type": ["t3.xlarge", "t3.large"]}
    runs = sweep(scenario, grid, seeds=range(2), n_jobs=1, progress=False)
    assert len(runs) == 4 * 2
    table = summarize(runs)
    assert set(table.loc[table["holds"], "workloads.0.replicas"]) == {2}
    assert table.loc[~table["holds"], "missed"].str.contains("availability").all()
    best = cheapest(table)
    assert best is not None
    assert (best["workloads.0.replicas"], best["cluster.node_pools.0.instance_type"]) == (2, "t3.large")


def test_sweep_cli_exit_codes(scenario: Path, tmp_path: Path, capsys):
    out = tmp_path / "runs.csv"
    assert (
        main(
            [
                "sweep",
                str(scenario),
                "--vary",
                "workloads.0.replicas=1,2",
                "--seeds",
                "1",
                "--jobs",
                "1",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "cheapest plan that holds: {'workloads.0.replicas': 2}" in capsys.readouterr().out
    assert out.is_file()
    assert (
        main(
            [
                "sweep",
                str(scenario),
                "--vary",
                "workloads.0.replicas=1",
                "--seeds",
                "1",
                "--jobs",
                "1",
                "--no-progress",
            ]
        )
        == 1
    )
    assert main(["sweep", str(scenario), "--vary", "workloads.0.replicas=-1", "--seeds", "1"]) == 2
    assert main(["sweep", str(scenario), "--vary", "nonsense"]) == 2
