"""Small versions of the four benchmarks (bench/cases.py), for correctness only: no timing assertions."""

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cases  # noqa: E402
from bench.closed_form import erlang_c, sojourn_mean, sojourn_quantile, sojourn_survival  # noqa: E402
from simkit.api import simulate  # noqa: E402


def test_closed_form_reference_values():
    """The reference itself: M/M/1 has P(wait) = rho and an Exp(mu - lambda) response time."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert sojourn_mean(1, 7.0, 10.0) == pytest.approx(1 / 3)
    assert sojourn_quantile(0.95, 1, 7.0, 10.0) == pytest.approx(math.log(20) / 3, rel=1e-9)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook: M/M/2 at a = 1
    assert sojourn_survival(0.0, 12, 84.0, 10.0) == pytest.approx(1.0)


def test_fast_mode_matches_mmc_closed_form_at_rho_07():
    rows = cases.table_closed_form(rhos=(0.7,), duration="10m")
    assert {r["metric"] for r in rows} == {"mean", "P50", "P95", "P99"}
    for r in rows:
        assert abs(r["err_pct"]) <= 1.0, r


def test_fast_vs_request_level_on_a_short_diurnal_run():
    """Three hours of the two-tier diurnal scenario across the daily peak (about 75k requests)."""
    loaded = cases.load("two-tier", **{"traffic.load.start_hour": 12.5, "simulation.duration": "3h"})
    row = cases.compare(cases.Case("diurnal 3h", loaded, transient=False), seed=5)
    assert row["requests"] == pytest.approx(5 * 1.45 * 3 * 3600, rel=0.05)
    assert abs(row["p95_err_pct"]) <= 5.0, row
    assert row["errors_fast"] == 0 and row["errors_rl"] == 0


def _spike(duration: str = "15m", at: str = "5m") -> cases.Case:
    loaded = cases.load(
        "single-service",
        **{
            "traffic.load.base_rps": 72,
            "workloads.0.serving.timeout": "10s",
            "traffic.load.spikes": [{"at": at, "factor": 240 / 72, "hold": "5m"}],
            "simulation.duration": duration,
        },
    )
    return cases.Case("spike", loaded, transient=True)


def test_request_level_overload_errors_match_the_fluid_count():
    """2x capacity (240 vs 120 req/s) for 300 s with a 10 s timeout: the queue fills to
    capacity x timeout = 1,200 and every further excess request gives up: 120 x 300 - 1,200."""
    case = _spike()
    fast = simulate(case.loaded, progress=False)
    rl, _ = cases.run_requests(fast, seed=2)
    assert rl.summary["errors"] == pytest.approx(120 * 300 - 1200, rel=0.05)


def test_fast_vs_request_level_errors_in_a_short_overload():
    """Each overload error is counted once (the fluid excess); the slow served requests stay in the P95."""
    row = cases.compare(_spike(), seed=2)
    assert abs(row["errors_err_pct"]) <= 15.0, row
    assert abs(row["p95_err_pct"]) <= 15.0, row


def test_az_loss_hook_cuts_a_third_of_the_servers():
    loaded = cases.load("single-service", **{"simulation.duration": "10m"})
    fast, _ = cases.run_fast(loaded, cases.az_loss_hook(120, 240))
    servers = (fast.services["ready_replicas"] * 4).round().astype(int).tolist()
    assert servers == [12, 12, 8, 8, 8, 8, 12, 12, 12, 12]


def test_speed_measure_runs_and_reports():
    from bench.speed import measure

    r = measure(0.05)  # 72 simulated minutes
    assert r["requests"] > 0 and r["wall_s"] > 0 and r["peak_rss_mb"] > 0
    assert r["sim_s_per_wall_s"] == pytest.approx(0.05 * 86400 / r["wall_s"])


def test_speedup_runs_both_modes_on_the_same_load():
    r = cases.speedup(duration="2m", rps=200.0, repeats=1)
    assert r["requests"] == pytest.approx(200 * 120, rel=0.05)
    assert r["ratio"] == pytest.approx(r["rl_s"] / r["fast_s"])
    assert r["p95_rl_ms"] == pytest.approx(r["p95_fast_ms"], rel=0.05)


def test_near_critical_row_compares_against_the_mean_of_replays():
    """Table 2b, small: at rho 1.05 the fluid count is within 20 % of the replays' mean; at rho 1.0
    the near-critical diffusion (simkit/traffic/critical_band.py) puts the fast P95 within 30 % of
    the replays' mean (the stationary/fluid model alone reported under half of it)."""
    over = cases.near_critical(1.05, seeds=(1, 2), scale=0.5)
    assert over["seeds"] == 2 and over["errors_rl_sd"] >= 0
    assert abs(cases.rel_err(over["errors_fast"], over["errors_rl_mean"])) < 20
    critical = cases.near_critical(1.0, seeds=(1, 2), scale=0.5)
    assert abs(cases.rel_err(critical["p95_fast_ms"], critical["p95_rl_mean_ms"])) < 30


def test_plans_speed_measure_runs_both_months():
    """bench/plans.py (table 3b) on 2 days: both runs, a rollout a day, each complete."""
    from bench import plans

    assert [p["start"] for p in plans.daily_rollouts(2)] == [36000.0, 122400.0]
    r = plans.measure(days=2, repeat=1)
    assert r["outcomes"] == {"Complete": 2}
    assert r["plain_s"] > 0 and r["rollouts_s"] > 0 and r["ratio"] == r["rollouts_s"] / r["plain_s"]
