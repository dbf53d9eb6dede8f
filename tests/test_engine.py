"""The engine end to end on the default scenario: golden summary, determinism, invariants."""

import numpy as np
import pandas as pd
import pytest

from simkit.api import simulate
from simkit.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def day(default_day):
    return default_day  # tests/conftest.py: shared with test_allocation


def test_golden_summary_of_the_default_scenario(day):
    """Figures of one simulated day at seed 7. A change here is a change of the model: explain it."""
    s = day.summary
    assert s["requests"] == pytest.approx(2_160_000, rel=1e-9)  # 25 req/s x 86,400 s (daily shape has mean 1)
    assert s["errors"] == pytest.approx(0.0, abs=1e-6)
    assert s["availability"] == pytest.approx(1.0)
    # bff-service and validation-service have CPU for 2.5 requests per pod: 3 servers per pod at 5/6 speed
    # (traffic.pod_servers), was floor(3 x 2.5) = 7 full-speed servers (115.0, 154.1, 149.7 ms)
    assert s["p95_ms.api-read"] == pytest.approx(121.2, rel=0.01)
    assert s["p95_ms.api-write"] == pytest.approx(168.0, rel=0.01)
    assert s["p95_ms.files"] == pytest.approx(154.7, rel=0.01)
    assert s["p95_ms.login"] == pytest.approx(102.4, rel=0.01)
    assert s["cost_usd_month"] == pytest.approx(1500.94, abs=0.01)
    assert s["node_cost_usd_month"] == pytest.approx(890.89, abs=0.01)  # 3 x (0.0716 + 0.252 + 0.0832) x 730
    assert day.passed


def test_same_seed_same_numbers():
    a = simulate(seed=3, duration=6 * 3600, progress=False)
    b = simulate(seed=3, duration=6 * 3600, progress=False)
    for name in ("services", "routes", "queues", "nodes", "replicas", "events", "cost", "checks"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.summary == b.summary


def test_load_follows_the_daily_shape(day):
    routes = day.routes.groupby("t_s")["load_rps"].sum()
    hour = (routes.index.to_numpy() // 3600) % 24
    by_hour = routes.groupby(hour).mean()
    assert by_hour.idxmax() == 14 and by_hour.idxmin() == 2  # peak_hour 14, trough 12 h later
    assert by_hour.max() == pytest.approx(25 * 1.5, rel=0.01)


def test_every_pod_is_placed_and_ready(day):
    last = day.replicas.groupby("workload").last()
    assert (last["ready"] == last["desired"]).all()
    assert not (day.events["reason"] == "Unschedulable").any()


def test_nodes_per_pool_and_zone(day):
    first = day.nodes.groupby(["pool", "zone"])["nodes"].last()
    assert len(first) == 9 and (first == 1).all()


def test_ten_x_load_costs_latency(day):
    sc = load_scenario(overrides={"traffic.load.growth": 10})
    ten = simulate(sc, seed=7, duration=6 * 3600, progress=False)
    first6 = day.routes.loc[day.routes["t_s"] < 6 * 3600, "requests"].sum()
    assert ten.summary["requests"] == pytest.approx(10 * first6, rel=1e-9)
    util = ten.services.groupby("service")["utilization"].max()
    base = day.services[day.services["t_s"] < 6 * 3600].groupby("service")["utilization"].max()
    assert (util >= base - 1e-12).all() and (util > base).any()


def test_overload_turns_into_timeouts_and_errors():
    """With far too few servers the fluid backlog fills and requests time out: availability drops."""
    sc = load_scenario(overrides={"traffic.load.growth": 60})
    r = simulate(sc, seed=1, duration=6 * 3600, progress=False)
    assert r.summary["errors"] > 0
    assert r.summary["availability"] < 0.999
    assert not r.passed
    assert any("availability" in f for f in r.failures)
    # conservation per service: arrivals = served + timed out + change in backlog, summed over the run
    svc = r.services
    assert (svc["timeouts"] >= 0).all() and (svc["backlog"] >= 0).all()


def test_results_are_tidy_with_units_in_names(day):
    assert {"t_s", "service", "load_rps", "utilization", "latency_p95_ms", "timeouts"} <= set(day.services)
    assert {"t_s", "route", "requests", "errors", "p95_ms"} <= set(day.routes)
    assert day.services["t_s"].is_monotonic_increasing is False  # long format: one block per service
    assert np.isfinite(day.routes["p95_ms"]).all()
    assert "all targets met" in repr(day)
    assert "<b>RunResult</b>" in day._repr_html_()


def test_pods_that_do_not_fit_at_start_make_the_autoscaler_add_nodes():
    # 40 bff pods: the app pool is too small; a cold start leaves them pending for the autoscaler
    sc = load_scenario(overrides={"workloads.4.replicas": 40, "simulation.start": "cold"})
    r = simulate(sc, duration=3600, seed=1, progress=False)
    assert r.pending["pending_pods"].iloc[0] > 0 and r.pending["pending_pods"].iloc[-1] == 0
    d = r.decisions
    ups = d[(d["controller"] == "cluster-autoscaler") & (d["to"] > d["from"])]
    assert len(ups) >= 1 and ups["t_s"].min() <= 20  # the first scan after the start
    last = r.replicas.groupby("workload").last()
    assert (last["ready"] == last["desired"]).all()
