"""engine/cloud.py: launching, refusing and retrying nodes through the cloud seam."""

from __future__ import annotations

import pytest

import simkit
from simkit.engine.cloud import ASG_RETRY_S
from simkit.engine.simulation import Engine

POOLS = [{"name": "app", "instance_type": "m6i.xlarge", "min_nodes": 1, "max_nodes": 6, "autoscaling": False}]


def engine(**overrides) -> Engine:
    sc = simkit.load_scenario(
        None,
        overrides={
            "cluster.zones": ["a", "b"],
            "cluster.node_pools": POOLS,
            "cluster.cluster_autoscaler": None,
            **overrides,
        },
    )
    eng = Engine(sc, seed=1, duration_s=3600.0)
    eng._bootstrap()
    return eng


def app_nodes(eng: Engine) -> list[str]:
    return sorted(n.name for n in eng.state.alive_nodes() if n.pool == "app")


def test_a_launch_joins_after_its_delay():
    eng = engine()
    pool = eng.scenario.pool("app")
    before = app_nodes(eng)
    eng.cloud.launch(pool, "b", 90.0)
    assert eng.cloud.provisioning["app"]
    eng.env.run(until=89.0)
    assert app_nodes(eng) == before
    eng.env.run(until=91.0)
    assert len(app_nodes(eng)) == len(before) + 1 and not eng.cloud.provisioning["app"]


@pytest.mark.parametrize(
    ("setup", "refusal"),
    [
        ({}, ""),
        ({"zones_down": True}, "zone unavailable"),
        (
            {"faults.spot.shortages": [{"at": "0s", "duration": "1h", "pool": "app"}]},
            "InsufficientInstanceCapacity (spot capacity not available)",
        ),
    ],
)
def test_refusal(setup, refusal):
    down = setup.pop("zones_down", False)
    eng = engine(**setup)
    if down:
        eng.cloud.zones_down.add("a")
    assert eng.cloud.refusal(eng.scenario.pool("app"), "a") == refusal


def test_a_refused_replacement_is_retried_and_reported():
    eng = engine()
    pool = eng.scenario.pool("app")
    eng.cloud.zones_down.update({"a", "b"})
    before = app_nodes(eng)
    eng.cloud.launch(pool, "a", 60.0, keep_trying=True)
    eng.env.run(until=61.0)
    assert eng.cloud.launch_failures == ["app"] and app_nodes(eng) == before
    eng.cloud.zones_down.clear()
    eng.env.run(until=61.0 + ASG_RETRY_S + 61.0)
    assert len(app_nodes(eng)) == len(before) + 1


def test_cancel_and_launch_zone():
    eng = engine()
    pool = eng.scenario.pool("app")
    zone = eng.cloud.launch_zone(pool)
    eng.cloud.launch(pool, zone, 60.0)
    assert eng.cloud.launch_zone(pool) != zone  # the next launch spreads to the other zone
    eng.cloud.cancel("app", 1)
    before = app_nodes(eng)
    eng.env.run(until=120.0)
    assert app_nodes(eng) == before
