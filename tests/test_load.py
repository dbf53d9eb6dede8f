"""Load profiles: the synthetic shape, spikes, noise, and real traces read from ../shared/traces."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simkit.scenario.load import LoadProfile
from simkit.traffic.load import load_trace, rate_series, read_trace

REPO = Path(__file__).resolve().parents[1]
NASA_REL = "../shared/traces/nasa_http_1995/nasa_http_1995_requests_per_minute.csv"
AZURE_REL = "../shared/traces/azure_llm_inference_2023/AzureLLMInferenceTrace_conv.csv"
NASA_TOTAL = 3_461_610  # README: 84,333 rows, 3,461,610 requests
DAY, WEEK = 86_400.0, 7 * 86_400.0


def profile(**fields: Any) -> LoadProfile:
    return LoadProfile.model_validate(fields)


def rates(p: LoadProfile, t: np.ndarray, seed: int = 0, base_dir: Path = REPO, **kw: Any) -> np.ndarray:
    return rate_series(p, t, np.random.default_rng(seed), base_dir=base_dir, **kw)


def grid(seconds: float, step: float) -> np.ndarray:
    return np.arange(0.0, seconds, step)


def needs(rel: str) -> Path:
    path = (REPO / rel).resolve()
    if not path.is_file():
        pytest.skip(f"real trace not available at {path} (../shared/traces is outside the repo)")
    return path


# ------------------------------------------------------------------------------ synthetic shape


def test_daily_cosine_has_configured_mean_peak_and_trough() -> None:
    p = profile(base_rps=40, daily={"amplitude": 0.6, "peak_hour": 14})
    t = grid(DAY, 60)
    r = rates(p, t)
    assert r.mean() == pytest.approx(40.0, rel=1e-12)
    assert t[np.argmax(r)] == 14 * 3600
    assert r.max() == pytest.approx(64.0)
    assert t[np.argmin(r)] == 2 * 3600
    assert r.min() == pytest.approx(16.0)


def test_daily_profile_is_normalised_to_mean_one_and_hits_its_knots() -> None:
    factors = [1.0] * 12 + [3.0] * 12  # mean 2 -> rescaled to 0.5 / 1.5
    p = profile(base_rps=10, daily={"profile": factors})
    t = grid(DAY, 3600)
    r = rates(p, t)
    np.testing.assert_allclose(r, [5.0] * 12 + [15.0] * 12)
    assert rates(p, grid(DAY, 60)).mean() == pytest.approx(10.0)
    assert rates(p, np.array([11.5 * 3600]))[0] == pytest.approx(10.0)  # linear between 11:00 and 12:00


def test_weekend_factor_scales_saturday_and_sunday_only() -> None:
    p = profile(base_rps=100, daily={"amplitude": 0.5, "peak_hour": 10}, weekly={"weekend_factor": 0.6})
    r = rates(p, grid(WEEK, 300)).reshape(7, -1)
    day_means = r.mean(axis=1)
    np.testing.assert_allclose(day_means, [100, 100, 100, 100, 100, 60, 60], rtol=1e-12)
    assert r.mean() == pytest.approx(100 * (5 + 2 * 0.6) / 7)
    assert p.nominal_mean_rps() == pytest.approx(100 * 6.2 / 7)


def test_start_weekday_and_hour_shift_the_calendar() -> None:
    p = profile(base_rps=1, weekly={"weekend_factor": 0.5}, start_weekday="friday", start_hour=23)
    r = rates(p, np.array([0.0, 3599.0, 3600.0, 2 * DAY + 3600.0]))
    np.testing.assert_array_equal(r, [1.0, 1.0, 0.5, 1.0])  # Fri 23:00, Sat 00:00, Mon 00:00


def test_growth_multiplies_exactly() -> None:
    shape = {"base_rps": 37, "daily": {"amplitude": 0.4, "peak_hour": 9}, "weekly": {"weekend_factor": 0.7}}
    spikes = [{"at": "1d", "ramp": "3m", "hold": "5m", "factor": 3}]
    t = grid(WEEK, 60)
    one = rates(profile(**shape, spikes=spikes), t)
    ten = rates(profile(**shape, spikes=spikes, growth=10), t)
    np.testing.assert_array_equal(ten, one * 10)


# ------------------------------------------------------------------------------------ spikes


def test_spike_ramps_to_factor_holds_and_returns() -> None:
    p = profile(base_rps=100, spikes=[{"at": "2d3h", "ramp": "2m", "hold": "10m", "factor": 5}])
    at = 2 * DAY + 3 * 3600
    t = np.array([at - 1, at, at + 60, at + 120, at + 120 + 599, at + 720 + 60, at + 840, at + 3600])
    np.testing.assert_allclose(rates(p, t), [100, 100, 300, 500, 500, 300, 100, 100])
    r = rates(p, grid(3 * DAY, 10))
    assert r.max() == pytest.approx(500.0)
    assert np.count_nonzero(np.isclose(r, 500.0)) == 61  # the hold, 10 s ticks: at+120 .. at+720


def test_spike_without_ramp_is_a_step_and_dips_are_allowed() -> None:
    p = profile(base_rps=10, spikes=[{"at": 100, "hold": 50, "factor": 0.2, "ramp_down": 0}])
    np.testing.assert_allclose(rates(p, np.array([99.0, 100.0, 149.0, 150.0])), [10, 2, 2, 10])


# ------------------------------------------------------------------------------------- noise


def test_noise_is_reproducible_and_multiplicative_with_configured_cv() -> None:
    p = profile(base_rps=50, noise={"cv": 0.05})
    t = grid(DAY * 10, 10)
    a, b, c = rates(p, t, seed=7), rates(p, t, seed=7), rates(p, t, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    ratio = a / 50
    assert ratio.mean() == pytest.approx(1.0, abs=0.002)
    assert ratio.std() == pytest.approx(0.05, rel=0.03)


def test_noise_uses_only_its_own_stream() -> None:
    t = grid(DAY, 60)
    noisy = profile(base_rps=50, noise={"cv": 0.1})
    traffic, other = np.random.SeedSequence(42).spawn(2)
    first = rate_series(noisy, t, np.random.default_rng(traffic))
    other_rng = np.random.default_rng(other)
    other_rng.random(1000)  # another subsystem draws in between
    again = rate_series(noisy, t, np.random.default_rng(traffic))
    np.testing.assert_array_equal(first, again)
    quiet = np.random.default_rng(1)
    before = quiet.bit_generator.state
    rate_series(profile(base_rps=50, noise={"cv": 0}), t, quiet)
    rate_series(profile(base_rps=50), t, quiet)
    assert quiet.bit_generator.state == before


# ------------------------------------------------------------------------------ generic traces


def write(tmp_path: Path, text: str, name: str = "trace.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_generic_rate_trace_is_averaged_over_ticks(tmp_path: Path) -> None:
    write(tmp_path, "time,rate\n0,10\n1,20\n2,30\n3,40\n")
    p = profile(trace={"path": "trace.csv", "rate_unit": "per_second"})
    run = lambda t, **kw: rate_series(p, t, np.random.default_rng(0), base_dir=tmp_path, **kw)  # noqa: E731
    np.testing.assert_allclose(run(np.array([0.0, 2.0])), [15, 35])
    np.testing.assert_allclose(run(np.arange(0, 4, 0.5)), [10, 10, 20, 20, 30, 30, 40, 40])
    np.testing.assert_allclose(run(np.array([1.0]), tick_s=2.0), [25])


def test_iso_count_trace_with_gap_skip_or_zero(tmp_path: Path) -> None:
    text = "t,n\n2024-01-01T00:00Z,60\n2024-01-01T00:01Z,120\n2024-01-01T00:04Z,180\n"
    path = write(tmp_path, text)
    t, r = load_trace(path, rate_unit="per_interval")
    np.testing.assert_array_equal(t, [0, 60, 120])
    np.testing.assert_allclose(r, [1, 2, 3])
    _, r0 = load_trace(path, rate_unit="per_interval", gaps="zero")
    np.testing.assert_allclose(r0, [1, 2, 0, 0, 3])


def test_trace_scale_offset_loop_and_growth(tmp_path: Path) -> None:
    write(tmp_path, "time,rate\n0,1\n10,3\n")  # 20 s, mean 2 req/s
    base = {"path": "trace.csv", "rate_unit": "per_second"}
    run = lambda **tr: rates(profile(trace={**base, **tr}, growth=2), grid(40, 10), base_dir=tmp_path)  # noqa: E731
    np.testing.assert_allclose(run(loop=True), [2, 6, 2, 6])
    np.testing.assert_allclose(run(loop=True, scale_to_mean_rps=10), [10, 30, 10, 30])
    np.testing.assert_allclose(run(loop=True, scale=3), [6, 18, 6, 18])
    np.testing.assert_allclose(run(loop=True, offset=10), [6, 2, 6, 2])
    with pytest.raises(ValueError, match=r"trace\.csv.*covers 20 s but the run needs 40 s.*loop: true"):
        run()


def test_trace_cache_follows_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "time,rate\n0,1\n1,2\n")
    p = profile(trace={"path": str(path), "rate_unit": "per_second"})
    first = read_trace(p.trace)  # type: ignore[arg-type]
    assert read_trace(p.trace) is first  # type: ignore[arg-type]
    path.write_text("time,rate\n0,5\n1,6\n2,7\n")
    os.utime(path, ns=(first_ns := path.stat().st_mtime_ns + 10**9, first_ns))
    second = read_trace(p.trace)  # type: ignore[arg-type]
    assert second is not first
    assert second.total == 18


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        (
            "when,rate\n0,1\n",
            {"time_column": "time"},
            r"bad header: no column 'time', expected one of \['when'",
        ),
        ("time\n0\n1\n", {}, r"bad header \['time'\]: expected at least 2 columns"),
        ("time,rate\n0,1\n1,abc\n", {}, r"line 3: cannot parse rate 'abc': expected a number"),
        ("time,rate\n0,1\nnoon,2\n", {}, r"line 3: cannot parse time 'noon': expected seconds or an ISO"),
        ("time,rate\n0,1\n1,-4\n", {}, r"line 3: negative rate -4: expected a rate or count >= 0"),
        ("time,rate\n", {}, r"no data rows: expected a header line"),
    ],
)
def test_bad_trace_files_name_the_file_and_the_problem(
    tmp_path: Path, text: str, options: dict[str, Any], expected: str
) -> None:
    path = write(tmp_path, text, "bad.csv")
    with pytest.raises(ValueError, match=expected) as info:
        load_trace(path, rate_unit="per_second", **options)
    assert str(path) in str(info.value)


def test_missing_trace_file_says_where_it_looked(tmp_path: Path) -> None:
    p = profile(trace={"path": "nope/trace.csv", "format": "events"})
    with pytest.raises(ValueError, match=r"trace file not found: expected a CSV file at .*nope/trace\.csv"):
        rate_series(p, grid(60, 1), np.random.default_rng(0), base_dir=tmp_path)


# ---------------------------------------------------------------------------- schema errors


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"daily": {"amplitude": 0.5}, "trace": {"path": "x.csv", "format": "events"}},
            r"`trace` replaces the synthetic shape, so daily must not be given",
        ),
        ({"base_rps": 1, "peak_rps": 2}, r"peak_rps\n  Extra inputs are not permitted"),
        ({"base_rps": -3}, r"base_rps\n  Input should be greater than or equal to 0"),
        ({"growth": 2}, r"expected `base_rps` \(mean req/s\) or a `trace`"),
        ({"base_rps": 1, "daily": {"peak_hour": 3}}, r"daily\n.*expected either `amplitude`"),
        (
            {"base_rps": 1, "daily": {"profile": [1, 2]}},
            r"daily.profile\n.*expected 24 hourly factors, got 2",
        ),
        ({"base_rps": 1, "weekly": {"profile": [1] * 6 + [-1]}}, r"expected non-negative day-of-week"),
        ({"base_rps": 1, "spikes": [{"at": "soon", "factor": 2}]}, r"spikes.0.at\n.*expected a duration"),
        ({"base_rps": 1, "start_weekday": 9}, r"expected a weekday name or 0 \(Monday\) .. 6"),
        ({"trace": {"path": "x.csv"}}, r"trace\n.*`rate_unit` is required for a series trace"),
        ({"trace": {"path": "x.csv", "format": "events", "rate_column": "n"}}, r"`rate_column`/`rate_unit`"),
        (
            {"trace": {"path": "x.csv", "format": "events", "scale": 2, "scale_to_mean_rps": 3}},
            r"give `scale` \(a multiplier\) or `scale_to_mean_rps` \(a target mean\), not both",
        ),
    ],
)
def test_bad_load_sections_say_what_was_expected(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        LoadProfile.model_validate(fields)


# -------------------------------------------------------------------------------- real traces


def nasa(**extra: Any) -> LoadProfile:
    needs(NASA_REL)
    return profile(trace={"path": NASA_REL, "rate_column": "requests", "rate_unit": "per_interval", **extra})


def test_nasa_trace_loads_with_documented_size() -> None:
    path = needs(NASA_REL)
    t, r = load_trace(path, rate_column="requests", rate_unit="per_interval")
    assert len(t) == 84_333  # one per row: the July/August hole is cut out, not interpolated
    assert t[1] - t[0] == 60
    assert r.sum() * 60 == NASA_TOTAL
    _, up = load_trace(path, rate_column="requests", rate_unit="per_interval", exclude_column="server_down")
    assert len(up) == 84_333 - 2_263
    assert up.mean() * 60 == pytest.approx(42.18, abs=0.01)  # README: mean 42 req/min, max 405
    assert up.max() * 60 == 405


def test_nasa_minute_totals_are_conserved_on_60s_and_300s_ticks() -> None:
    minutes = read_trace(nasa().trace).counts  # type: ignore[arg-type]
    per_minute = rates(nasa(), grid(len(minutes) * 60, 60)) * 60
    np.testing.assert_array_equal(np.rint(per_minute), minutes)
    assert np.rint(per_minute).sum() == NASA_TOTAL
    assert per_minute.sum() == pytest.approx(NASA_TOTAL, abs=1e-6)

    zero_filled = nasa(gaps="zero")  # 62 whole days, so 300 s ticks tile it exactly
    duration = read_trace(zero_filled.trace).duration_s  # type: ignore[arg-type]
    assert duration == 62 * DAY
    per_5min = rates(zero_filled, grid(duration, 300)) * 300
    assert np.rint(per_5min).sum() == NASA_TOTAL
    assert per_5min.sum() == pytest.approx(NASA_TOTAL, abs=1e-6)
    np.testing.assert_array_equal(np.rint(per_5min[:10]), minutes[:50].reshape(10, 5).sum(axis=1))


def test_nasa_scaled_to_a_mean_and_looped() -> None:
    p = nasa(scale_to_mean_rps=40, loop=True)
    duration = read_trace(p.trace).duration_s  # type: ignore[arg-type]
    assert rates(p, grid(duration, 60)).mean() == pytest.approx(40.0, rel=1e-12)
    r = rates(p, grid(2 * duration, 60))
    assert r.mean() == pytest.approx(40.0, rel=1e-12)
    np.testing.assert_allclose(r[: len(r) // 2], r[len(r) // 2 :])


def test_azure_events_aggregate_to_the_request_count() -> None:
    path = needs(AZURE_REL)
    with path.open() as f:
        requests = sum(1 for line in f if line.strip()) - 1
    assert requests == 19_366
    t, r = load_trace(path, format="events")
    assert r.sum() == requests
    assert r.max() == 19  # README: 1-second rate max 19, mean 5.5
    assert r.mean() == pytest.approx(5.5, abs=0.05)
    p = profile(trace={"path": AZURE_REL, "format": "events", "interval": "1m"})
    per_minute = rates(p, grid(read_trace(p.trace).duration_s, 60)) * 60  # type: ignore[arg-type]
    assert len(per_minute) == 60
    assert np.rint(per_minute).sum() == requests


# --------------------------------------------------------------------------------- properties

STEPS = [30.0, 60.0, 300.0, 600.0, 900.0, 3600.0]  # divide an hour, so ticks tile whole days


@settings(max_examples=60, deadline=None)
@given(
    base=st.floats(0, 1000),
    growth=st.floats(0.01, 100),
    amplitude=st.floats(0, 1),
    peak=st.floats(0, 23.99),
    weekend=st.floats(0, 3),
    weekday=st.integers(0, 6),
    days=st.integers(1, 15),
    step=st.sampled_from(STEPS),
)
def test_whole_days_average_to_base_times_growth_times_day_factors(
    base: float,
    growth: float,
    amplitude: float,
    peak: float,
    weekend: float,
    weekday: int,
    days: int,
    step: float,
) -> None:
    p = profile(
        base_rps=base,
        growth=growth,
        start_weekday=weekday,
        daily={"amplitude": amplitude, "peak_hour": peak},
        weekly={"weekend_factor": weekend},
    )
    r = rates(p, grid(days * DAY, step))
    day_factors = [1, 1, 1, 1, 1, weekend, weekend]
    expected = base * growth * np.mean([day_factors[(weekday + d) % 7] for d in range(days)])
    assert (r >= 0).all()
    assert r.mean() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    if days % 7 == 0:
        assert r.mean() == pytest.approx(base * growth * p.weekly_mean_factor(), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    hourly=st.lists(st.floats(0, 10), min_size=24, max_size=24).filter(lambda v: sum(v) > 1e-3),
    spikes=st.lists(
        st.fixed_dictionaries(
            {
                "at": st.floats(0, 2 * DAY),
                "ramp": st.floats(0, 3600),
                "hold": st.floats(0, 3600),
                "factor": st.floats(0, 20),
            }
        ),
        max_size=3,
    ),
    cv=st.floats(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_rates_are_never_negative(
    hourly: list[float], spikes: list[dict[str, float]], cv: float, seed: int
) -> None:
    p = profile(base_rps=10, daily={"profile": hourly}, noise={"cv": cv}, spikes=spikes)
    r = rates(p, grid(3 * DAY, 120), seed=seed)
    assert np.isfinite(r).all()
    assert (r >= 0).all()
