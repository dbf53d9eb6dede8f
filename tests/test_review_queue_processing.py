"""Regression test, fixed on 2026-12-07; the bug as the review found it:
Review of 584d58a/aefab99 (a plan of a queue consumer judged on its queue's tasks): the
processing part of a task's P95 (`simkit.analysis.plans._service_p95_s`) reads the consumer's
`serving.service_time`/`service_time_cv`, but the traffic model serves the queue's tasks with the
queue's own `task_time`/`task_time_cv` (simkit/engine/traffic.py `_queue_stream`). The seed's
notification-service has serving 20 ms (the default) and its queue 50 ms, so a rollout of it reports
a task P95 of ~60 ms for tasks whose processing alone has a P95 of ~150 ms; llm-agent-tasks' cv 0.8
is read as the serving's 1.0. Expected figures are recomputed from `result.queues` and the queue's
task time with the same no-load P95 the module uses (`_processing_p95_s`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import simkit
from simkit.analysis.plans import _processing_p95_s
from simkit.scenario.loader import load_scenario


def _rollout(target: str) -> dict[str, Any]:
    return {
        "name": f"roll-{target}",
        "kind": "rollout",
        "target": target,
        "start": "2h",
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "minReadySeconds": 10,
    }


def _window(table: pd.DataFrame, row: Any, dt: float) -> pd.DataFrame:
    t = table["t_s"]
    return table[(t + dt > row.start_s) & (t < max(row.end_s, row.start_s + 1e-9))]


@pytest.mark.parametrize(
    ("target", "queue"), [("notification-service", "notifications"), ("llm-agent-service", "llm-agent-tasks")]
)
def test_a_consumer_rollout_s_task_p95_uses_the_queue_s_task_time(target: str, queue: str) -> None:
    sc = load_scenario(None, overrides={"plans": [_rollout(target)], "simulation.duration": "4h"})
    result = simkit.simulate(sc, seed=1, progress=False)
    row = result.plans.iloc[0]
    assert row.measured_on == f"tasks of queue {queue}"
    q = next(x for x in result.scenario.traffic.queues if x.name == queue)
    tasks = _window(
        result.queues[result.queues["queue"] == queue], row, result.scenario.simulation.resolution
    )
    processing = _processing_p95_s(float(q.task_time), float(q.task_time_cv))  # the plan changes no serving
    want = float((1000 * tasks["wait_p95_s"]).max()) + 1000 * processing
    assert row.p95_ms == pytest.approx(want, rel=0.01)


def test_a_consumer_canary_s_split_uses_the_queue_s_task_time() -> None:
    """The progressive path too (engine/plans.py `_split_model`): notification-service serves 20 ms
    requests by its `serving`, but its queue's tasks take 50 ms; the old version's task P95 during a
    canary is at least the processing P95 of a 50 ms task (it read ~60 ms, the 20 ms serving's)."""
    plan = {
        "name": "notify-canary",
        "kind": "canary",
        "target": "notification-service",
        "start": "2h",
        "canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "5m"}}, {"setWeight": 100}]},
    }
    sc = load_scenario(None, overrides={"plans": [plan], "simulation.duration": "4h"})
    result = simkit.simulate(sc, seed=1, progress=False)
    row = result.plans.iloc[0]
    assert row.measured_on == "tasks of queue notifications"
    q = next(x for x in result.scenario.traffic.queues if x.name == "notifications")
    processing = 1000 * _processing_p95_s(float(q.task_time), float(q.task_time_cv))
    assert processing > 100.0  # a 50 ms task's P95, against ~60 ms for the serving's 20 ms
    assert row.old_p95_ms >= processing * 0.99 and row.new_p95_ms >= processing * 0.99
    assert row.p95_ms >= processing * 0.99
