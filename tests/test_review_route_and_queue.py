"""Regression test, fixed on 2026-12-07; the bug as the review found it:
Review of 584d58a (`measured_on`): a plan of a workload that is both on HTTP routes and a queue
consumer is judged on its queue's tasks alone (`plan_tables`: `consumed` wins over `_routes_of`).
Before 584d58a such a plan read the routes crossing the target. Here workflow-orchestrator-service
(on api-read and api-write) also consumes audit-events, and its rollout's requests, errors and P95
drop the routes' traffic: ~1350 route requests and a route P95 of 168 ms are replaced by ~450 audit
tasks and a P95 of the serving's processing time, so a route SLO broken during the rollout would go
unseen by the plan's checks. Expected: the routes the target is on still count (at least the route
requests in the window, and a P95 at least the routes' worst tick)."""

from __future__ import annotations

from typing import Any

import pandas as pd

import simkit
from simkit.scenario.loader import load_scenario

TARGET = "workflow-orchestrator-service"


def _window(table: pd.DataFrame, row: Any, dt: float) -> pd.DataFrame:
    t = table["t_s"]
    return table[(t + dt > row.start_s) & (t < max(row.end_s, row.start_s + 1e-9))]


def test_a_route_service_that_consumes_a_queue_keeps_its_routes() -> None:
    queues = [q.model_dump() for q in load_scenario(None).traffic.queues]
    queues[2]["consumer"] = TARGET  # audit-events
    plan = {
        "name": "orch",
        "kind": "rollout",
        "target": TARGET,
        "start": "2h",
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "serving": {"service_time": "40ms"},
    }
    overrides = {"plans": [plan], "simulation.duration": "4h", "traffic.queues": queues}
    result = simkit.simulate(load_scenario(None, overrides=overrides), seed=2, progress=False)
    row = result.plans.iloc[0]
    crossing = [r.name for r in result.scenario.traffic.routes if any(s.service == TARGET for s in r.path)]
    assert crossing == ["api-read", "api-write"]
    dt = result.scenario.simulation.resolution
    routes = _window(result.routes[result.routes["route"].isin(crossing)], row, dt)
    assert float(routes["requests"].sum()) > 0
    assert row.requests >= float(routes["requests"].sum())
    assert row.p95_ms >= float(routes["p95_ms"].max())
