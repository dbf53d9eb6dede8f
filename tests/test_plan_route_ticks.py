"""`RouteTicks` reads only the span of a time-ordered routes table that can overlap a plan's window;
the rows it selects, and every sum over them, are those of the whole-table mask (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.analysis.plans import RouteTicks

ROUTES = ("a", "b", "c")


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, float]:
    dt = draw(st.sampled_from([1.0, 15.0, 60.0, 0.1]))
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = []
    for i in range(n):
        for route in ROUTES:
            p95 = float(rng.uniform(1, 300)) if rng.random() > 0.1 else math.nan
            rows.append((i * dt, route, float(rng.integers(0, 50)), float(rng.integers(0, 3)), p95))
    return pd.DataFrame(rows, columns=["t_s", "route", "requests", "errors", "p95_ms"]), dt


@settings(max_examples=200, deadline=None)
@given(
    tables(),
    st.floats(-100, 4000, allow_nan=False),
    st.floats(0, 3000, allow_nan=False),
    st.lists(st.sampled_from(ROUTES), min_size=1, max_size=3, unique=True),
    st.floats(0, 0.5),
)
def test_span_read_equals_whole_table_mask(
    table: tuple[pd.DataFrame, float], start: float, length: float, names: list[str], error_rate: float
) -> None:
    routes, dt = table
    end = start + length
    fast, whole = RouteTicks(routes), RouteTicks(routes)
    whole._sorted = False  # the reference: compare every row
    assert fast._sorted or routes.empty
    share = [(start, 0.25), (start + length / 2, 0.75)]
    got = fast.window(names, start, end, dt, error_rate, share)
    want = whole.window(names, start, end, dt, error_rate, share)
    np.testing.assert_array_equal(np.array(got), np.array(want))  # NaN == NaN, bit for bit
    for a, b in zip(fast.rows(names, start, end, dt), whole.rows(names, start, end, dt), strict=True):
        np.testing.assert_array_equal(a, b)
    mask = (
        routes["route"].isin(names) & (routes["t_s"] + dt > start) & (routes["t_s"] < max(end, start + 1e-9))
    )
    assert got[0] == float(routes.loc[mask, "requests"].sum())  # the definition, from the DataFrame


def test_unsorted_table_is_read_whole() -> None:
    routes = pd.DataFrame(
        {
            "t_s": [60.0, 0.0],
            "route": ["a", "a"],
            "requests": [3.0, 5.0],
            "errors": [0.0, 1.0],
            "p95_ms": [9.0, 7.0],
        }
    )
    ticks = RouteTicks(routes)
    assert not ticks._sorted
    assert ticks.window(["a"], 0.0, 30.0, 60.0, 0.0, []) == (5.0, 1.0, 7.0)
    assert ticks.window(["a"], 0.0, 120.0, 60.0, 0.0, []) == (8.0, 1.0, 9.0)
