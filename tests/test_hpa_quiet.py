"""Skipping quiet HPA syncs is exact: same proposals, same decisions, same tables.

* `steady_replicas` (numpy, many syncs at once) equals `compute_replicas_for_metrics` on the
  equivalent observation, for random specs and usages (hypothesis);
* a decision sequence that skips a settled stretch and records it with `record_quiet_syncs`
  continues exactly like the sequence that ran every sync;
* whole runs with skipping on and off give identical tables on scenarios that scale, lose a zone,
  lose spot nodes and grow 10x;
* the helpers it relies on: landing a timeout on an exact float time, the sample-tick index in
  numpy, and the traffic model's per-tick results not depending on where a chunk ends.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simkit
import simkit.engine.hpa_loop as autoscaling
from bench.plans import rollout_month
from simkit.control.hpa import (
    ContainerSample,
    HPABehavior,
    HPAControllerConfig,
    HPAObservation,
    HPASpec,
    HPAState,
    MetricSpec,
    MetricTarget,
    PodSample,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    compute_replicas_for_metrics,
    decide,
    tolerances_for,
)
from simkit.control.hpa.steady import (
    record_quiet_syncs,
    repeats,
    settled,
    stabilization_reach_s,
    steady_replicas,
)
from simkit.engine.hpa_quiet import delay_to
from simkit.traffic.queueing import service_ticks

SCENARIOS = Path(__file__).parents[1] / "scenarios"
CONFIG = HPAControllerConfig()
REQUESTS = {"cpu": 500, "memory": 512 * 2**20 * 1000}

METRICS = st.sampled_from(
    [
        MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=70)),
        MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=33)),
        MetricSpec("Resource", "cpu", MetricTarget("AverageValue", average_value_milli=250)),
        MetricSpec("Resource", "memory", MetricTarget("Utilization", average_utilization=80)),
        MetricSpec("External", "queue", MetricTarget("AverageValue", average_value_milli=10_000)),
        MetricSpec("External", "queue", MetricTarget("Value", value_milli=45_000)),
        MetricSpec("Pods", "rps", MetricTarget("AverageValue", average_value_milli=20_000)),
        MetricSpec("Object", "ingress", MetricTarget("Value", value_milli=150_000)),
        MetricSpec("Object", "ingress", MetricTarget("AverageValue", average_value_milli=30_000)),
    ]
)


def _observation(
    current: int, pods: int, cpu: int, memory: int, queue: int, rps: int = 0, ingress: int = 0
) -> HPAObservation:
    """The engine's steady observation: every pod Running, Ready, long started, same usage."""
    usage = {"cpu": cpu, "memory": memory}
    samples = tuple(
        PodSample(
            f"p{i}",
            start_time=0.0,
            containers=(ContainerSample("app", REQUESTS, usage),),
            metric_time=10_000.0,
            metric_window_s=15.0,
            metrics={"rps": rps},
        )
        for i in range(pods)
    )
    return HPAObservation(
        current, pods, samples, object_values={"ingress": ingress}, external_values={"queue": (queue,)}
    )


@settings(max_examples=300, deadline=None)
@given(
    metrics=st.lists(METRICS, min_size=1, max_size=4),
    current=st.integers(1, 40),
    extra_pods=st.integers(-2, 2),
    cpu=st.lists(st.integers(0, 4000), min_size=1, max_size=6),
    memory=st.integers(0, 2 * 512 * 2**20 * 1000),
    queue=st.lists(st.integers(0, 2_000_000), min_size=6, max_size=6),
    rps=st.lists(st.integers(0, 200_000), min_size=6, max_size=6),
    ingress=st.lists(st.integers(0, 2_000_000), min_size=6, max_size=6),
    tolerance=st.sampled_from([0.1, 0.0, 0.25]),
)
def test_steady_replicas_match_the_replica_calculator(
    metrics: list[MetricSpec],
    current: int,
    extra_pods: int,
    cpu: list[int],
    memory: int,
    queue: list[int],
    rps: list[int],
    ingress: list[int],
    tolerance: float,
) -> None:
    spec = HPASpec(min_replicas=1, max_replicas=100, metrics=tuple(metrics))
    config = HPAControllerConfig(tolerance=tolerance)
    pods = max(1, current + extra_pods)
    n = len(cpu)
    got = steady_replicas(
        spec,
        tolerances_for(spec, config),
        current,
        pods,
        {"cpu": np.array(cpu), "memory": np.full(n, memory)},
        REQUESTS,
        {
            ("External", "queue"): np.array(queue[:n]),
            ("Pods", "rps"): np.array(rps[:n]),
            ("Object", "ingress"): np.array(ingress[:n]),
        },
    )
    for i in range(n):
        obs = _observation(current, pods, cpu[i], memory, queue[i], rps[i], ingress[i])
        want = compute_replicas_for_metrics(spec, obs, 10_000.0, config)
        assert want.replicas == int(got[i]), (i, want)


SEED_BEHAVIOR = HPABehavior(
    scale_up=ScalingRules((ScalingPolicy("Percent", 100, 60), ScalingPolicy("Pods", 4, 60)), "Max", 0),
    scale_down=ScalingRules((ScalingPolicy("Percent", 50, 60),), "Max", 300),
)
CPU70 = (MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=70)),)


@pytest.mark.parametrize(
    ("recs", "up", "down", "now", "expected"),
    [
        ([(2, 700.0), (2, 985.0), (2, 1000.0)], [], [], 1000.0, True),
        ([(5, 701.0), (2, 1000.0)], [], [], 1000.0, False),  # a 5 still inside the 300 s window
        ([(5, 699.0), (2, 1000.0)], [], [], 1000.0, True),  # the 5 has left it
        ([(2, 1000.0)], [(1, 950.0)], [], 1000.0, False),  # a scale-up inside its 60 s period
        ([(2, 1000.0)], [], [(1, 941.0)], 1000.0, False),  # a scale-down inside its period
        ([(2, 1000.0)], [(1, 940.0)], [(1, 900.0)], 1000.0, True),
    ],
)
def test_settled_table(
    recs: list[tuple[int, float]],
    up: list[tuple[int, float]],
    down: list[tuple[int, float]],
    now: float,
    expected: bool,
) -> None:
    spec = HPASpec(min_replicas=3, max_replicas=20, metrics=CPU70, behavior=SEED_BEHAVIOR)
    state = HPAState(
        tuple(Recommendation(v, t) for v, t in recs),
        tuple(ScaleEvent(c, t) for c, t in up),
        tuple(ScaleEvent(c, t) for c, t in down),
        initialized=True,
    )
    assert settled(spec, state, 2, now, CONFIG) is expected


def test_legacy_window_includes_its_edge() -> None:
    spec = HPASpec(min_replicas=1, max_replicas=20, metrics=CPU70)  # no behavior: legacy path
    edge = HPAState((Recommendation(5, 700.0), Recommendation(2, 1000.0)), initialized=True)
    assert not settled(spec, edge, 2, 1000.0, CONFIG)  # legacy_stabilize keeps time == now - 300
    assert settled(spec, edge, 2, 1000.5, CONFIG)


def _cpu_obs(current: int, utilization: int) -> HPAObservation:
    return _observation(current, current, utilization * REQUESTS["cpu"] // 100, 0, 0)


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(st.integers(1, 60), min_size=1, max_size=40),
    quiet_len=st.integers(1, 200),
    after=st.lists(st.integers(1, 60), min_size=1, max_size=60),
    legacy=st.booleans(),
)
def test_recorded_quiet_stretch_continues_like_every_sync(
    before: list[int], quiet_len: int, after: list[int], legacy: bool
) -> None:
    """Run syncs (utilization per sync); where a stretch is settled, skip it in a second run."""
    spec = HPASpec(min_replicas=1, max_replicas=20, metrics=CPU70, behavior=None if legacy else SEED_BEHAVIOR)
    reach = stabilization_reach_s(spec, CONFIG)
    full, short = HPAState(), HPAState()
    current = 4
    t = 1000.0
    quiet_util = None
    for util in before:
        d = decide(spec, _cpu_obs(current, util * 2), full, t, CONFIG)
        full = short = d.state
        current, t = d.desired_replicas, t + 15.0
    # A constant utilization until the decision is settled, then `quiet_len` more such syncs.
    quiet_util = before[-1] * 2
    for _ in range(400):
        d = decide(spec, _cpu_obs(current, quiet_util), full, t, CONFIG)
        full = short = d.state
        proposal = d.metric_proposals[0].replicas
        stop = d.desired_replicas == current and proposal is not None
        current, t = d.desired_replicas, t + 15.0
        if stop and settled(spec, full, proposal, t - 15.0, CONFIG):
            break
    else:
        return  # never settles (e.g. keeps scaling): nothing to skip
    skipped = []
    for _ in range(quiet_len):
        d = decide(spec, _cpu_obs(current, quiet_util), full, t, CONFIG)
        assert d.desired_replicas == current and d.metric_proposals[0].replicas == proposal
        full = d.state
        skipped.append(t)
        t += 15.0
    short = record_quiet_syncs(short, proposal, skipped, reach)
    for util in after:
        a = decide(spec, _cpu_obs(current, util * 2), full, t, CONFIG)
        b = decide(spec, _cpu_obs(current, util * 2), short, t, CONFIG)
        assert (a.desired_replicas, a.reason, a.message) == (b.desired_replicas, b.reason, b.message)
        full, short, current, t = a.state, b.state, a.desired_replicas, t + 15.0


@settings(max_examples=80, deadline=None)
@given(
    before=st.lists(st.integers(1, 60), min_size=1, max_size=40),
    quiet_len=st.integers(1, 200),
    after=st.lists(st.integers(1, 60), min_size=1, max_size=60),
)
def test_proposal_at_the_current_count_repeats_whatever_the_windows_hold(
    before: list[int], quiet_len: int, after: list[int]
) -> None:
    """With a behavior, a sync proposing the current count keeps it, however unsettled the windows.

    Right after scaling (recommendations of other counts in the windows, events inside the policy
    periods) syncs at the target utilization are skipped as soon as `repeats` holds; each skipped
    sync, run in full, returns the same decision, and the decisions after the stretch match.
    """
    spec = HPASpec(min_replicas=1, max_replicas=20, metrics=CPU70, behavior=SEED_BEHAVIOR)
    reach = stabilization_reach_s(spec, CONFIG)
    full = HPAState()
    current, t = 4, 1000.0
    for util in before:
        d = decide(spec, _cpu_obs(current, util * 2), full, t, CONFIG)
        full, current, t = d.state, d.desired_replicas, t + 15.0
    d = decide(spec, _cpu_obs(current, 70), full, t, CONFIG)  # exactly on target: proposes current
    proposal = d.metric_proposals[0].replicas
    assert proposal == current == d.desired_replicas
    assert repeats(spec, d.state, proposal, current, t, CONFIG)
    full = short = d.state
    first = (d.desired_replicas, d.reason, d.message)
    t += 15.0
    skipped = []
    for _ in range(quiet_len):
        d = decide(spec, _cpu_obs(current, 70), full, t, CONFIG)
        assert (d.desired_replicas, d.reason, d.message) == first
        full = d.state
        skipped.append(t)
        t += 15.0
    short = record_quiet_syncs(short, proposal, skipped, reach)
    for util in after:
        a = decide(spec, _cpu_obs(current, util * 2), full, t, CONFIG)
        b = decide(spec, _cpu_obs(current, util * 2), short, t, CONFIG)
        assert (a.desired_replicas, a.reason, a.message) == (b.desired_replicas, b.reason, b.message)
        full, short, current, t = a.state, b.state, a.desired_replicas, t + 15.0


def test_repeats_needs_a_behavior_or_a_settled_log() -> None:
    """The legacy path takes the highest recent recommendation even above the count: not covered."""
    legacy = HPASpec(min_replicas=1, max_replicas=20, metrics=CPU70)
    state = HPAState((Recommendation(5, 990.0), Recommendation(2, 1000.0)), initialized=True)
    assert not repeats(legacy, state, 2, 2, 1000.0, CONFIG)
    with_behavior = HPASpec(min_replicas=1, max_replicas=20, metrics=CPU70, behavior=SEED_BEHAVIOR)
    assert repeats(with_behavior, state, 2, 2, 1000.0, CONFIG)
    assert not repeats(with_behavior, state, 3, 2, 1000.0, CONFIG)  # proposes a change
    assert not repeats(with_behavior, HPAState(state.recommendations), 2, 2, 1000.0, CONFIG)


TABLES = (
    "decisions",
    "replicas",
    "services",
    "routes",
    "queues",
    "nodes",
    "pending",
    "faults",
    "events",
    "cost",
    "plans",
    "plan_steps",
)


def _both_ways(scenario: simkit.Scenario | Path | None, monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    runs = {}
    for skip in (False, True):
        monkeypatch.setattr(autoscaling, "SKIP_QUIET_SYNCS", skip)
        runs[skip] = simkit.simulate(scenario, seed=11, duration=days * 86400.0, progress=False)
    assert runs[True].summary == runs[False].summary
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(runs[True], name), getattr(runs[False], name), check_exact=True)


@pytest.mark.parametrize(
    "scenario",
    [None, "traffic-spike", "az-outage", "spot-storm", "growth-10x", "rollout-at-peak", "statefulset-update"],
    ids=str,
)
def test_skipping_quiet_syncs_changes_no_table(scenario: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    _both_ways(None if scenario is None else SCENARIOS / f"{scenario}.yaml", monkeypatch, 1.0)


def test_skipping_quiet_syncs_through_daily_rollouts_changes_no_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12's speed case, 3 days: a rollout a day wakes the HPAs, the forecast stops at each."""
    scenario = rollout_month(3)
    assert len(scenario.plans) == 3
    _both_ways(scenario, monkeypatch, 3.0)
    result = simkit.simulate(scenario, seed=11, duration=3 * 86400.0, progress=False)
    assert list(result.plans["outcome"]) == ["Complete"] * 3
    assert (result.decisions["object"] == "llm-agent-service").sum() > 3  # its HPA reacted to the rollouts


@given(
    now=st.floats(0.0, 1e8, allow_nan=False),
    ahead=st.floats(0.0, 1e6, allow_nan=False),
)
def test_delay_lands_on_the_exact_time(now: float, ahead: float) -> None:
    target = now + ahead
    d = delay_to(now, target)
    assert d is not None and now + d == target


@given(t=st.floats(0.0, 4e6, allow_nan=False), dt=st.sampled_from([1.0, 10.0, 15.0, 60.0, 0.5, 7.3]))
def test_numpy_sample_tick_matches_python(t: float, dt: float) -> None:
    sample_t = t - math.fmod(t, 15.0)
    vector = np.array([t])
    vector_sample = vector - np.fmod(vector, 15.0)
    assert vector_sample[0] == sample_t
    assert int(np.floor_divide(vector_sample, dt)[0]) == int(sample_t // dt)
    assert float(np.ceil(vector / dt - 1e-9)[0]) == math.ceil(t / dt - 1e-9)


@settings(max_examples=50, deadline=None)
@given(
    lam=st.lists(st.floats(0.0, 400.0), min_size=2, max_size=80),
    servers=st.integers(0, 40),
    cut=st.integers(1, 79),
    backlog=st.floats(0.0, 500.0),
)
def test_traffic_ticks_do_not_depend_on_where_a_chunk_ends(
    lam: list[float], servers: int, cut: int, backlog: float
) -> None:
    """The HPA's look-ahead may compute a queue's ticks further than the timer would have."""
    cut = min(cut, len(lam) - 1)
    whole = service_ticks(np.array(lam), servers, 0.5, 1.0, 60.0, 30.0, backlog)
    prefix = service_ticks(np.array(lam[:cut]), servers, 0.5, 1.0, 60.0, 30.0, backlog)
    for name in ("utilization", "p_wait", "backlog_end", "served", "timed_out", "mean_wait_s"):
        assert np.array_equal(getattr(whole, name)[:cut], getattr(prefix, name), equal_nan=True), name
