"""The scale work (issue 16 item 1) changes no table: optimised path versus reference path.

* whole runs with route latency memoised by content (`engine.content_memo`), HPA queue forecasts
  read in numpy (`hpa_quiet.queue_messages_at`) and `pods_of` from a per-workload index
  (`state.PodIndex`), against the same runs with all three off: every table identical, for the
  default scenario, growth-10x, karpenter-10x, az-outage, spot-storm and a generated K = 3 platform;
* `ContentMemo` returns what the function returns, recomputes on any difference of content (one
  element, 0.0 versus -0.0, dtype, shape) and hands out copies (hypothesis);
* `PodIndex.of(w)` is the filtered scan, in the same order, under any sequence of inserts and removals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import simkit
import simkit.engine.content_memo as content_memo
import simkit.engine.hpa_quiet as hpa_quiet
import simkit.engine.state as engine_state
from bench.identical import TABLES, differences
from bench.kplatform import platform
from simkit.engine.content_memo import ContentMemo
from simkit.engine.state import Pod, PodIndex
from simkit.engine.traffic import RouteWindows, TrafficModel, route_latency, route_windows

SCENARIOS = Path(__file__).parents[1] / "scenarios"
CASES = ("platform-baseline", "growth-10x", "karpenter-10x", "az-outage", "spot-storm", "platform-x3")
DAY_S = 86400.0


def _scenario(name: str) -> simkit.Scenario:
    return platform(3) if name == "platform-x3" else simkit.load_scenario(SCENARIOS / f"{name}.yaml")


def _tables(name: str, seed: int) -> dict[tuple[str, int], dict[str, object]]:
    result = simkit.simulate(_scenario(name), duration=DAY_S, seed=seed, progress=False)
    return {(name, seed): {table: getattr(result, table) for table in TABLES}}


@pytest.mark.parametrize("name", CASES)
def test_every_table_identical_with_and_without_the_scale_paths(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _tables(name, 3)
    with monkeypatch.context() as m:
        m.setattr(content_memo, "MEMO_ENABLED", False)
        m.setattr(hpa_quiet, "VECTOR_QUEUE_SERIES", False)
        m.setattr(engine_state, "INDEX_PODS", False)
        reference = _tables(name, 3)
    assert differences(reference, fast) == []


def test_the_memo_is_exercised_on_a_platform_of_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three copies of the application routes are one distinct computation each: hits, not only misses."""
    memos: list[ContentMemo[object]] = []
    real = ContentMemo.__init__

    def keep(self: ContentMemo[object], *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        memos.append(self)

    monkeypatch.setattr(ContentMemo, "__init__", keep)
    simkit.simulate(platform(3), duration=3 * 3600.0, seed=1, progress=False)
    routes = [m for m in memos if m.fn is route_windows]
    assert sum(m.hits + m.misses for m in routes) == len(platform(3).traffic.routes)
    assert sum(m.hits for m in routes) >= 2 * 3  # api-read, api-write, files: copies 2 and 3
    services = [m for m in memos if m.fn is route_latency]  # services no one-visit route covers
    assert sum(m.hits for m in services) >= 2 * 4  # bff, orchestrator, validation, file storage: copies 2, 3


FLOATS = hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e6, 1e6, allow_nan=False))


def _fn(calls: list[int]):  # type: ignore[no-untyped-def]
    def f(a: np.ndarray, b: float, label: str) -> tuple[np.ndarray, dict[str, float]]:
        calls.append(1)
        return a * b, {"sum": float(a.sum()) + b}

    return f


@settings(max_examples=60, deadline=None)
@given(a=FLOATS, b=st.floats(-10, 10, allow_nan=False), i=st.integers(0, 11))
def test_content_memo_equals_the_function_and_never_confuses_inputs(a: np.ndarray, b: float, i: int) -> None:
    calls: list[int] = []
    memo = ContentMemo(_fn(calls), enabled=True)
    first = memo(a, b, "x")
    again = memo(a.copy(), b, "x")  # same content, another object: a hit
    assert len(calls) == 1 and memo.hits == 1
    np.testing.assert_array_equal(first[0], a * b)
    np.testing.assert_array_equal(again[0], first[0])
    again[0][:] = 12345.0  # a hit is a copy: changing it changes no later answer
    np.testing.assert_array_equal(memo(a, b, "x")[0], a * b)
    changed = a.copy()
    j = i % a.size
    changed[j] = changed[j] + 1.0 if changed[j] != 0 else -0.0  # one element, or 0.0 -> -0.0
    if changed.tobytes() != a.tobytes():
        memo(changed, b, "x")
        assert len(calls) == 2
    memo(a, b, "y")
    memo(a.astype(np.float32), b, "x")
    memo(a.reshape(1, -1), b, "x")
    assert len(calls) == (5 if changed.tobytes() != a.tobytes() else 4)


def test_content_memo_off_or_unknown_arguments_call_through() -> None:
    calls: list[int] = []
    memo = ContentMemo(_fn(calls), enabled=False)
    memo(np.ones(3), 1.0, "x")
    memo(np.ones(3), 1.0, "x")
    assert len(calls) == 2
    memo = ContentMemo(_fn(calls), enabled=True)
    token = object()  # not comparable by content: computed every time, never matched
    memo(np.ones(3), 1.0, token)
    memo(np.ones(3), 1.0, token)
    assert len(calls) == 4 and memo.hits == 0


def test_content_memo_copies_route_windows_results() -> None:
    w = RouteWindows(np.zeros(2), np.ones(2), np.ones(2), np.zeros(2), np.ones(2), None)
    memo = ContentMemo(lambda x: (x * 2, w, {"p95_ms": 1.0}), enabled=True)
    a = memo(np.arange(3.0))
    b = memo(np.arange(3.0))
    assert b[1] is not a[1] and b[2] is not a[2]
    np.testing.assert_array_equal(b[1].p95_s, w.p95_s)


OPS = st.lists(
    st.tuples(st.sampled_from(["set", "pop", "del"]), st.integers(0, 15), st.sampled_from(["a", "b", "c"])),
    max_size=80,
)


@settings(max_examples=100, deadline=None)
@given(ops=OPS)
def test_pod_index_is_the_filtered_scan(ops: list[tuple[str, int, str]]) -> None:
    index, plain = PodIndex(), {}
    for op, n, workload in ops:
        name = f"p{n}"
        if op == "set":
            pod = Pod(name=name, workload=workload, spec=None, created_s=0.0)  # type: ignore[arg-type]
            index[name] = plain[name] = pod
        elif op == "pop":
            assert index.pop(name, None) is plain.pop(name, None)
        elif name in plain:
            del index[name]
            del plain[name]
        for w in ("a", "b", "c"):
            assert index.of(w) == [p for p in plain.values() if p.workload == w]
        assert list(index) == list(plain)


QUEUES = ("llm-agent-tasks", "notifications", "audit-events")


@settings(max_examples=25, deadline=None)
@given(
    queue=st.sampled_from(QUEUES),
    steps=st.lists(
        st.tuples(st.integers(1, 900), st.integers(1, 4), st.integers(0, 8)), min_size=1, max_size=5
    ),
)
def test_queue_messages_at_is_the_per_tick_lookup(queue: str, steps: list[tuple[int, int, int]]) -> None:
    """Same values and look-ahead chunks as `queue_messages` tick by tick, across consumer changes."""
    sc = simkit.load_scenario()
    per_tick, vectorised = (TrafficModel(sc, 2 * DAY_S, np.random.default_rng(5)) for _ in range(2))
    consumer = next(q.consumer for q in sc.traffic.queues if q.name == queue)
    for model in (per_tick, vectorised):
        for w in sc.workloads:
            model.set_ready(w.name, w.replicas, 0.0)
    tick = 0
    for span, repeat, ready in steps:
        ticks = np.repeat(np.arange(tick, min(tick + span, per_tick.n_ticks)), repeat)
        expected = [
            int(round(per_tick.queue_messages(queue, k * per_tick.dt) * 1000)) for k in ticks.tolist()
        ]
        got = hpa_quiet.queue_messages_at(vectorised, queue, ticks.astype(np.int64))
        assert got.tolist() == expected
        tick = int(ticks[-1]) if ticks.size else tick
        for model in (per_tick, vectorised):  # a change of consumers mid-tick rewinds the look-ahead
            model.set_ready(consumer, ready, tick * model.dt + 7.0)
    a, b = per_tick.queues[queue], vectorised.queues[queue]
    # Ticks past `computed_to` are not computed yet: a chunk the per-tick reads deferred
    # (`DEFER_FIRST_TICK`) leaves them unwritten where the vectorised read left a look-ahead that
    # the change of consumers then discarded. The computed ticks and the carried backlog must be
    # the same bits, and so must every tick once both read on (through a deferred chunk too).
    assert a.computed_to == b.computed_to
    assert (a.backlog, a.backlog_var) == (b.backlog, b.backlog_var)
    for key in a.arrays:
        assert a.arrays[key][: a.computed_to].tobytes() == b.arrays[key][: b.computed_to].tobytes(), key
    later = min(tick + 400, per_tick.n_ticks - 1) * per_tick.dt
    assert per_tick.queue_messages(queue, later) == vectorised.queue_messages(queue, later)
    assert a.computed_to == b.computed_to
    for key in a.arrays:
        assert a.arrays[key][: a.computed_to].tobytes() == b.arrays[key][: b.computed_to].tobytes(), key
