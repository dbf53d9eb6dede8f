"""Monte Carlo verdicts: Wilson intervals, `summarize_runs`, and `simkit run|check --seeds N`."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simkit
from simkit.analysis.montecarlo import mean_interval, seeds_needed, summarize_runs, wilson_interval
from simkit.cli import main
from simkit.replicate import replicate
from simkit.scenario.loader import load_scenario


@pytest.mark.parametrize(
    ("met", "n", "low", "high"),
    [  # Wilson score intervals at 95 %, to 4 decimals; n/n has the closed form n / (n + z^2)
        (3, 8, 0.1368, 0.6943),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_interval_known_values(met, n, low, high):
    got = wilson_interval(met, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_matches_scipy_binomtest():
    for n in (1, 2, 5, 8, 20, 73, 1000):
        for met in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = stats.binomtest(met, n).proportion_ci(0.95, method="wilson")
            assert wilson_interval(met, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    ci = stats.binomtest(7, 9).proportion_ci(0.9, method="wilson")
    assert wilson_interval(7, 9, confidence=0.9) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_seeds_needed_is_the_first_n_whose_clean_lower_bound_clears():
    assert seeds_needed(0.95) == 73
    assert wilson_interval(73, 73)[0] >= 0.95 > wilson_interval(72, 72)[0]
    assert seeds_needed(0.5) == 4 and wilson_interval(4, 4)[0] >= 0.5 > wilson_interval(3, 3)[0]


def test_mean_interval_of_a_non_negative_quantity_stays_non_negative():
    """Bimodal P95s (two seeds with a failover at 9 s, eight at 0.15 s): the t bound would be < 0."""
    x = np.array([9.0, 9.0] + [0.15] * 8)
    mean, low, high = mean_interval(x)
    assert mean - (high - mean) < 0  # the plain t interval crosses zero here
    assert low == 0.0 and high > mean
    signed = x - 1.0  # a quantity that can be negative (a margin) keeps the plain t interval
    m2, low2, high2 = mean_interval(signed)
    assert low2 == pytest.approx(m2 - (high2 - m2)) and low2 < 0


def test_mean_interval_is_student_t():
    x = np.array([99.90, 99.95, 99.80, 100.0, 99.97])
    mean, low, high = mean_interval(x)
    t_low, t_high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (mean, low, high) == pytest.approx((x.mean(), t_low, t_high))
    assert math.isnan(mean_interval(np.array([1.0]))[1])


def _runs(availability_met, zone=None):
    n = len(availability_met)
    frame = pd.DataFrame(
        {
            "seed": range(n),
            "passed": availability_met,
            "passed.availability": availability_met,
            "value.availability": [99.95 if m else 99.85 for m in availability_met],
            "margin.availability": [0.05 if m else -0.05 for m in availability_met],
            "threshold.availability": 99.9,
            "unit.availability": "%",
            "passed.cost per month": True,
            "value.cost per month": 1500.0,
            "margin.cost per month": 8500.0,
            "threshold.cost per month": 10000.0,
            "unit.cost per month": "USD",
        }
    )
    if zone is not None:
        frame.insert(1, "zone", zone)
    return frame


def test_summarize_runs_rows_and_rule():
    table = summarize_runs(_runs([True, False, True, False, False, True, False, False]))
    assert list(table["target"]) == ["all targets", "availability", "cost per month"]
    avail = table.set_index("target").loc["availability"]
    assert (avail["n"], avail["met"], avail["p_met"]) == (8, 3, 3 / 8)
    assert (avail["ci_low"], avail["ci_high"]) == pytest.approx((0.1368, 0.6943), abs=5e-5)
    assert avail["unit"] == "%" and avail["threshold"] == 99.9
    assert avail["p50"] == pytest.approx(99.85) and avail["mean"] == pytest.approx(99.8875)
    assert not table["passed"].any()  # 8/8 cost cannot clear 0.95 either: its lower bound is 0.676
    lenient = summarize_runs(_runs([True] * 8), require=0.6).set_index("target")
    assert lenient["passed"].all()
    single = summarize_runs(_runs([True]), require=None).set_index("target")
    assert single["passed"].all()  # one seed: the plain rule, not an interval
    assert not summarize_runs(_runs([False]), require=None).set_index("target").loc["availability", "passed"]


def test_a_zone_batch_counts_each_seed_at_its_worst_zone():
    runs = _runs([True, False, True, True], zone=["a", "b", "a", "b"]).assign(seed=[0, 0, 1, 1])
    table = summarize_runs(runs, require=None).set_index("target")
    assert table.loc["availability", "n"] == 2 and table.loc["availability", "met"] == 1
    assert table.loc["availability", "mean"] == pytest.approx(99.90)  # seed 0 at zone b, seed 1 at either
    worst = simkit.analysis.montecarlo.worst_per_seed(runs)
    assert list(worst["zone.availability"]) == ["b", "a"] and list(worst["passed"]) == [False, True]
    assert simkit.probability_met(runs)["availability"] == 0.5


def test_results_are_identical_with_one_and_two_workers():
    sc = load_scenario(
        "scenarios/az-outage.yaml",
        overrides={
            "faults.az_outages.0.at": "20m",
            "faults.az_outages.0.duration": "10m",
            "simulation.duration": "1h",
        },
    )
    one = replicate(sc, seeds=range(3), n_jobs=1, progress=False)
    two = replicate(sc, seeds=range(3), n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(summarize_runs(one), summarize_runs(two))
    assert one["value.availability"].nunique() > 1  # the seeds really differ


def test_run_seeds_prints_intervals_and_the_rule(capsys):
    code = main(["run", "--seeds", "2", "--duration", "1h", "--no-progress", "--jobs", "1"])
    text = capsys.readouterr().out
    assert code == 1  # 2 clean seeds cannot show 0.95
    assert "2 seeds (42 to 43)" in text
    assert "rule: a target passes when the lower bound of the Wilson 95% interval" in text
    assert ">= 0.95 (--require)" in text and "0.95 takes 73 seeds" in text
    assert "availability" in text and "2/2" in text and "0.342-1.000" in text
    assert "MISSED: availability held in all 2 seeds, too few to show 0.95" in text


def test_run_seeds_passes_when_the_lower_bound_clears_require(capsys):
    code = main(["run", "--seeds", "2", "--require", "0.3", "--duration", "1h", "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert text.startswith("PASS") and "MISSED" not in text and ">= 0.3 (--require)" in text


def test_check_seeds_exit_1_when_a_scenario_misses(capsys):
    argv = ["check", "scenarios/platform-baseline.yaml", "scenarios/az-outage.yaml", "--seeds", "2"]
    options = ["--require", "0.3", "--duration", "1h", "--no-progress", "--set", "slos.p95_latency=50ms"]
    code = main([*argv, *options])
    text = capsys.readouterr().out
    assert code == 1
    assert "FAIL scenarios/platform-baseline.yaml" in text and "FAIL scenarios/az-outage.yaml" in text
    assert "MISSED: p95 api-read held in 0 of 2 seeds" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--seeds", "0"], "--seeds: expected a whole number from 1 to 1000000"),
        (["run", "--seeds", "x"], "--seeds: expected a whole number"),
        (["run", "--seeds", "2", "--require", "1"], "--require: expected a probability strictly between"),
        (["check", "scenarios/az-outage.yaml", "--require", "0"], "--require: expected a probability"),
        (["run", "--seeds", "2", "--mode", "request"], "--mode request replays one run"),
        (["run", "--seeds", "2", "--out", "x"], "--out writes one run's tables"),
    ],
)
def test_bad_seeds_options_exit_2_with_one_line(argv, message, capsys):
    code = main([*argv, "--duration", "1h", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err
