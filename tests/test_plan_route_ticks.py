"""The rows a plan's window reads of the routes table (analysis/route_ticks.py), bit for bit the rows
of the whole-table mask: from the built table read by time span (`RouteTicks`), and from the traffic
model's arrays before the table is built (`RouteArrays`, what `simulate` uses). Hypothesis."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.analysis.plans import _route_window
from simkit.analysis.route_ticks import RouteArrays, RouteTicks
from simkit.engine.traffic import _route_table, deferred_route_parts
from simkit.results import Deferred

ROUTES = ("a", "b", "c")


@st.composite
def route_parts(
    draw: st.DrawFn,
) -> tuple[np.ndarray, list[tuple[str, float, np.ndarray, np.ndarray, np.ndarray]], float]:
    """A routes table's inputs: tick times, per route (name, share, requests, errors, q)."""
    dt = draw(st.sampled_from([1.0, 15.0, 60.0, 0.1]))
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t_s = np.arange(n) * dt
    parts = []
    for name in draw(st.lists(st.sampled_from(ROUTES), min_size=0, max_size=3, unique=True)):
        q = rng.uniform(0.001, 0.3, size=(n, 3))
        q[rng.random(n) < 0.1, 1] = np.nan  # ticks without a latency
        parts.append(
            (name, 0.5, rng.integers(0, 50, n).astype(float), rng.integers(0, 3, n).astype(float), q)
        )
    return t_s, parts, dt


def _whole_mask(
    table: pd.DataFrame, names: list[str], start: float, end: float, dt: float
) -> tuple[np.ndarray, ...]:
    if table.empty:
        return tuple(np.empty(0) for _ in range(4))
    t = table["t_s"]
    mask = (table["route"].isin(names) & (t + dt > start) & (t < max(end, start + 1e-9))).to_numpy()
    return tuple(table[c].to_numpy()[mask] for c in ("t_s", "requests", "errors", "p95_ms"))


@settings(max_examples=200, deadline=None)
@given(
    route_parts(),
    st.floats(-100, 4000, allow_nan=False),
    st.floats(0, 3000, allow_nan=False),
    st.lists(st.sampled_from(ROUTES), min_size=1, max_size=3, unique=True),
    st.floats(0, 0.5),
)
def test_span_and_arrays_read_the_whole_table_mask(
    inputs: tuple[np.ndarray, list, float], start: float, length: float, names: list[str], error_rate: float
) -> None:
    t_s, parts, dt = inputs
    end = start + length
    table = _route_table(t_s, np.ones(t_s.size), parts)
    deferred = deferred_route_parts(Deferred(_route_table, (t_s, np.ones(t_s.size), parts)))
    assert deferred is not None
    readers = [RouteTicks(table), RouteArrays(*deferred)]
    whole = RouteTicks(table)
    whole._ordered = False  # the reference reader: every row compared
    want = _whole_mask(table, names, start, end, dt)
    share = [(start, 0.25), (start + length / 2, 0.75)]
    window = _route_window(whole, names, start, end, dt, error_rate, share)
    for reader in readers:
        if not reader.empty:
            for got, expected in zip(reader.rows(names, start, end, dt), want, strict=True):
                np.testing.assert_array_equal(got, expected)  # same values, same order, NaN where NaN
        np.testing.assert_array_equal(
            np.array(_route_window(reader, names, start, end, dt, error_rate, share)), np.array(window)
        )


def test_unordered_table_is_read_whole() -> None:
    routes = pd.DataFrame(
        {
            "t_s": [60.0, 0.0],
            "route": ["a", "a"],
            "requests": [3.0, 5.0],
            "errors": [0.0, 1.0],
            "p95_ms": [9, 7.0],
        }
    )
    ticks = RouteTicks(routes)
    assert not ticks._ordered
    assert _route_window(ticks, ["a"], 0.0, 30.0, 60.0, 0.0, []) == (5.0, 1.0, 7.0)
    assert _route_window(ticks, ["a"], 0.0, 120.0, 60.0, 0.0, []) == (8.0, 1.0, 9.0)


def test_a_built_table_is_not_read_as_arrays() -> None:
    assert deferred_route_parts(pd.DataFrame()) is None
    assert deferred_route_parts(Deferred(pd.DataFrame, ())) is None
