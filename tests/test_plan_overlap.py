"""Overlapping plans share the extra node-hours of their overlap (simkit/analysis/plan_overlap.py).

Hand-computed tables for two and three overlapping plans, which plans count as concurrent, a
hypothesis property against a second-by-second recount (shares >= 0, they sum to the node-hours
above the piece-wise baseline over the union, no share more than that plan counted alone, a lone
plan unchanged), and `plan_tables` filling `concurrent_with` and the shared columns.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.analysis.plan_overlap import concurrent, pieces, priced, shared_node_hours
from simkit.analysis.plans import node_window, plan_tables, pool_levels
from simkit.engine.plans import PlanRecord
from simkit.scenario.loader import load_scenario_file
from simkit.scenario.plans import Plan

H = 3600.0
NodeRow = tuple[float, str, str, int, int]


def rows(pool: str, steps: list[tuple[float, int]], zone: str = "z1") -> list[NodeRow]:
    """Node rows (t, pool, zone, nodes, _) of one pool in one zone; `steps` are (hours, nodes)."""
    return [(h * H, pool, zone, n, 0) for h, n in steps]


def by_time(*parts: list[NodeRow]) -> list[NodeRow]:
    return sorted((r for part in parts for r in part), key=lambda r: r[0])


def hours(windows: list[tuple[float, float]], node_rows: list[NodeRow]) -> list[dict[str, float]]:
    return shared_node_hours(pool_levels(node_rows), [(s * H, e * H) for s, e in windows])[0]


# Rule (plan_overlap.py): in each piece of the union, per pool and instant, the nodes above the
# earliest running plan's baseline are shared in proportion to each running plan's nodes above its own
# baseline (its count at its own start).
#
# Two plans: A 0-2 h, B 0.5-3 h; app nodes 10 @ 0, 12 @ 0.5 h, 14 @ 1 h, 12 @ 2 h, 10 @ 2.5 h.
# Baselines A 10, B 12 (the change at 0.5 h included). [0.5, 1 h): 12 nodes, 2 above 10; A counts 2,
# B 0 -> A 1 node-h. [1, 2 h): 14 nodes, 4 above; A counts 4, B 2 -> A 4 x 4/6 = 8/3, B 4 x 2/6 = 4/3.
# [2, 3 h) B alone above 12: 0. Alone A counts 5, B 2: 7 for 5 node-h above 10.
TWO = rows("app", [(0, 10), (0.5, 12), (1, 14), (2, 12), (2.5, 10)])
# Three plans: A 0-4 h, B 1-3 h, C 2-5 h; app 10 @ 0, 13 @ 1, 16 @ 2, 13 @ 3, 17 @ 4, 10 @ 4.5 h;
# gpu 2 @ 0, 3 @ 2.5 h, 2 @ 3.5 h. Baselines app A 10, B 13, C 16; gpu 2 for all.
# app: [1,2) A B: 3 above, A counts 3, B 0 -> A 3; [2,3) A B C: 6 above, counts 6, 3, 0 -> A 4, B 2;
# [3,4) A C: 3 above, counts 3, 0 -> A 3; [4,5) C alone: 17 above 16 for 0.5 h -> C 0.5.
# gpu: [2.5,3) A B C: 1 above, counts 1, 1, 1 -> 1/6 each; [3,3.5) A C: 1/4 each.
# Alone: A 12 + 1 = 13, B 3 + 0.5, C 0.5 + 1.
THREE = by_time(
    rows("app", [(0, 10), (1, 13), (2, 16), (3, 13), (4, 17), (4.5, 10)]),
    rows("gpu", [(0, 2), (2.5, 3), (3.5, 2)]),
)
PRICES = {"app": 0.5, "gpu": 3.0}

CASES = [
    # (name, windows in hours, node rows, expected per-pool shares, expected node-h counted alone)
    ("two", [(0, 2), (0.5, 3)], TWO, [{"app": 1 + 8 / 3}, {"app": 4 / 3}], [5.0, 2.0]),
    (
        "three",
        [(0, 4), (1, 3), (2, 5)],
        THREE,
        [
            {"app": 10.0, "gpu": 5 / 12},
            {"app": 2.0, "gpu": 1 / 6},
            {"app": 0.5, "gpu": 5 / 12},
        ],
        [12.0 + 1.0, 3.0 + 0.5, 0.5 + 1.0],
    ),
    # a chain: A 0-1 h and C 1.5-3 h never overlap, B 0.5-2 h overlaps both. app 10 @ 0, 14 @ 0.75 h,
    # 12 @ 1.75 h; baselines A 10, B 10, C 14. [0.75, 1) A B: 4 above, counts 4, 4 -> .5 each;
    # [1, 1.5) B alone: 4 x .5 = 2; [1.5, 2) B C, baseline B's 10: 4 x .25 + 2 x .25 = 1.5, C counts 0
    # -> all B; [2, 3) C alone above 14: 0.
    (
        "chain",
        [(0, 1), (0.5, 2), (1.5, 3)],
        rows("app", [(0, 10), (0.75, 14), (1.75, 12)]),
        [{"app": 0.5}, {"app": 4.0}, {}],
        [1.0, 4.0 + 0.5, 0.0],
    ),
    # two plans from the same start split equally: app 10 @ 0, 16 @ 1 h
    (
        "together",
        [(0, 2), (0, 3)],
        rows("app", [(0, 10), (1, 16)]),
        [{"app": 3.0}, {"app": 9.0}],
        [6.0, 12.0],
    ),
]


@pytest.mark.parametrize(
    ("name", "windows", "node_rows", "expected", "alone"), CASES, ids=[c[0] for c in CASES]
)
def test_shares_by_hand(
    name: str,
    windows: list[tuple[float, float]],
    node_rows: list[NodeRow],
    expected: list[dict[str, float]],
    alone: list[float],
) -> None:
    got = hours(windows, node_rows)
    for share, want in zip(got, expected, strict=True):
        assert {p: h for p, h in share.items() if h} == pytest.approx(want, rel=1e-12)
        assert all(h >= 0 for h in share.values())
    # what each plan counted alone (today's figure for a lone plan) and how much the overlap was
    # counted more than once
    solo = [node_window(node_rows, s * H, e * H, PRICES)[1] for s, e in windows]
    assert solo == pytest.approx(alone, rel=1e-12)
    assert sum(sum(s.values()) for s in got) < sum(solo)


def test_three_plans_priced_per_pool() -> None:
    a, b, c = (priced(s, PRICES) for s in hours([(0, 4), (1, 3), (2, 5)], THREE))
    assert a == pytest.approx((10 + 5 / 12, 5.0 + 1.25))
    assert b == pytest.approx((2 + 1 / 6, 1.0 + 0.5))
    assert c == pytest.approx((0.5 + 5 / 12, 0.25 + 1.25))


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([(0, 10), (5, 15)], [[1], [0]]),
        ([(0, 10), (10, 20)], [[], []]),  # touching windows share no time
        ([(0, 20), (5, 5)], [[], []]),  # a window without length (a plan that ended where it began)
        ([(0, 20), (30, 25)], [[], []]),  # NotStarted: starts after the run's end, ends at it
        ([(0, 10), (5, 20), (15, 30)], [[1], [0, 2], [1]]),  # a chain: the ends do not meet
        ([(0, 10), (0, 10), (2, 3)], [[1, 2], [0, 2], [0, 1]]),
    ],
)
def test_concurrent(windows: list[tuple[float, float]], expected: list[list[int]]) -> None:
    assert concurrent(windows) == expected


def test_pieces_cover_the_union_once() -> None:
    assert pieces([(0, 10), (5, 20), (30, 40)]) == [
        (0, 5, [0]),
        (5, 10, [0, 1]),
        (10, 20, [1]),
        (30, 40, [2]),
    ]


# --- property: against a second-by-second recount ---------------------------------------------


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[NodeRow], list[tuple[float, float]]]:
    """Integer-second node changes for one or two pools in one or two zones, and 1-4 windows."""
    out: list[NodeRow] = []
    for pool in draw(st.sampled_from([["p"], ["p", "q"]])):
        for zone in draw(st.sampled_from([["a"], ["a", "b"]])):
            times = draw(st.lists(st.integers(1, 119), max_size=8, unique=True))
            out.append((0.0, pool, zone, draw(st.integers(0, 5)), 0))
            out += [(float(t), pool, zone, draw(st.integers(0, 9)), 0) for t in times]
    out.sort(key=lambda r: r[0])
    windows = []
    for _ in range(draw(st.integers(1, 4))):
        s = draw(st.integers(0, 110))
        windows.append((float(s), float(s + draw(st.integers(0, 40)))))
    return out, windows


def recount(node_rows: list[NodeRow], windows: list[tuple[float, float]]) -> list[float]:
    """Each window's share, second by second: in second [t, t + 1), per pool, the most nodes any
    covering window counts above the count at its own start (the earliest-started window's, unless
    the pool shrank after it started), shared in proportion to each covering window's own count
    (changes at a start included)."""

    def level(t: float) -> dict[str, int]:
        zones: dict[tuple[str, str], int] = {}
        for tr, pool, zone, n, _ in node_rows:
            if tr <= t:
                zones[(pool, zone)] = n
        per: dict[str, int] = {}
        for (pool, _), n in zones.items():
            per[pool] = per.get(pool, 0) + n
        return per

    share = [0.0] * len(windows)
    for t in range(0, 160):
        active = [k for k, (s, e) in enumerate(windows) if s <= t and e >= t + 1]
        if not active:
            continue
        for pool, n in level(t).items():
            counts = {k: max(0, n - level(windows[k][0]).get(pool, 0)) for k in active}
            above = max(counts.values())
            for k in active:
                if above:
                    share[k] += above * counts[k] / sum(counts.values()) / 3600
    return share


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_shares_sum_to_the_node_hours_above_the_baseline(case: tuple[list[NodeRow], list]) -> None:
    node_rows, windows = case
    levels = pool_levels(node_rows)
    shares, totals = shared_node_hours(levels, windows)
    got = [sum(s.values()) for s in shares]
    assert all(h >= 0 for s in shares for h in s.values())
    assert got == pytest.approx(recount(node_rows, windows), rel=1e-9, abs=1e-12)
    union = sum(sum(t.values()) for t in totals)
    assert sum(got) == pytest.approx(union, rel=1e-9, abs=1e-12)
    solo = [node_window(node_rows, s, e, {}, levels)[1] if e > s else 0.0 for s, e in windows]
    assert sum(got) <= sum(solo) + 1e-12  # the overlap counted once, not once per plan
    assert all(g <= a + 1e-12 for g, a in zip(got, solo, strict=True))  # nor more than a plan alone
    assert sum(got) >= max(solo, default=0.0) - 1e-12  # and no node a plan counted is charged to none
    for k, others in enumerate(concurrent(windows)):
        if not others:  # a lone plan keeps exactly what it counted alone
            assert math.isclose(got[k], solo[k], rel_tol=1e-12, abs_tol=1e-15)


# --- plan_tables: the columns -------------------------------------------------------------------


def _records(windows: list[tuple[float, float | None]]) -> list[PlanRecord]:
    out = []
    for i, (s, e) in enumerate(windows):
        plan = Plan(name=f"p{i}", kind="rollout", target="bff-service", start=s)
        out.append(PlanRecord(plan, s, e, outcome="Complete", prices=PRICES))
    return out


def test_plan_tables_shares_and_names_concurrent_plans() -> None:
    scenario = load_scenario_file(Path(__file__).parents[1] / "scenarios" / "platform-baseline.yaml").scenario
    # the three-plan case, and a fourth plan from 6 h to the run's end (7 h), alone
    recs = _records([(0, 4 * H), (1 * H, 3 * H), (2 * H, 5 * H), (6 * H, None)])
    node_rows = by_time(THREE, rows("app", [(6.5, 11)]))
    plans, _ = plan_tables(scenario, recs, node_rows, None, 7 * H)
    by_name = {row.plan: row for row in plans}
    assert [by_name[p].concurrent_with for p in ("p0", "p1", "p2", "p3")] == [
        "p1, p2",
        "p0, p2",
        "p0, p1",
        "",
    ]
    assert by_name["p0"].extra_node_hours == pytest.approx(10 + 5 / 12)
    assert by_name["p1"].extra_cost_usd_total == pytest.approx(1.5)
    assert by_name["p2"].extra_node_hours == pytest.approx(0.5 + 5 / 12)
    # the lone plan: the figures of `node_window`, bit for bit (app 10 -> 11 at 6.5 h: 0.5 node-h)
    lone = by_name["p3"]
    assert (lone.peak_nodes, lone.extra_node_hours, lone.extra_cost_usd_total) == node_window(
        node_rows, 6 * H, 7 * H, PRICES
    )
    assert lone.extra_node_hours == pytest.approx(0.5)
    # peak nodes stay each plan's own (a maximum, not a sum): app 16 + gpu 2 or 3 at 2-3 h
    assert by_name["p1"].peak_nodes == 19
