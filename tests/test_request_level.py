"""Request-level mode: queueing against closed forms, capacity changes, timeouts, determinism, options."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cases import load, mmc_scenario  # noqa: E402
from bench.closed_form import sojourn_mean, sojourn_quantile  # noqa: E402
from simkit.api import simulate  # noqa: E402
from simkit.engine.request_level import (  # noqa: E402
    RequestLevelResult,
    Timeline,
    _draw,
    _route_closure,
    _Station,
    run_request_level,
    simulate_timeline,
    timeline_from_result,
)
from simkit.scenario.loader import load_scenario  # noqa: E402


@pytest.fixture(scope="module")
def mmc_run():
    """M/M/12 at rho 0.7, 100 ms service: 84 req/s for 5 minutes (about 25k requests)."""
    fast = simulate(mmc_scenario(0.7, 12, 0.1, "5m"), progress=False)
    return fast, run_request_level(fast, seed=3)


def test_mmc_p95_matches_the_closed_form(mmc_run):
    _, rl = mmc_run
    assert rl.summary["requests"] == pytest.approx(84 * 300, rel=0.03)
    exact = 1000 * sojourn_quantile(0.95, 12, 84.0, 10.0)
    assert rl.summary["p95_ms.r"] == pytest.approx(exact, rel=0.05)


def test_mmc_mean_wait_matches_erlang_c(mmc_run):
    _, rl = mmc_run
    svc = rl.services
    mean_wait = float((svc["wait_ms_mean"] * svc["visits"]).sum() / svc["visits"].sum())
    exact = 1000 * (sojourn_mean(12, 84.0, 10.0) - 0.1)  # about 5.1 ms
    assert mean_wait == pytest.approx(exact, rel=0.25)
    assert svc["timeouts"].sum() == 0


def test_tables_have_the_fast_modes_shape(mmc_run):
    fast, rl = mmc_run
    assert isinstance(rl, RequestLevelResult)
    assert list(rl.routes.columns) == list(fast.routes.columns)
    assert len(rl.routes) == len(fast.routes)
    np.testing.assert_array_equal(rl.routes["t_s"], fast.routes["t_s"])
    np.testing.assert_array_equal(rl.routes["load_rps"], fast.routes["load_rps"])
    assert (rl.services["servers"] == 12).all()
    assert rl.summary["availability"] == 1.0 and rl.summary["errors"] == 0
    assert rl.summary["simulated_s"] == 300.0


def test_same_seed_same_result_other_seed_differs(mmc_run):
    fast, rl = mmc_run
    again = run_request_level(fast, seed=3)
    pd.testing.assert_frame_equal(rl.routes, again.routes)
    pd.testing.assert_frame_equal(rl.services, again.services)
    assert rl.summary == again.summary
    other = run_request_level(fast, seed=4)
    assert other.summary["requests"] != rl.summary["requests"]


def test_max_requests_stops_on_a_tick_boundary(mmc_run):
    fast, _ = mmc_run
    rl = run_request_level(fast, seed=3, max_requests=12_000)
    assert rl.summary["requests"] <= 12_000
    assert len(rl.routes) == 2  # two 60 s ticks of ~5,000 requests fit, a third does not
    assert rl.summary["simulated_s"] == 120.0
    with pytest.raises(ValueError):
        run_request_level(fast, seed=3, max_requests=0)


def _single(timeout: str = "5s"):
    return load("single-service", **{"workloads.0.serving.timeout": timeout}).scenario


def test_no_servers_means_every_request_times_out():
    """Servers 4,4,0,0,4,4 per minute: arrivals in the outage wait 5 s and give up, unless the
    servers come back within their 5 s (the last 5 s of the outage)."""
    sc = _single("5s")
    t = np.arange(6) * 60.0
    tl = Timeline(t, np.full(6, 60.0), {"r": np.full(6, 10.0)}, {"svc": np.array([4, 4, 0, 0, 4, 4])})
    rl = simulate_timeline(sc, tl, seed=1)
    r = rl.routes.set_index("t_s")
    assert (r.loc[[0.0, 60.0, 240.0, 300.0], "errors"] == 0).all()
    assert r.loc[120.0, "errors"] == r.loc[120.0, "requests"]
    assert r.loc[180.0, "errors"] == pytest.approx(r.loc[180.0, "requests"] * 55 / 60, abs=25)
    assert r.loc[180.0, "errors"] < r.loc[180.0, "requests"]
    assert rl.summary["errors"] == rl.services["timeouts"].sum()
    assert r.loc[180.0, "p99_ms"] > 4000  # the survivors waited up to 5 s


def test_fewer_servers_let_requests_in_service_finish():
    env = simpy.Environment()
    st = _Station(env, "s", float("inf"), 1)
    st.set_capacity(2)
    started: dict[str, float] = {}

    def job(name: str, hold: float):
        req = st.request()
        yield req
        started[name] = env.now
        yield env.timeout(hold)
        st.free(req)

    def shrink():
        yield env.timeout(1)
        st.set_capacity(1)  # both servers busy until t = 5 and t = 10

    def late():
        yield env.timeout(2)
        yield env.process(job("c", 1))

    env.process(job("a", 5))
    env.process(job("b", 10))
    env.process(shrink())
    env.process(late())
    env.run()
    assert started == {"a": 0, "b": 0, "c": 10}  # not 5: one server is left, and b holds it


def test_more_servers_start_waiting_requests_at_once():
    env = simpy.Environment()
    st = _Station(env, "s", float("inf"), 1)
    started: list[float] = []

    def job():
        req = st.request()
        yield req
        started.append(env.now)
        yield env.timeout(100)
        st.free(req)

    for _ in range(3):
        env.process(job())

    def grow():
        yield env.timeout(7)
        st.set_capacity(3)

    env.process(grow())
    env.run()
    assert started == [7, 7, 7]


def test_service_time_distributions():
    rng = np.random.default_rng(0)
    assert (_draw(rng, 0.2, 0.0, 10) == 0.2).all()
    for cv in (0.5, 1.0, 1.5):
        x = _draw(rng, 0.2, cv, 400_000)
        assert x.mean() == pytest.approx(0.2, rel=0.01)
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.03)
    assert (_draw(rng, 0.2, 0.5, 1000) > 0).all()


def test_route_selection_keeps_routes_that_share_a_service():
    sc = load_scenario()
    assert _route_closure(sc, ["login"]) == {"api-read", "api-write", "files", "login"}  # all share kong
    assert _route_closure(sc, None) == {r.name for r in sc.traffic.routes}
    with pytest.raises(ValueError, match="unknown route"):
        _route_closure(sc, ["nope"])


def test_default_platform_matches_the_fast_mode():
    """20 minutes of the seed platform at 2x load near the daily peak: routes and task queues."""
    sc = load_scenario(overrides={"traffic.load.growth": 2, "traffic.load.start_hour": 13})
    fast = simulate(sc, seed=2, duration=1200, progress=False)
    tl = timeline_from_result(fast)
    assert set(tl.service_servers) == set(fast.services["service"])
    assert set(tl.queue_servers) == {q.name for q in sc.traffic.queues}
    rl = run_request_level(fast, seed=2)
    assert rl.summary["requests"] == pytest.approx(fast.summary["requests"], rel=0.02)
    for route in ("api-read", "api-write"):
        assert rl.summary[f"p95_ms.{route}"] == pytest.approx(fast.summary[f"p95_ms.{route}"], rel=0.05)
    assert set(rl.queues["queue"]) == {q.name for q in sc.traffic.queues}
    assert rl.queues["arrivals"].sum() == pytest.approx(fast.queues["arrivals"].sum(), rel=0.03)
