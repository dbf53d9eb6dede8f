"""Tests of the pure HPA controller: Kubernetes' own vectors, scenarios they miss, and properties."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.control.hpa import (
    ContainerSample,
    HPABehavior,
    HPAControllerConfig,
    HPADecision,
    HPAObservation,
    HPASpec,
    HPAState,
    PodSample,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    decide,
    hpa_spec_from_k8s,
)
from simkit.control.hpa.behavior import (
    convert_desired_replicas_with_behavior_rate,
    scale_down_limit,
    scale_up_limit,
)
from simkit.control.hpa.types import DEFAULT_SCALE_DOWN_RULES, DEFAULT_SCALE_UP_RULES

VECTORS = Path(__file__).parents[2] / "shared" / "reference" / "hpa_vectors.json"
REQUEST = 1000  # every test pod requests 1 CPU

# The seed platform's HPA (shared/seed/infrastructure-overview.md, llm-agent-hpa).
SEED_SPEC: dict[str, Any] = {
    "minReplicas": 3,
    "maxReplicas": 20,
    "metrics": [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
        },
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}},
        },
        {
            "type": "External",
            "external": {
                "metric": {"name": "rabbitmq_queue_messages", "selector": {"matchLabels": {"queue": "llm"}}},
                "target": {"type": "AverageValue", "averageValue": "10"},
            },
        },
    ],
    "behavior": {
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 60},
                {"type": "Pods", "value": 4, "periodSeconds": 60},
            ],
            "selectPolicy": "Max",
        },
    },
}


def cpu_spec(
    target: int = 70, min_replicas: int = 3, max_replicas: int = 20, behavior: Any = None
) -> HPASpec:
    """A CPU-utilization HPA built through the k8s parser; behavior None = legacy path."""
    raw: dict[str, Any] = {
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ],
    }
    if behavior is not None:
        raw["behavior"] = behavior
    return hpa_spec_from_k8s(raw)


def seed_cpu_spec() -> HPASpec:
    """The seed's behavior with its CPU metric only, so that one load number drives it."""
    return replace(hpa_spec_from_k8s(SEED_SPEC), metrics=cpu_spec().metrics)


def pod(
    name: str, usage: int | None, start: float = -3600.0, ready: bool | None = True, **kw: Any
) -> PodSample:
    """A long-running pod requesting 1 CPU; usage None = no metrics for it."""
    usage_map = {} if usage is None else {"cpu": usage}
    container = ContainerSample("app", {"cpu": REQUEST}, usage_map)
    return PodSample(name, start_time=start, ready=ready, containers=(container,), **kw)


def cpu_obs(replicas: int, total_usage: int, extra: Sequence[PodSample] = ()) -> HPAObservation:
    """`replicas` ready pods sharing `total_usage` millicores evenly."""
    pods = tuple(pod(f"p{i}", total_usage // replicas) for i in range(replicas)) + tuple(extra)
    return HPAObservation(replicas, replicas, pods)


def run_syncs(spec: HPASpec, total_usage: int, start: int, until: int, period: int = 15) -> dict[int, int]:
    """Simulate the sync loop with a constant total load; return replicas after each sync by time."""
    state, replicas, timeline = HPAState(), start, {}
    for now in range(0, until + 1, period):
        decision = decide(spec, cpu_obs(replicas, total_usage), state, float(now))
        state, replicas = decision.state, decision.desired_replicas
        timeline[now] = replicas
    return timeline


# ---------------------------------------------------------------------------------------------
# Kubernetes' vectors
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    not VECTORS.is_file(), reason=f"HPA vectors not found at {VECTORS} (shared/ beside the repo)"
)
def test_all_kubernetes_vectors_pass() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import k8s_vectors

    passed, failed = k8s_vectors.run("hpa", VECTORS)
    assert failed == 0
    assert passed == len(json.loads(VECTORS.read_text()))


# ---------------------------------------------------------------------------------------------
# decide: scenarios the vectors do not cover
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "current", "expected", "limited_reason"),
    [
        (0, 3, 7, "ScaleUpLimit"),  # proposal 12; max(3+4 pods, 3x200%=6) = 7
        (15, 7, 7, "ScaleUpLimit"),  # the +4 event of t=0 is inside the 60 s period: budget used up
        (61, 7, 14, "ScaleUpLimit"),  # event expired: max(7+4, 7x2) = 14
        (122, 14, 20, "TooManyReplicas"),  # 28 allowed by policy, maxReplicas binds
    ],
)
def test_seed_behavior_scale_up_steps(now: int, current: int, expected: int, limited_reason: str) -> None:
    spec = seed_cpu_spec()
    state = HPAState()
    replicas = 3
    decision = None
    for t in (0, 15, 61, 122):  # replay the steps up to `now`, carrying the state
        decision = decide(spec, cpu_obs(replicas, 2800 * replicas), state, float(t))  # 400% of 70% target
        if t == now:
            break
        state, replicas = decision.state, decision.desired_replicas
    assert decision is not None
    assert replicas == current
    assert decision.desired_replicas == expected
    limited = decision.condition("ScalingLimited")
    assert limited is not None and limited.reason == limited_reason


def test_seed_behavior_scale_down_waits_for_window_then_halves() -> None:
    timeline = run_syncs(seed_cpu_spec(), total_usage=2800, start=20, until=480)
    assert {t: r for t, r in timeline.items() if t < 300} == dict.fromkeys(range(0, 300, 15), 20)
    assert [timeline[t] for t in (300, 315, 345, 360, 405, 420, 480)] == [10, 10, 10, 5, 5, 4, 4]


def test_legacy_path_scales_down_in_one_step_after_the_window() -> None:
    timeline = run_syncs(cpu_spec(), total_usage=2800, start=20, until=330)
    assert (
        timeline[300] == 20
    )  # the initial recommendation is exactly 300 s old: still counted (age <= window)
    assert timeline[315] == 4
    assert timeline[330] == 4


def test_new_hpa_blocks_scale_down_but_not_scale_up() -> None:
    down = decide(cpu_spec(), cpu_obs(10, 1000), HPAState(), 0.0)
    assert down.desired_replicas == 10
    assert down.reason == "ScaleDownStabilized"
    up = decide(cpu_spec(), cpu_obs(5, 7000), HPAState(), 0.0)
    assert up.desired_replicas == 10


@pytest.mark.parametrize(
    ("current", "behavior", "expected", "reason"),
    [
        (1, None, 4, "ScaleUpLimit"),  # legacy: max(2 x 1, 4)
        (3, None, 6, "ScaleUpLimit"),  # legacy: 2 x 3
        (1, {}, 5, "ScaleUpLimit"),  # default behavior: +4 pods
        (3, {}, 7, "ScaleUpLimit"),  # default behavior: max(+4, +100%)
        (10, {}, 20, "TooManyReplicas"),
    ],
)
def test_legacy_cap_versus_default_behavior(current: int, behavior: Any, expected: int, reason: str) -> None:
    spec = cpu_spec(target=50, min_replicas=1, max_replicas=20, behavior=behavior)
    decision = decide(spec, cpu_obs(current, 5000 * current), HPAState(), 0.0)  # ratio 10
    assert decision.desired_replicas == expected
    assert decision.reason == reason


def test_queue_worker_external_average_value() -> None:
    spec = hpa_spec_from_k8s(
        {
            "minReplicas": 1,
            "maxReplicas": 50,
            "metrics": [
                {
                    "type": "External",
                    "external": {
                        "metric": {"name": "queue"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                }
            ],
            "behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}]}},
        }
    )
    obs = HPAObservation(4, 4, (), external_values={"queue": (60, 35)})  # values are milli: "0.095"
    assert (
        decide(spec, obs, HPAState(), 0.0).desired_replicas == 4
    )  # 0.095 messages: 1 replica, but stabilized
    obs = HPAObservation(4, 4, (), external_values={"queue": (60_000, 35_000)})  # 95 messages
    decision = decide(spec, obs, HPAState(), 0.0)
    assert decision.desired_replicas == 10
    assert decision.metric_proposals[0].current_milli == 23_750  # ceil(95000 / 4 status replicas)


def test_missing_metric_blocks_scale_down_but_not_scale_up() -> None:
    spec = hpa_spec_from_k8s(
        {
            "minReplicas": 1,
            "maxReplicas": 20,
            "metrics": [
                SEED_SPEC["metrics"][0],
                {
                    "type": "External",
                    "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "100"}},
                },
            ],
        }
    )
    state = HPAState(initialized=True)
    down = decide(spec, cpu_obs(6, 600), state, 0.0)
    assert down.desired_replicas == 6
    assert down.reason == "FailedGetExternalMetric"
    active = down.condition("ScalingActive")
    assert "1 invalid out of 2" in down.message  # the FailedComputeMetricsReplicas event's aggregate
    # the condition names the failing metric's own error, as upstream's invalidMetricCondition does
    assert active is not None and active.status is False
    assert active.message.startswith(
        "the HPA was unable to compute the replica count: unable to get external metric queue"
    )
    assert "invalid out of" not in active.message
    up = decide(spec, cpu_obs(6, 6 * 1400), state, 0.0)  # 140% of 70%
    assert up.desired_replicas == 12
    assert [p.error_reason for p in up.metric_proposals] == [None, "FailedGetExternalMetric"]


def test_scaling_disabled_at_zero_replicas() -> None:
    decision = decide(cpu_spec(), HPAObservation(0, 0, ()), HPAState(), 0.0)
    assert decision.desired_replicas == 0
    assert decision.reason == "ScalingDisabled"


def test_outside_bounds_jumps_and_records_event_with_behavior() -> None:
    spec = cpu_spec(behavior={})
    decision = decide(spec, cpu_obs(25, 0), HPAState(), 100.0)
    assert (decision.desired_replicas, decision.reason) == (20, "TooManyReplicas")
    assert decision.state.scale_down_events == (ScaleEvent(5, 100.0),)
    below = decide(spec, cpu_obs(1, 0), HPAState(), 100.0)
    assert (below.desired_replicas, below.reason) == (3, "TooFewReplicas")
    assert below.state.scale_up_events == (ScaleEvent(2, 100.0),)


def test_missing_pods_on_scale_down_use_max_of_100_and_target() -> None:
    """PR112178: with a 300% target, a pod without metrics counts at 300% of its request, not 100%."""
    spec = cpu_spec(target=300, min_replicas=1, max_replicas=10)
    obs = HPAObservation(4, 4, (pod("a", 100), pod("b", 100), pod("c", None), pod("d", None)))
    decision = decide(spec, obs, HPAState(initialized=True), 0.0)
    # (100 + 100 + 3000 + 3000) / 4000 = 155% -> ratio 0.516 -> ceil(0.516 x 4) = 3; a 100% fallback gives 1
    assert decision.desired_replicas == 3
    assert decision.metric_proposals[0].current_utilization == 10


def test_pod_inside_cpu_initialization_period_counts_as_zero_on_scale_up() -> None:
    hot = pod("new", 2000, start=-10.0, metric_time=0.0)  # started 10 s ago: sample is not a full window old
    obs = cpu_obs(2, 4000, extra=(hot,))
    obs = replace(obs, spec_replicas=3, status_replicas=3)
    spec = cpu_spec(target=100, min_replicas=1, max_replicas=10)
    assert decide(spec, obs, HPAState(), 0.0).desired_replicas == 4  # (2000+2000+0)/3000 = 133% -> 4
    no_init = HPAControllerConfig(cpu_initialization_period_s=0)
    assert decide(spec, obs, HPAState(), 0.0, no_init).desired_replicas == 6  # 200% of 3 pods


def test_configurable_tolerance_from_behavior() -> None:
    obs = cpu_obs(10, 10 * 1050)  # 105% of a 100% target
    assert decide(cpu_spec(target=100, behavior={}), obs, HPAState(), 0.0).desired_replicas == 10
    tight = cpu_spec(target=100, behavior={"scaleUp": {"tolerance": "0.02"}})
    assert decide(tight, obs, HPAState(), 0.0).desired_replicas == 11
    flag = HPAControllerConfig(tolerance=0.01)  # the flag applies to the direction left unset
    assert decide(cpu_spec(target=100, behavior={}), obs, HPAState(), 0.0, flag).desired_replicas == 11
    assert decide(tight, cpu_obs(10, 10 * 980), HPAState(), 0.0, flag).desired_replicas == 10


def test_decision_explains_itself() -> None:
    decision = decide(seed_cpu_spec(), cpu_obs(3, 8400), HPAState(), 0.0)
    assert decision.message.startswith("New size: 7; reason: cpu resource utilization")
    assert {c.type for c in decision.conditions} == {"AbleToScale", "ScalingActive", "ScalingLimited"}
    active = decision.condition("ScalingActive")
    assert active is not None and active.reason == "ValidMetricFound"
    assert decision.metric_proposals[0].current_utilization == 280


# ---------------------------------------------------------------------------------------------
# hpa_spec_from_k8s
# ---------------------------------------------------------------------------------------------


def test_seed_spec_parses_with_defaults_filled() -> None:
    spec = hpa_spec_from_k8s(SEED_SPEC)
    assert (spec.min_replicas, spec.max_replicas) == (3, 20)
    assert [(m.type, m.name) for m in spec.metrics] == [
        ("Resource", "cpu"),
        ("Resource", "memory"),
        ("External", "rabbitmq_queue_messages"),
    ]
    assert spec.metrics[2].target.average_value_milli == 10_000
    assert spec.behavior == HPABehavior(
        scale_up=ScalingRules((ScalingPolicy("Percent", 100, 60), ScalingPolicy("Pods", 4, 60)), "Max", 0),
        scale_down=ScalingRules((ScalingPolicy("Percent", 50, 60),), "Max", 300),
    )


def test_api_defaults() -> None:
    bare = hpa_spec_from_k8s({"maxReplicas": 5})
    assert bare.min_replicas == 1
    assert bare.behavior is None
    assert bare.metrics[0].name == "cpu" and bare.metrics[0].target.average_utilization == 80
    empty = hpa_spec_from_k8s({"maxReplicas": 5, "behavior": {}})
    assert empty.behavior == HPABehavior(DEFAULT_SCALE_UP_RULES, DEFAULT_SCALE_DOWN_RULES)
    assert empty.behavior.scale_down.stabilization_window_s is None  # filled from the controller flag
    partial = hpa_spec_from_k8s({"maxReplicas": 5, "behavior": {"scaleDown": {"selectPolicy": "Min"}}})
    assert partial.behavior is not None
    assert partial.behavior.scale_down == replace(DEFAULT_SCALE_DOWN_RULES, select_policy="Min")


@pytest.mark.parametrize(
    ("quantity", "milli"),
    [("10", 10_000), ("500m", 500), ("1.5", 1500), ("2Gi", 2 * 2**30 * 1000), (3, 3000)],
)
def test_quantities_become_milli_units(quantity: Any, milli: int) -> None:
    metric = {
        "type": "Pods",
        "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": quantity}},
    }
    assert (
        hpa_spec_from_k8s({"maxReplicas": 3, "metrics": [metric]}).metrics[0].target.average_value_milli
        == milli
    )


def _cpu_metric(utilization: Any) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}},
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"maxReplicas": 5, "metrics": [_cpu_metric(50), _cpu_metric(0)]},
            "metrics[1].target.averageUtilization: must be > 0",
        ),
        ({"minReplicas": 2}, "maxReplicas: required"),
        ({"minReplicas": 4, "maxReplicas": 3}, "maxReplicas: must be >= minReplicas"),
        ({"minReplicas": 0, "maxReplicas": 3}, "minReplicas: must be >= 1"),
        ({"maxReplicas": 3, "metrics": [{"type": "CheddarCheese"}]}, "metrics[0].type"),
        (
            {
                "maxReplicas": 3,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "x"}, "target": {"type": "Utilization"}}}
                ],
            },
            "metrics[0].target.type",
        ),
        (
            {
                "maxReplicas": 3,
                "metrics": [
                    {
                        "type": "External",
                        "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "lots"}},
                    }
                ],
            },
            "metrics[0].target.value",
        ),
        (
            {"maxReplicas": 3, "behavior": {"scaleUp": {"selectPolicy": "Fastest"}}},
            "behavior.scaleUp.selectPolicy",
        ),
        (
            {"maxReplicas": 3, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 3601}}},
            "behavior.scaleDown.stabilizationWindowSeconds: must be <= 3600",
        ),
        (
            {
                "maxReplicas": 3,
                "behavior": {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}]}},
            },
            "behavior.scaleDown.policies[0].periodSeconds: must be > 0",
        ),
        (
            {"maxReplicas": 3, "behavior": {"scaleDown": {"policies": []}}},
            "behavior.scaleDown.policies: must be a non-empty list",
        ),
    ],
)
def test_invalid_specs_name_the_field(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        hpa_spec_from_k8s(raw)
    assert str(info.value).startswith(message)


def test_scale_to_zero_allowed_with_external_metric() -> None:
    metric = {
        "type": "External",
        "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "5"}},
    }
    spec = hpa_spec_from_k8s({"minReplicas": 0, "maxReplicas": 3, "metrics": [metric]})
    assert spec.min_replicas == 0
    assert (
        decide(
            spec, HPAObservation(0, 0, (), external_values={"q": (12_000,)}), HPAState(), 0.0
        ).desired_replicas
        == 3
    )


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

policies_st = st.lists(
    st.builds(ScalingPolicy, st.sampled_from(["Pods", "Percent"]), st.integers(1, 300), st.integers(1, 600)),
    min_size=1,
    max_size=3,
).map(tuple)
select_st = st.sampled_from(["Max", "Max", "Min", "Disabled"])
up_rules_st = st.builds(ScalingRules, policies_st, select_st, st.sampled_from([0, 0, 0, 60, 300]))
down_rules_st = st.builds(ScalingRules, policies_st, select_st, st.sampled_from([None, 0, 0, 60, 300]))
behavior_st = st.none() | st.builds(HPABehavior, up_rules_st, down_rules_st)


def _mostly(draw: st.DrawFn, common: Any, rare: st.SearchStrategy[Any], one_in: int = 8) -> Any:
    """`common` most of the time, a draw from `rare` about once in `one_in`."""
    return draw(rare) if draw(st.integers(1, one_in)) == 1 else common


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[HPASpec, HPAObservation, HPAState, float]:
    """A CPU HPA with random bounds, behavior, load and history; some pods missing, unready or new."""
    min_r = draw(st.integers(1, 6))
    max_r = draw(st.integers(min_r, 40))
    current = draw(st.integers(min_r, max_r))
    spec = replace(
        cpu_spec(target=draw(st.integers(10, 150)), min_replicas=min_r, max_replicas=max_r),
        behavior=draw(behavior_st),
    )
    now = float(draw(st.integers(0, 100_000)))
    load = draw(st.integers(0, 5000))  # typical per-pod usage, millicores
    pods = tuple(
        pod(
            f"p{i}",
            _mostly(draw, draw(st.integers(load // 2, load + load // 2)), st.none()),
            start=now - _mostly(draw, 3600, st.integers(0, 3600)),
            ready=_mostly(draw, True, st.sampled_from([False, None])),
            metric_time=now,
        )
        for i in range(_mostly(draw, current, st.integers(0, current + 2)))
    )
    obs = HPAObservation(current, _mostly(draw, current, st.integers(0, max_r)), pods)
    ages = st.integers(0, 900)
    recs = tuple(
        Recommendation(v, now - a) for v, a in draw(st.lists(st.tuples(st.integers(0, 50), ages), max_size=6))
    )
    events = st.lists(
        st.builds(lambda c, a: ScaleEvent(c, now - a), st.integers(1, 10), ages), max_size=4
    ).map(tuple)
    state = HPAState(recs, draw(events), draw(events), draw(st.booleans()))
    return spec, obs, state, now


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(scenarios())
def test_desired_stays_within_bounds(case: tuple[HPASpec, HPAObservation, HPAState, float]) -> None:
    spec, obs, state, now = case
    decision = decide(spec, obs, state, now)
    assert spec.min_replicas <= decision.desired_replicas <= spec.max_replicas


@PROPERTY_SETTINGS
@given(scenarios())
def test_scaling_respects_the_rate_limits(case: tuple[HPASpec, HPAObservation, HPAState, float]) -> None:
    spec, obs, state, now = case
    decision = decide(spec, obs, state, now)
    current, desired = obs.spec_replicas, decision.desired_replicas
    if spec.behavior is None:
        assert desired <= max(2 * current, 4)  # legacy cap, production factor 2
        return
    up, down = state.scale_up_events, state.scale_down_events
    if desired > current:
        assert desired <= scale_up_limit(current, up, down, spec.behavior.scale_up, now)
        assert ScaleEvent(desired - current, now) in decision.state.scale_up_events
    if desired < current:
        assert desired >= scale_down_limit(current, up, down, spec.behavior.scale_down, now)


@PROPERTY_SETTINGS
@given(scenarios())
def test_decide_is_deterministic_and_pure(case: tuple[HPASpec, HPAObservation, HPAState, float]) -> None:
    spec, obs, state, now = case
    before = repr((spec, obs, state, now))
    first: HPADecision = decide(spec, obs, state, now)
    assert repr((spec, obs, state, now)) == before  # inputs untouched
    assert decide(spec, obs, state, now) == first
    if first.metric_proposals and all(p.replicas is None for p in first.metric_proposals):
        assert first.desired_replicas == obs.spec_replicas  # no metric -> no scaling


@PROPERTY_SETTINGS
@given(
    st.integers(1, 10),
    st.integers(0, 300),
    up_rules_st,
    down_rules_st,
    st.lists(st.builds(ScaleEvent, st.integers(1, 20), st.integers(0, 1000)), max_size=4).map(tuple),
    st.lists(st.builds(ScaleEvent, st.integers(1, 20), st.integers(0, 1000)), max_size=4).map(tuple),
    st.data(),
)
def test_rate_limit_clamps_exactly_at_the_policy_limit(
    min_r: int,
    current: int,
    up: ScalingRules,
    down: ScalingRules,
    up_events: tuple[ScaleEvent, ...],
    down_events: tuple[ScaleEvent, ...],
    data: st.DataObject,
) -> None:
    """Changes within the limits pass unchanged; beyond them they stop at the limit, never past it."""
    now, max_r = 1000.0, 250
    current = min(max(current, min_r), max_r)
    ceiling = min(max_r, max(scale_up_limit(current, up_events, down_events, up, now), current))
    floor = max(min_r, min(scale_down_limit(current, up_events, down_events, down, now), current))
    near_a_bound = st.sampled_from([ceiling, floor]).flatmap(lambda b: st.integers(max(0, b - 2), b + 2))
    desired = data.draw(near_a_bound | st.integers(0, 400), label="desired")
    out = convert_desired_replicas_with_behavior_rate(
        current, desired, min_r, max_r, up, down, up_events, down_events, now
    ).replicas
    if desired > current:
        assert current <= out <= ceiling
        assert out == desired or desired > ceiling
    elif desired < current:
        assert floor <= out <= current
        assert out == desired or desired < floor
    else:
        assert out == current
