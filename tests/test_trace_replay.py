"""Request-level replay of an events trace's own timestamps, and the arrivals' index of dispersion."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.api import simulate
from simkit.engine.request_level import run_request_level, timeline_from_result
from simkit.engine.traffic import TrafficModel
from simkit.scenario.model import Scenario
from simkit.traffic.load import arrival_dispersion, replay_multiplier, thinned_dispersion, trace_events

AZURE = Path(__file__).resolve().parents[1].parent / "shared/traces/azure_llm_inference_2023"
AZURE = AZURE if AZURE.is_dir() else Path("/work/shared/traces/azure_llm_inference_2023")
CONV = AZURE / "AzureLLMInferenceTrace_conv.csv"


def scenario(
    trace: dict | None, routes: list[dict] | None = None, duration: str = "5m", resolution: str = "60s"
):
    """One service of 4 servers x 50 ms behind one (or more) routes, driven by `trace` (else 40 req/s)."""
    return Scenario.model_validate(
        {
            "name": "replay",
            "cluster": {
                "provider": "aws",
                "region": "us-east-1",
                "zones": ["us-east-1a"],
                "node_pools": [{"name": "p", "instance_type": "m5.xlarge", "min_nodes": 1, "max_nodes": 1}],
            },
            "workloads": [
                {
                    "name": "svc",
                    "replicas": 1,
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                    "serving": {"concurrency": 4, "service_time": "50ms", "timeout": "30s"},
                }
            ],
            "traffic": {
                "load": {"trace": trace} if trace else {"base_rps": 40},
                "routes": routes or [{"name": "r", "share": 1.0, "path": ["svc"]}],
            },
            "simulation": {"duration": duration, "seed": 1, "resolution": resolution},
        }
    )


@pytest.fixture()
def events_csv(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A small events trace with irregular (bursty) times over 5 minutes, ISO timestamps."""
    rng = np.random.default_rng(7)
    gaps = rng.exponential(0.5, 1500) * rng.choice([0.05, 3.0], 1500, p=[0.8, 0.2])
    t = np.cumsum(gaps)
    t = t[t < 330.0]
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(t, unit="s")
    path = tmp_path / "events.csv"
    pd.DataFrame({"TIMESTAMP": stamps.strftime("%Y-%m-%d %H:%M:%S.%f"), "x": 1}).to_csv(path, index=False)
    return path, t


def in_run(t: np.ndarray, offset: float = 0.0, end: float = 300.0) -> np.ndarray:
    """The trace's times as the run sees them: from its grid origin (the first whole second), shifted."""
    rel = np.sort(t) - np.floor(t.min()) - offset
    return rel[(rel >= 0) & (rel < end)]


def nearest_gap(a: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Distance from each of `a` to the nearest of the sorted `base`."""
    i = np.clip(np.searchsorted(base, a), 1, base.size - 1)
    return np.minimum(np.abs(a - base[i - 1]), np.abs(a - base[i]))


def replayed(result, seed: int = 1, base_dir: Path | None = None) -> np.ndarray:
    rl = run_request_level(result, seed=seed, base_dir=base_dir)
    return np.sort(np.concatenate(list(rl.arrival_s.values())))


def test_unscaled_trace_is_replayed_at_its_own_timestamps(events_csv):
    path, t = events_csv
    fast = simulate(scenario({"path": str(path), "format": "events"}), progress=False)
    times = replayed(fast)
    # the trace's grid starts at the whole second of its first request
    np.testing.assert_allclose(times, in_run(t), atol=1e-5)
    assert replayed(fast, seed=2).size == in_run(t).size  # every request exactly once, whatever the seed


def test_offset_and_window_cut_the_trace(events_csv):
    path, t = events_csv
    sc = scenario({"path": str(path), "format": "events", "offset": "1m"}, duration="2m")
    times = replayed(simulate(sc, progress=False))
    np.testing.assert_allclose(times, in_run(t, 60.0, 120.0), atol=1e-5)


def test_a_looped_trace_repeats_its_requests_lap_after_lap(events_csv):
    path, t = events_csv
    sc = scenario({"path": str(path), "format": "events", "loop": True, "offset": "200s"}, duration="10m")
    times = replayed(simulate(sc, progress=False))
    rel = np.sort(t) - np.floor(t.min())
    lap = np.floor(rel.max()) + 1.0  # the grid's length: whole seconds up to the last request
    laps = np.concatenate([rel + k * lap for k in range(4)]) - 200.0
    np.testing.assert_allclose(times, laps[(laps >= 0) & (laps < 600)], atol=1e-5)


def test_scaled_trace_thins_and_replicates_deterministically(events_csv):
    path, t = events_csv
    base = in_run(t)
    half = simulate(scenario({"path": str(path), "format": "events", "scale": 0.5}), progress=False)
    a, b, c = replayed(half, 1), replayed(half, 1), replayed(half, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert nearest_gap(a, base).max() < 1e-5  # a subset of the trace's own times
    assert abs(a.size - 0.5 * base.size) < 4 * np.sqrt(0.25 * base.size)
    more = replayed(simulate(scenario({"path": str(path), "format": "events", "scale": 2.5}), progress=False))
    assert nearest_gap(more, base).max() < 1e-5
    copies = np.bincount(np.searchsorted(base, more - 1e-5), minlength=base.size)
    assert set(copies.tolist()) <= {2, 3}
    assert abs(more.size - 2.5 * base.size) < 4 * np.sqrt(0.25 * base.size)


def test_routes_share_the_trace_requests(events_csv):
    path, t = events_csv
    routes = [
        {"name": "a", "share": 0.3, "path": ["svc"]},
        {"name": "b", "share": 0.7, "path": ["svc"]},
    ]
    fast = simulate(scenario({"path": str(path), "format": "events"}, routes), progress=False)
    rl = run_request_level(fast, seed=3)
    both = np.sort(np.concatenate([rl.arrival_s["a"], rl.arrival_s["b"]]))
    np.testing.assert_allclose(both, in_run(t), atol=1e-5)
    n = in_run(t).size
    assert abs(rl.arrival_s["a"].size - 0.3 * n) < 4 * np.sqrt(0.21 * n)


def test_relative_trace_path_needs_the_scenario_directory(events_csv, monkeypatch, tmp_path):
    path, t = events_csv
    monkeypatch.chdir(tmp_path)
    fast = simulate(scenario({"path": path.name, "format": "events"}), progress=False)
    monkeypatch.chdir(Path(__file__).parent)
    assert replayed(fast, base_dir=tmp_path).size == in_run(t).size


def test_rate_traces_and_synthetic_load_stay_poisson():
    sc = scenario(None)
    fast = simulate(sc, progress=False)
    assert timeline_from_result(fast).events_s is None
    assert TrafficModel(sc, 300.0, np.random.default_rng(0)).arrival_scv is None
    # the Poisson draws are unchanged: the replay's first three random streams are those of before
    old = np.random.SeedSequence(5).spawn(3)
    new = np.random.SeedSequence(5).spawn(4)[:3]
    for o, n in zip(old, new, strict=True):
        assert np.random.default_rng(o).random() == np.random.default_rng(n).random()
    a, b = run_request_level(fast, seed=4), run_request_level(fast, seed=4)
    assert a.summary == b.summary and a.summary["requests"] > 0


@pytest.mark.skipif(not CONV.is_file(), reason="needs ../shared/traces")
def test_azure_conversation_trace_replayed_exactly():
    sc = scenario({"path": str(CONV), "format": "events"}, duration="10m")
    times = replayed(simulate(sc, progress=False))
    raw = pd.to_datetime(pd.read_csv(CONV, usecols=["TIMESTAMP"])["TIMESTAMP"]).astype("int64") / 1e9
    rel = np.sort(raw.to_numpy() - np.floor(raw.min()))
    np.testing.assert_allclose(times, rel[rel < 600.0], atol=1e-5)


# ------------------------------------------------------------------------ index of dispersion
@settings(max_examples=15, deadline=None)
@given(rate=st.floats(2.0, 30.0), seed=st.integers(0, 10_000))
def test_poisson_arrivals_have_index_one(rate, seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1800, rng.poisson(rate * 1800)))
    ticks = np.arange(30) * 60.0
    idc = arrival_dispersion(t, ticks, np.full(30, 60.0))
    assert abs(float(idc.mean()) - 1.0) < 0.12


def test_rate_changes_between_ticks_do_not_count():
    rng = np.random.default_rng(1)
    parts = [
        np.sort(rng.uniform(60 * i, 60 * (i + 1), rng.poisson(60 * (2 if i % 2 else 20)))) for i in range(30)
    ]
    idc = arrival_dispersion(np.concatenate(parts), np.arange(30) * 60.0, np.full(30, 60.0))
    assert abs(float(idc.mean()) - 1.0) < 0.1


@pytest.mark.parametrize("batch", [2, 3, 5])
def test_batches_raise_the_index_to_the_batch_size(batch):
    rng = np.random.default_rng(batch)
    t = np.repeat(np.sort(rng.uniform(0, 1800, 3 * 1800)), batch)
    idc = arrival_dispersion(t, np.arange(30) * 60.0, np.full(30, 60.0))
    assert float(idc.mean()) == pytest.approx(batch, rel=0.1)


@pytest.mark.parametrize("m", [0.3, 0.5, 1.0, 1.5, 2.5])
def test_replay_multiplier_formula_matches_a_replayed_stream(m):
    rng = np.random.default_rng(11)
    t = np.repeat(np.sort(rng.uniform(0, 3600, 4 * 3600)), 2)  # index 2
    ticks, widths = np.arange(60) * 60.0, np.full(60, 60.0)
    whole = np.floor(m)
    copies = int(whole) + (rng.random(t.size) < m - whole)
    measured = arrival_dispersion(np.repeat(t, copies), ticks, widths)
    rate = np.bincount((t // 60).astype(int), minlength=60) / 60.0 * m
    mult = replay_multiplier(t, ticks, widths, rate)
    np.testing.assert_allclose(mult, m, rtol=1e-9)
    predicted = arrival_dispersion(t, ticks, widths, mult)
    assert float(predicted.mean()) == pytest.approx(float(measured.mean()), rel=0.08)


def test_thinning_moves_the_index_towards_one():
    idc = np.array([1.0, 3.0, 13.0])
    np.testing.assert_allclose(thinned_dispersion(idc, 0.5), [1.0, 2.0, 7.0])
    np.testing.assert_allclose(thinned_dispersion(idc, 1.0), idc)


@pytest.mark.skipif(not CONV.is_file(), reason="needs ../shared/traces")
def test_fast_mode_carries_the_traces_dispersion():
    sc = scenario({"path": str(CONV), "format": "events"}, duration="30m")
    model = TrafficModel(sc, 1800.0, np.random.default_rng(0))
    assert model.arrival_scv is not None and model.arrival_scv.shape == (30,)
    assert np.isfinite(model.arrival_scv).all()
    assert 0.8 < float(model.arrival_scv.mean()) < 2.0  # the measured value: about 1.05 (ANALYSIS.md)
    events = trace_events(sc.traffic.load, model.t_s, tick_s=60.0)
    assert events is not None and events.size == int(model.load_rps.sum() * 60 + 0.5)


def test_fast_mode_passes_arrival_scv_when_service_ticks_takes_it(events_csv, monkeypatch):
    """The agreed interface: `service_ticks(..., arrival_scv=...)`, one value per tick computed."""
    import simkit.engine.traffic as engine_traffic

    path, _ = events_csv
    sc = scenario({"path": str(path), "format": "events"})
    original = engine_traffic.service_ticks
    seen: list[np.ndarray] = []

    def taking(*args, arrival_scv=1.0, **kwargs):
        seen.append(np.atleast_1d(np.asarray(arrival_scv, dtype=float)))
        return original(*args, **kwargs)

    monkeypatch.setattr(engine_traffic, "service_ticks", taking)
    monkeypatch.setattr(engine_traffic, "_TAKES_SCV", True)
    model = TrafficModel(sc, 300.0, np.random.default_rng(0))
    model.set_ready("svc", 1, 0.0)
    model.finish_all()
    assert model.arrival_scv is not None
    np.testing.assert_allclose(np.concatenate(seen), model.arrival_scv)  # all the load reaches svc
    assert (model.arrival_scv > 1.2).any()  # the fixture's trace is bursty inside its minutes
