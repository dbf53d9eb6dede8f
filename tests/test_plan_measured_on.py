"""What a plan's requests, errors and P95 are of (`result.plans` `measured_on`): a plan of a queue
consumer is judged on its queue's tasks, whatever its kind; a plan of a service on a route on those
routes; any other plan on all routes. The figures are recomputed here from the run's own tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import simkit
from simkit.analysis.plans import _processing_p95_s, consumed_queues
from simkit.engine.traffic import _queue_table, queue_rows
from simkit.results import Deferred
from simkit.scenario.loader import load_scenario


def _rollout(target: str, serving: dict[str, Any] | None = None, at: str = "10h") -> dict[str, Any]:
    plan: dict[str, Any] = {
        "name": f"roll-{target}",
        "kind": "rollout",
        "target": target,
        "start": at,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "minReadySeconds": 10,
    }
    if serving:
        plan["serving"] = serving
    return plan


def _run(plans: list[dict[str, Any]], seed: int, **overrides: Any) -> simkit.RunResult:
    sc = load_scenario(None, overrides={"plans": plans, "simulation.duration": "12h", **overrides})
    return simkit.simulate(sc, seed=seed, progress=False)


def _window(table: pd.DataFrame, row: Any, dt: float) -> pd.DataFrame:
    t = table["t_s"]
    return table[(t + dt > row.start_s) & (t < max(row.end_s, row.start_s + 1e-9))]


@pytest.mark.parametrize("seed", [1, 7])
def test_a_queue_consumer_plan_is_judged_on_its_tasks(seed: int) -> None:
    result = _run([_rollout("llm-agent-service")], seed)
    row = result.plans.iloc[0]
    assert row.outcome == "Complete"
    assert row.measured_on == "tasks of queue llm-agent-tasks"
    dt = result.scenario.simulation.resolution
    tasks = _window(result.queues[result.queues["queue"] == "llm-agent-tasks"], row, dt)
    assert row.requests == pytest.approx(float(tasks["arrivals"].sum()), rel=1e-12)
    assert row.errors == pytest.approx(float(tasks["lost"].sum()), abs=1e-9)
    routes = _window(result.routes, row, dt)
    assert row.requests < 0.5 * float(routes["requests"].sum())  # not the HTTP routes' requests
    queue = next(q for q in result.scenario.traffic.queues if q.name == "llm-agent-tasks")
    service = _processing_p95_s(float(queue.task_time), float(queue.task_time_cv))  # the queue's 8 s task
    assert row.p95_ms == pytest.approx(float((1000 * tasks["wait_p95_s"] + 1000 * service).max()))
    assert row.p95_ms >= 1000 * service > 1000 * 8.0  # at least the processing of an 8 s task


def test_a_slower_new_version_shows_in_the_task_p95() -> None:
    same = _run([_rollout("llm-agent-service")], 3).plans.iloc[0]
    slower = _run([_rollout("llm-agent-service", {"service_time": "12s"})], 3).plans.iloc[0]
    assert slower.p95_ms > same.p95_ms * 1.3  # 12 s against 8 s of processing


@pytest.mark.parametrize("seed", [1, 4])
def test_a_route_service_plan_is_judged_on_its_routes(seed: int) -> None:
    result = _run([_rollout("bff-service")], seed, **{"simulation.resolution": "30s"})
    row = result.plans.iloc[0]
    crossing = [
        r.name for r in result.scenario.traffic.routes if any(s.service == "bff-service" for s in r.path)
    ]
    assert row.measured_on == "routes " + ", ".join(crossing)
    routes = _window(result.routes[result.routes["route"].isin(crossing)], row, 30.0)
    assert row.requests == pytest.approx(float(routes["requests"].sum()), rel=1e-12)
    assert row.p95_ms == pytest.approx(float(routes["p95_ms"].max()))


def test_consumed_queues_of_the_seed() -> None:
    sc = load_scenario(None)
    assert consumed_queues(sc, "llm-agent-service") == ["llm-agent-tasks"]
    assert consumed_queues(sc, "bff-service") == []


def test_queue_rows_of_a_deferred_table_equal_the_built_table_filtered() -> None:
    t_s = np.arange(5) * 60.0
    parts = [
        (
            name,
            np.full(5, k + 1.0),
            1.0,
            {
                key: np.arange(5) * (k + 1.0)
                for key in ("lost", "served", "backlog", "servers", "utilization")
            },
            np.ones((5, 2)) * k,
        )
        for k, name in enumerate(("a", "b", "c"))
    ]
    deferred = Deferred(_queue_table, (t_s, parts))
    built = _queue_table(t_s, parts)
    for names in (["b"], ["a", "c"], ["c", "a"], ["x"]):
        got = queue_rows(deferred, names)
        want = queue_rows(built, names)
        if want.empty:
            assert got.empty
            continue
        pd.testing.assert_frame_equal(got, want)
        assert list(got["queue"].unique()) == [n for n in ("a", "b", "c") if n in names]  # table order
