"""`result.allocation`: each node's allocatable and the requests packed on it at the end of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit
from simkit.results import ALLOCATION_COLUMNS

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.fixture(scope="module")
def day(default_day: simkit.RunResult) -> simkit.RunResult:
    return default_day  # tests/conftest.py: shared with test_engine


def test_one_row_per_node_alive_at_the_end(day: simkit.RunResult) -> None:
    alloc = day.allocation
    assert list(alloc.columns) == list(ALLOCATION_COLUMNS)
    last = day.nodes.sort_values("t_s").groupby(["pool", "zone"]).tail(1)
    assert len(alloc) == int(last["nodes"].sum()) == 9
    assert (alloc.workload_cpu_m + alloc.daemonset_cpu_m <= alloc.allocatable_cpu_m).all()
    assert (alloc.workload_memory_mib + alloc.daemonset_memory_mib <= alloc.allocatable_memory_mib).all()


def test_workload_requests_add_up_to_the_bound_pods(day: simkit.RunResult) -> None:
    """At the end of a quiet day every desired pod is bound: the table sums their requests."""
    end = day.replicas.sort_values("t_s").groupby("workload").tail(1).set_index("workload")
    assert (end.desired == end.ready).all()
    want_cpu = sum(w.resources.requests.cpu * end.desired[w.name] for w in day.scenario.workloads)
    assert day.allocation.workload_cpu_m.sum() == pytest.approx(want_cpu)
    assert day.allocation.workload_pods.sum() == end.desired.sum()
    assert (day.allocation.daemonset_cpu_m == 0).all()


def test_summary_fractions_match_the_table(day: simkit.RunResult) -> None:
    a, s = day.allocation, day.summary
    assert s["requested_cpu_frac"] == pytest.approx(a.workload_cpu_m.sum() / a.allocatable_cpu_m.sum())
    assert s["requested_memory_frac"] == pytest.approx(
        a.workload_memory_mib.sum() / a.allocatable_memory_mib.sum()
    )
    assert "requested at the end: " in day.summary_table()


def test_daemonsets_take_their_requests_on_every_node() -> None:
    r = simkit.simulate(SCENARIOS / "daemonsets-eks.yaml", seed=7, duration=6 * 3600, progress=False)
    per_node = sum(d.resources.requests.cpu for d in r.scenario.daemonsets)  # all tolerate every taint
    assert (r.allocation.daemonset_cpu_m == per_node).all()
    assert r.summary["daemonset_cpu_frac"] == pytest.approx(
        r.allocation.daemonset_cpu_m.sum() / r.allocation.allocatable_cpu_m.sum()
    )
    assert "(DaemonSets " in r.summary_table()


def test_written_with_the_other_tables(day: simkit.RunResult, tmp_path: Path) -> None:
    out = day.write(tmp_path / "run", format="csv")
    assert (out / "allocation.csv").read_text().splitlines()[0] == ",".join(ALLOCATION_COLUMNS)
