"""SLOs over windows (issue 11 item 2): true window P95s, failures in the distribution, error budgets."""

from __future__ import annotations

import numpy as np
import pytest

import simkit
from simkit.cli import main
from simkit.engine.traffic import _WindowTicks, route_windows, tick_columns
from simkit.errors import ScenarioError
from simkit.scenario.loader import load_scenario
from simkit.scenario.slos import DEFAULT_COMPLIANCE, DEFAULT_LATENCY_WINDOW_S, Objective, latency_objective
from simkit.traffic.queueing import Component
from simkit.traffic.windows import availability_budget

SPIKE = {
    "simulation.duration": "14h",
    "simulation.resolution": "30s",
    "traffic.load.spikes": [{"at": "10h", "ramp": "2m", "hold": "20m", "ramp_down": "5m", "factor": 5}],
}


def test_a_duration_takes_the_documented_default_window_and_compliance() -> None:
    sc = load_scenario()
    route = sc.traffic.routes[0]
    assert latency_objective(sc.slos, route) == Objective(0.2, DEFAULT_LATENCY_WINDOW_S, DEFAULT_COMPLIANCE)
    assert (DEFAULT_LATENCY_WINDOW_S, DEFAULT_COMPLIANCE) == (300.0, 0.999)
    assert sc.slos.availability_window == 30 * 86400


def test_the_mapping_forms_set_target_window_and_compliance() -> None:
    sc = load_scenario(
        overrides={
            "slos.p95_latency": {"target": "150ms", "window": "10m", "compliance": "99%"},
            "slos.availability": {"target": "99.5%", "window": "7d"},
            "traffic.routes.1.p95_target": {"target": "300ms", "window": "1m"},
        }
    )
    assert sc.slos.p95_latency == pytest.approx(0.15)  # old readers still find the scalar
    assert (sc.slos.availability, sc.slos.availability_window) == (pytest.approx(0.995), 7 * 86400)
    assert latency_objective(sc.slos, sc.traffic.routes[0]) == Objective(0.15, 600.0, 0.99)
    assert latency_objective(sc.slos, sc.traffic.routes[1]) == Objective(
        0.3, 60.0, 0.99
    )  # compliance inherited


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"target": "150ms", "windw": "10m"}, "slos.p95_latency.windw: unknown key; expected target, window"),
        ({"target": "150ms", "window": "x"}, "slos.p95_latency.window: expected a duration"),
        ({"window": "5m"}, "slos.p95_latency.target: field required"),
        ({"target": "1s", "compliance": "150%"}, "slos.p95_latency.compliance: input should be less than"),
    ],
)
def test_a_bad_objective_names_its_path_and_line(value: object, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(overrides={"slos.p95_latency": value})
    assert message in str(info.value) and "(line " in str(info.value)


def _synthetic(n: int = 40) -> tuple[list[Component], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p_wait = np.where(np.arange(n) % 7 == 0, 0.9, rng.uniform(0.0, 0.3, n))
    rate = np.where(np.arange(n) % 7 == 0, 2.0, rng.uniform(20.0, 80.0, n))
    comp = Component(p_wait=p_wait, wait_rate_per_s=rate, mean_service_s=0.05, service_cv=1.0)
    offered = rng.uniform(50.0, 500.0, n)
    errors = np.where(np.arange(n) % 11 == 0, 0.3 * offered, 0.0)
    return [comp], offered, errors


def test_the_window_p95_is_the_quantile_of_its_requests_not_an_average_of_tick_p95s() -> None:
    comps, offered, errors = _synthetic()
    n, dt, timeout = offered.size, 15.0, 30.0
    t_s = np.arange(n) * dt
    ticks = _WindowTicks(t_s, np.full(n, dt), 300.0)
    q, windows, stats = route_windows(
        comps, [tick_columns(comps[0])], 0.0, ticks, Objective(0.2, 300.0, 0.99), offered, errors, timeout
    )
    rng = np.random.default_rng(0)
    c = comps[0]
    p, rate = np.asarray(c.p_wait), np.asarray(c.wait_rate_per_s)
    for w in range(2):  # Monte Carlo of the window's requests: served (wait + service) and failed ones
        idx = np.arange(20 * w, 20 * w + 20)
        served = offered[idx] - errors[idx]
        draws = 400_000
        tick = rng.choice(idx, size=draws, p=offered[idx] / offered[idx].sum())
        fails = rng.random(draws) < errors[tick] / offered[tick]
        wait = np.where(rng.random(draws) < p[tick], rng.exponential(1 / rate[tick]), 0.0)
        lat = np.minimum(wait + rng.exponential(0.05, draws), timeout)
        lat[fails] = timeout
        exact = float(np.quantile(lat, 0.95))
        assert windows.p95_s[w] == pytest.approx(exact, rel=0.02)
        average = float(np.average(q[idx, 1], weights=served))
        assert abs(average - exact) > 0.05 * exact  # what the per-tick average would have said
    assert windows.requests == pytest.approx([offered[:20].sum(), offered[20:].sum()])
    assert list(windows.met) == [bool(x <= 0.2) for x in windows.p95_s]
    assert stats["p95_worst_window_ms"] == pytest.approx(1000 * np.nanmax(windows.p95_s))


def test_value_margin_and_verdict_agree_with_the_share_of_windows_met() -> None:
    comps, offered, errors = _synthetic(400)
    n = offered.size
    ticks = _WindowTicks(np.arange(n) * 15.0, np.full(n, 15.0), 300.0)
    cols = [tick_columns(comps[0])]
    for target in (0.05, 0.1, 0.2, 0.5, 1.0, 5.0):
        for compliance in (0.5, 0.8, 0.95, 1.0):
            _, w, s = route_windows(
                comps, cols, 0.0, ticks, Objective(target, 300.0, compliance), offered, errors, 30.0
            )
            assert s["p95_compliance"] == pytest.approx(w.met.mean())
            assert (s["p95_window_ms"] <= 1000 * target) == (s["p95_compliance"] >= compliance - 1e-12)
            assert s["p95_over_s"] == pytest.approx(300.0 * (~w.met).sum())


def test_availability_budget_prorates_a_short_run_and_takes_the_worst_window_of_a_long_one() -> None:
    t = np.arange(10) * 60.0
    req, err = np.full(10, 1000.0), np.array([0, 0, 0, 5, 5, 0, 0, 0, 0, 0], dtype=float)
    short = availability_budget(t, np.full(10, 60.0), req, err, 0.999, 3600.0)
    assert short.availability == pytest.approx(1 - 10 / 10_000)
    assert short.error_budget == pytest.approx(0.001 * 10_000 * 6)  # the hour's budget, from the run's rate
    assert short.used == pytest.approx(1.0)
    long = availability_budget(t, np.full(10, 60.0), req, err, 0.999, 120.0)
    assert long.availability == pytest.approx(1 - 10 / 2000)  # minutes 3-4: both bad minutes
    assert long.error_budget == pytest.approx(2.0) and long.used == pytest.approx(5.0)
    assert long.window_start_s == 180.0


@pytest.fixture(scope="module")
def growth_runs() -> dict[int, simkit.RunResult]:
    runs = {}
    for g in range(1, 7):
        sc = load_scenario("scenarios/traffic-spike.yaml", overrides={**SPIKE, "traffic.load.growth": g})
        runs[g] = simkit.simulate(sc, progress=False)
    return runs


def test_more_load_never_looks_faster(growth_runs: dict[int, simkit.RunResult]) -> None:
    """Whole-run and worst-window P95 are non-decreasing in load (failures count at the timeout)."""
    for route in ("api-read", "api-write", "files", "login"):
        for key in ("p95_ms", "p95_worst_window_ms", "p95_worst_5m_ms"):
            values = [growth_runs[g].summary[f"{key}.{route}"] for g in range(1, 7)]
            assert all(b >= a - 1e-9 for a, b in zip(values, values[1:], strict=False)), (route, key, values)
    assert growth_runs[6].summary["errors"] > 0  # the sweep reaches overload


def test_checks_keep_the_old_columns_and_add_the_windowed_ones(
    growth_runs: dict[int, simkit.RunResult],
) -> None:
    r = growth_runs[3]
    checks = r.checks.set_index("target")
    assert {"threshold", "value", "passed", "margin", "reason", "unit"} <= set(r.checks)
    row = checks.loc["p95 api-write"]
    assert row["whole_run"] == pytest.approx(r.summary["p95_ms.api-write"])
    assert row["worst_window"] == pytest.approx(r.summary["p95_worst_window_ms.api-write"])
    assert row["passed"] == (row["margin"] >= 0) == (row["compliance"] >= row["compliance_target"])
    assert checks.loc["availability", "budget_used"] >= 0
    table = r.slo_windows
    assert list(table.columns) == ["t_s", "route", "window_s", "requests", "errors", "p95_ms", "met"]
    assert len(table) == 4 * 14 * 12
    api = table[table["route"] == "api-write"]
    assert api["requests"].sum() == pytest.approx(
        r.routes.loc[r.routes["route"] == "api-write", "requests"].sum()
    )
    assert (~api["met"]).sum() * 300 == pytest.approx(row["time_over_s"])


def test_check_gates_on_the_windowed_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """Growth 3: the whole-run P95 meets 200 ms, the spike's windows do not; check exits 1."""
    sets = ["--set", "traffic.load.growth=3"] + [
        x for k, v in SPIKE.items() if k != "traffic.load.spikes" for x in ("--set", f"{k}={v}")
    ]
    sets += ["--set", "traffic.load.spikes.0.at=10h"]
    code = main(["check", "scenarios/traffic-spike.yaml", "--no-progress", *sets])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "MISSED: P95 of api-write over 200.0 ms for" in out


def test_a_route_without_requests_has_no_latency_verdict_to_miss() -> None:
    """Issue 14: with zero load every route used to be 'missed' with a NaN P95 (and 100 % of windows met)."""
    result = simkit.simulate(
        simkit.load_scenario(overrides={"traffic.load.base_rps": 0}), duration=3600, progress=False
    )
    assert not result.checks["target"].str.startswith("p95 ").any()
    assert result.passed
