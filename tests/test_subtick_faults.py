"""Faults, failovers and capacity changes count for their exact duration, whatever the tick.

A change of ready servers takes effect at its own time: the tick it falls in is computed stretch by
stretch (`TrafficModel._split_tick`), and a route's failures in it are those of each instant
(`TrafficModel._split_ok`). So the errors do not depend on `simulation.resolution` (issue 11, 3).
"""

import numpy as np
import pytest

from simkit.api import simulate
from simkit.engine.traffic import TrafficModel
from simkit.scenario.loader import load_scenario

RESOLUTIONS = ("1s", "15s", "30s", "60s")


def _one_service(resolution: str):
    return load_scenario(
        overrides={
            "simulation.resolution": resolution,
            "traffic.load": {"base_rps": 100.0},
            "traffic.routes": [{"name": "r", "share": 1.0, "path": [{"service": "kong", "calls": 3}]}],
            "faults": {},
        }
    )


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_an_outage_shorter_than_a_tick_costs_its_own_duration(resolution: str) -> None:
    """kong down from 100.5 s to 135.5 s: 35 s of requests fail, once each (3 calls), at any tick.

    Before, the outage ran to the next tick boundary: 59.5 s of errors at 60 s ticks.
    """
    sc = _one_service(resolution)
    model = TrafficModel(sc, 600.0, np.random.default_rng(0))
    for w in sc.workloads:
        model.set_ready(w.name, w.replicas, 0.0)
    pods = sc.workload("kong").replicas
    model.set_ready("kong", 0, 100.5)
    model.set_ready("kong", pods, 135.5)
    out = model.finish()
    assert out["summary"]["errors"] == pytest.approx(100.0 * 35.0, rel=1e-9)
    assert out["summary"]["requests"] == pytest.approx(100.0 * 600.0, rel=1e-9)
    kong = out["services"]
    assert kong["timeouts"].sum() == pytest.approx(3 * 100.0 * 35.0, rel=1e-9)  # each of the 3 visits
    assert kong["served"].sum() + kong["timeouts"].sum() == pytest.approx(3 * 100.0 * 600.0, rel=1e-9)
    tick = float(sc.simulation.resolution)
    level = (kong["ready_replicas"] * np.minimum(tick, 600.0 - kong["t_s"])).sum()
    assert level == pytest.approx(pods * (600.0 - 35.0), rel=1e-9)  # ready pods, time-weighted


def test_two_changes_in_one_tick_and_a_change_on_a_boundary() -> None:
    sc = _one_service("60s")
    model = TrafficModel(sc, 600.0, np.random.default_rng(0))
    for w in sc.workloads:
        model.set_ready(w.name, w.replicas, 0.0)
    pods = sc.workload("kong").replicas
    model.set_ready("kong", 0, 70.0)
    model.set_ready("kong", pods, 80.0)
    model.set_ready("kong", 0, 90.0)
    model.set_ready("kong", pods, 120.0)  # on the boundary: tick 2 is whole again
    out = model.finish()
    assert out["summary"]["errors"] == pytest.approx(100.0 * 40.0, rel=1e-9)


def test_az_outage_errors_do_not_depend_on_the_resolution() -> None:
    """The 35 s PostgreSQL failover in az-outage: 2,205 errors at 30 s and 60 s before, 1,286 at 1 s."""
    errors = {}
    for r in RESOLUTIONS:
        sc = load_scenario("scenarios/az-outage.yaml", overrides={"simulation.resolution": r})
        errors[r] = simulate(sc, duration=17 * 3600, progress=False).summary["errors"]
    assert errors["1s"] > 1000
    for r in RESOLUTIONS[1:]:
        assert abs(errors[r] - errors["1s"]) < 0.01 * errors["1s"], errors
