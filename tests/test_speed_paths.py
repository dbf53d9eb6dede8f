"""Shortcuts taken for speed give what the general code gives (no timings here: those are in bench/)."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from simkit.analysis.cost import (
    NODE_SECONDS_COLUMNS,
    cost_breakdown,
    cost_frame,
    cost_rows,
    monthly_total,
    rows_total,
)
from simkit.api import build_result, restore_times, simulate
from simkit.catalog import HOURS_PER_MONTH, load_catalog
from simkit.engine.simulation import EngineOutput, run_engine
from simkit.engine.traffic import TrafficTables, _unique_rows
from simkit.results import Deferred, RunResult
from simkit.scenario.cost import CostSpec
from simkit.traffic import queueing_latency as ql
from simkit.traffic.queueing import Component, latency_quantiles, mmc_metrics, sojourn_cdf


@pytest.mark.parametrize(("mean", "cv"), [(0.1, 1.0), (0.04, 0.8), (0.2, 0.5), (0.05, 2.0), (0.003, 0.3)])
def test_one_visit_is_the_fft_sum_of_one_visit(mean: float, cv: float) -> None:
    fft, direct = ql._ServiceSum([(mean, cv)]), ql._OneService(mean, cv)
    assert isinstance(ql.service_sum(((mean, cv),)), ql._OneService)
    assert direct.h == fft.h
    np.testing.assert_array_equal(direct.x, fft.x)
    np.testing.assert_allclose(direct.f, fft.f, rtol=0, atol=1e-15)
    assert not direct.f.flags.writeable and not direct.x.flags.writeable
    end = fft.x[-1]
    xs = np.concatenate(
        [[-1.0, 0.0, fft.h / 4, end, 2 * end], np.linspace(0, 3 * end, 4001), fft.x[1::97] * 1.0000001]
    )
    np.testing.assert_allclose(direct.cdf(xs), fft.cdf(xs), rtol=0, atol=1e-15)
    for q in (-1.0, 0.0, 1e-12, 0.001, 0.5, 0.95, 0.99, 1 - 5e-6, 1 - 1e-9, 1 - 1e-14, 1.0):
        assert direct.quantile(q) == fft.quantile(q), q


def test_a_deterministic_or_repeated_visit_uses_the_fft() -> None:
    assert isinstance(ql.service_sum(((0.1, 0.0),)), ql._ServiceSum)
    assert isinstance(ql.service_sum(((0.1, 1.0), (0.1, 1.0))), ql._ServiceSum)


# -- deferred tables ------------------------------------------------------------------------------
TABLES = ("services", "routes", "queues", "nodes", "replicas", "events", "decisions", "pending", "faults")


@pytest.fixture(scope="module")
def day() -> RunResult:
    return simulate(duration=86400, progress=False)


def test_deferred_tables_are_built_once_and_pickle_unbuilt(day: RunResult) -> None:
    fresh = simulate(duration=86400, progress=False)
    assert all(isinstance(vars(fresh)[name], Deferred) for name in (*TABLES, "cost", "checks"))
    copy = pickle.loads(pickle.dumps(fresh))
    assert isinstance(vars(copy)["services"], Deferred)
    for name in (*TABLES, "cost", "checks"):
        table = getattr(fresh, name)
        assert isinstance(table, pd.DataFrame)
        assert getattr(fresh, name) is table  # built once, then kept
        pd.testing.assert_frame_equal(getattr(copy, name), table)
        pd.testing.assert_frame_equal(table, getattr(day, name))
    fresh.routes = fresh.routes.head(3)
    assert len(fresh.routes) == 3


def test_engine_output_tables_read_as_dataframes(default_hour: RunResult) -> None:
    sc = default_hour.scenario
    out = run_engine(sc, seed=sc.simulation.seed, duration_s=3600.0, progress=False)
    assert isinstance(out.traffic, TrafficTables) and isinstance(out.traffic.raw("routes"), Deferred)
    assert isinstance(out.traffic["routes"], pd.DataFrame)
    assert out.traffic.raw("routes") is out.traffic["routes"]
    result = build_result(sc, "x", sc.simulation.seed, out)
    assert result.routes is out.traffic["routes"]


def test_a_result_built_from_dataframes_keeps_them(day: RunResult) -> None:
    tables = {name: getattr(day, name) for name in (*TABLES, "cost", "checks")}
    made = RunResult(day.scenario, day.seed, "h", "v", day.duration_s, summary=dict(day.summary), **tables)
    assert all(getattr(made, name) is table for name, table in tables.items())
    bare = {k: v for k, v in tables.items() if k not in ("pending", "faults")}
    empty = RunResult(day.scenario, day.seed, "h", "v", day.duration_s, summary={}, **bare)
    pd.testing.assert_frame_equal(empty.pending, pd.DataFrame(columns=["t_s", "pending_pods"]))
    assert list(empty.faults.columns) == ["t_s", "kind", "target", "detail", "restore_s"]
    other = RunResult(day.scenario, day.seed, "h", "v", day.duration_s, summary={}, **bare)
    assert empty.faults.empty and empty.pending is not other.pending  # a table each, not a shared one


# -- plain-Python summaries -----------------------------------------------------------------------
def _groupby_node_usd(frame: pd.DataFrame, duration_s: float) -> list[float]:
    """Monthly USD per (pool, capacity, type) from pandas' groupby-sum (the reference)."""
    labels = frame["capacity_type"].str.lower().str.replace("_", "-").replace({"ondemand": "on-demand"})
    keys = ["pool", "capacity_type", "instance_type"]
    sums = frame.assign(capacity_type=labels).groupby(keys)["node_seconds"].sum()
    catalog = load_catalog()
    return [
        float(s) / duration_s * catalog.instance("aws", "us-east-1", itype).usd_hour(cap) * HOURS_PER_MONTH
        for (_, cap, itype), s in sums.items()
    ]


def test_node_seconds_records_give_pandas_groupby_sums_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        rows = [
            {
                "pool": str(rng.choice(["a", "b", "c"])),
                "instance_type": str(rng.choice(["t3.large", "m5.xlarge"])),
                "capacity_type": str(rng.choice(["spot", "on-demand", "OnDemand", "on_demand"])),
                "zone": "z",
                "node_seconds": float(rng.random() * 10 ** rng.integers(0, 9)),
            }
            for _ in range(int(rng.integers(0, 60)))
        ]
        frame = pd.DataFrame(rows, columns=NODE_SECONDS_COLUMNS)
        duration = float(rng.random() * 1e6 + 1)
        spec = CostSpec()
        listed = cost_rows(rows, duration, "aws", "us-east-1", spec)
        nodes = [r.monthly_usd for r in listed if r.category == "compute"]
        assert nodes == _groupby_node_usd(frame, duration)
        table = cost_breakdown(frame, duration, "aws", "us-east-1", spec)
        pd.testing.assert_frame_equal(cost_frame(listed), table, check_exact=True)
        assert rows_total(listed) == monthly_total(table)
        workers = table.loc[table["component"].str.startswith("worker nodes"), "monthly_usd"]
        assert rows_total(listed, "worker nodes") == float(workers.sum())


def _restore_reference(
    faults: list[tuple[float, str, str, str]], shortfall: list[tuple[float, int]]
) -> list[float]:
    """Time to restore per fault, as the pandas version computed it."""
    short = pd.DataFrame(shortfall, columns=["t_s", "missing"])
    out = []
    for t in pd.DataFrame(faults, columns=["t_s", "kind", "target", "detail"])["t_s"]:
        after = short[short["t_s"] >= t]
        hit = after.index[after["missing"] > 0]
        if not len(hit):
            out.append(0.0)
            continue
        healed = after.loc[hit[0] :]
        healed = healed[healed["missing"] == 0]
        out.append(float(healed["t_s"].iloc[0] - t) if len(healed) else float("inf"))
    return out


def test_restore_times_match_the_pandas_version() -> None:
    rng = np.random.default_rng(4)
    for _ in range(300):
        n = int(rng.integers(0, 30))
        shortfall = [
            (float(t), int(m))
            for t, m in zip(np.sort(rng.integers(0, 50, n)) * 10.0, rng.integers(0, 3, n), strict=True)
        ]
        faults = [(float(t), "k", "x", "") for t in rng.integers(0, 60, int(rng.integers(0, 4))) * 10.0]
        out = EngineOutput(1.0, fault_rows=faults, shortfall_rows=shortfall)
        assert restore_times(out) == _restore_reference(faults, shortfall)


# -- latency set up once per route ----------------------------------------------------------------
def _route_components() -> list[Component]:
    """Two services over ticks from idle to overload: several grid levels, quiet and FFT ticks."""
    lam = np.linspace(1.0, 130.0, 700)
    api = mmc_metrics(lam, np.full(lam.size, 12), 0.1)
    db = mmc_metrics(lam * 2, np.full(lam.size, 4), 0.01, cv=0.5)
    fluid = np.where(lam > 115, 0.05, 0.0)
    return [
        Component(api.p_wait, api.wait_rate_per_s, 0.1, fluid_delay_s=fluid),
        Component(db.p_wait, db.wait_rate_per_s, 0.01, service_cv=0.5, calls=2),
    ]


@pytest.mark.parametrize("keep", [0, 4096])
def test_route_latency_asked_twice_gives_the_one_shot_answers(keep: int) -> None:
    comps = _route_components()
    ql.service_sum.cache_clear()
    quantiles = latency_quantiles(comps, (0.5, 0.95, 0.99), hop_overhead_s=0.002)
    grid = np.linspace(0.0, 2.0, 300)
    cdf = sojourn_cdf(comps, grid, hop_overhead_s=0.002)
    ql.service_sum.cache_clear()
    model = ql.RouteLatency(comps, hop_overhead_s=0.002, keep_ticks=keep)
    np.testing.assert_array_equal(model.quantiles((0.5, 0.95, 0.99)), quantiles)
    np.testing.assert_array_equal(model.cdf(grid), cdf)
    np.testing.assert_array_equal(model.cdf(grid), cdf)
    assert np.isfinite(quantiles).all() and len(set(model._route.levels)) > 2


def test_level_tables_do_not_depend_on_which_levels_came_first() -> None:
    comps = _route_components()
    ql.service_sum.cache_clear()
    whole = latency_quantiles(comps)
    ql.service_sum.cache_clear()
    for part in (slice(600, 700), slice(0, 50), slice(300, 400)):  # levels met in another order
        latency_quantiles(
            [
                replace(
                    c,
                    p_wait=c.p_wait[part],
                    wait_rate_per_s=c.wait_rate_per_s[part],
                    fluid_delay_s=np.broadcast_to(c.fluid_delay_s, (700,))[part],
                )
                for c in comps
            ]
        )
    np.testing.assert_array_equal(latency_quantiles(comps), whole)


def test_unique_rows_is_np_unique_by_rows() -> None:
    rng = np.random.default_rng(5)
    values = np.array([0.0, 1e-7, 0.5, 1.0, 2.0, 1e300, np.inf, 3.25])
    for _ in range(500):
        width = int(rng.choice([3, 6, 9]))
        distinct = rng.choice(values, size=(int(rng.integers(1, 20)), width))
        table = distinct[rng.integers(0, distinct.shape[0], int(rng.integers(1, 300)))]
        rows, inverse = np.unique(table, axis=0, return_inverse=True)
        got_rows, got_inverse = _unique_rows(table)
        np.testing.assert_array_equal(got_rows, rows)
        np.testing.assert_array_equal(got_inverse, inverse.reshape(-1))
    with_nan = np.array([[np.nan, 1.0, 0.0], [np.nan, 1.0, 0.0], [0.0, 1.0, 0.0]])
    assert _unique_rows(with_nan)[0].shape == (3, 3)  # NaN rows stay apart, as in np.unique


def _grid_quantiles_one_by_one(cdf: np.ndarray, step: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The quantile inversion one quantile at a time (the reference)."""
    n = cdf.shape[1]
    out = np.empty((cdf.shape[0], q.size))
    rows = np.arange(cdf.shape[0])
    for j, qj in enumerate(q):
        k = np.count_nonzero(cdf < qj, axis=1)
        kk = np.minimum(k, n - 1)
        f_hi = cdf[rows, kk]
        f_lo = np.where(kk > 0, cdf[rows, np.maximum(kk - 1, 0)], 0.0)
        x_lo = np.where(kk > 0, kk - 0.5, 0.0)
        span = np.where(kk > 0, 1.0, 0.5)
        frac = np.clip((qj - f_lo) / np.where(f_hi > f_lo, f_hi - f_lo, 1.0), 0.0, 1.0)
        out[:, j] = np.where(k < n, (x_lo + frac * span) * step, np.inf)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_quantiles_all_at_once_match_one_by_one(dtype: type) -> None:
    rng = np.random.default_rng(6)
    for trial in range(300):
        cdf = np.sort(rng.random((int(rng.integers(1, 40)), 64)), axis=1)
        if trial % 3 == 0:
            cdf = np.minimum(1.2 * cdf, 1.0)  # reaches 1 before the end
        if trial % 5 == 0:
            cdf[:, :20] = 0.0
        cdf = cdf.astype(dtype)
        if trial % 7 == 0:
            cdf = np.broadcast_to(cdf[0], cdf.shape)  # a quiet chunk: one row for all ticks
        step = rng.random(cdf.shape[0]) * 0.01
        q = rng.choice([0.0, 0.3, 0.5, 0.95, 0.99, 1.0], size=int(rng.integers(1, 5)))
        np.testing.assert_array_equal(
            ql._grid_quantiles(cdf, step, q), _grid_quantiles_one_by_one(cdf, step, q)
        )
