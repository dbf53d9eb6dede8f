"""Adapter between Kubernetes' HPA test vectors (shared/reference/hpa_vectors.json) and simkit.control.hpa.

`check(vector) -> str | None` runs one vector through the matching simkit function and returns None
when simkit agrees, else a short "expected X, got Y". Vectors give times as ages before "now";
this adapter turns them into absolute times with the fixed clock NOW (hpa_spec.md §1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from simkit.control.hpa import HPAControllerConfig, HPAObservation, HPAState, decide, hpa_spec_from_k8s
from simkit.control.hpa.behavior import (
    convert_desired_replicas_with_behavior_rate,
    legacy_convert_desired_replicas,
    legacy_stabilize,
    replicas_change_in_period,
    scale_down_limit,
    scale_up_limit,
    stabilize_with_behavior,
    store_scale_event,
)
from simkit.control.hpa.metrics import (
    external_average_value_replicas,
    external_value_replicas,
    object_average_value_replicas,
    object_value_replicas,
    plain_metric_replicas,
    resource_replicas,
)
from simkit.control.hpa.pods import MetricError, MetricSample, group_pods
from simkit.control.hpa.types import (
    ContainerSample,
    HPABehavior,
    MetricSpec,
    MetricTarget,
    PodSample,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    Tolerances,
)

NOW = 1_000_000.0
Vector = Mapping[str, Any]


# ---------------------------------------------------------------------------------------------
# Conversions from the vector schema
# ---------------------------------------------------------------------------------------------


def _at(age: float | None) -> float | None:
    """Absolute time of an age in seconds before NOW (None stays None)."""
    return None if age is None else NOW - float(age)


def _ready(value: str | None) -> bool | None:
    return None if value is None else value == "True"


def _tol(raw: Mapping[str, float]) -> Tolerances:
    return Tolerances(scale_down=raw["scale_down"], scale_up=raw["scale_up"])


def _config(inp: Vector) -> HPAControllerConfig:
    return HPAControllerConfig(
        cpu_initialization_period_s=inp.get("cpu_initialization_period_s", 300),
        initial_readiness_delay_s=inp.get("initial_readiness_delay_s", 30),
    )


def _pod(
    raw: Vector, containers: Sequence[ContainerSample] = (), metrics: Mapping[str, int] | None = None
) -> PodSample:
    return PodSample(
        name=raw["name"],
        start_time=_at(raw.get("start_age_s")),
        phase=raw.get("phase", "Running"),
        ready=_ready(raw.get("ready")),
        deleting=raw.get("deleting", False),
        ready_transition_time=_at(raw.get("ready_transition_age_s")),
        containers=tuple(containers),
        metric_time=_at(raw.get("metric_age_s", 0)),
        metric_window_s=raw.get("metric_window_s", 60),
        metrics=metrics or {},
    )


def _rules(raw: Vector) -> ScalingRules:
    policies = tuple(ScalingPolicy(p["type"], p["value"], p["period_s"]) for p in raw["policies"])
    return ScalingRules(policies, raw["select_policy"], raw["stabilization_window_s"])


def _events(raw: Sequence[Vector]) -> tuple[ScaleEvent, ...]:
    return tuple(ScaleEvent(e["change"], NOW - e["age_s"]) for e in raw)


def _recs(raw: Sequence[Vector]) -> tuple[Recommendation, ...]:
    return tuple(Recommendation(r["value"], NOW - r["age_s"]) for r in raw)


def _k8s_rules(raw: Vector | None) -> dict[str, Any] | None:
    """Vector rules (snake_case) -> autoscaling/v2 HPAScalingRules field names."""
    if raw is None:
        return None
    return {
        "stabilizationWindowSeconds": raw.get("stabilization_window_s"),
        "selectPolicy": raw.get("select_policy"),
        "policies": [
            {"type": p["type"], "value": p["value"], "periodSeconds": p["period_s"]} for p in raw["policies"]
        ],
    }


def _diff(expected: Mapping[str, Any], got: Mapping[str, Any]) -> str | None:
    """Compare the expected keys only; describe the first mismatches."""
    bad = [f"{k}: expected {v!r}, got {got.get(k)!r}" for k, v in expected.items() if got.get(k) != v]
    return "; ".join(bad) or None


def _expect_error(expected: Vector, run: Callable[[], object]) -> str | None:
    """For vectors whose expected result is an error substring."""
    try:
        result = run()
    except MetricError as exc:
        return None if expected["error"] in str(exc) else f"expected error {expected['error']!r}, got {exc!r}"
    return f"expected error {expected['error']!r}, got {result!r}"


# ---------------------------------------------------------------------------------------------
# Replica calculator kinds
# ---------------------------------------------------------------------------------------------


def _resource_replicas(inp: Vector, exp: Vector) -> str | None:
    resource, container = inp["resource"], inp["container"]
    pods, samples = [], {}
    for raw in inp["pods"]:
        requests = {} if raw["request_milli"] is None else {resource: raw["request_milli"]}
        pods.append(_pod(raw, [ContainerSample(container or "app", requests)]))
        if raw["usage_milli"] is not None:
            samples[raw["name"]] = MetricSample(
                raw["usage_milli"], NOW - raw["metric_age_s"], raw["metric_window_s"]
            )
    for extra in inp.get("extra_metrics") or ():
        samples[extra["name"]] = MetricSample(extra["usage_milli"], NOW)

    def run() -> Any:
        return resource_replicas(
            inp["current_replicas"],
            inp["target_utilization"],
            resource,
            container,
            pods,
            samples,
            _tol(inp["tolerance"]),
            NOW,
            _config(inp),
        )

    if "error" in exp:
        return _expect_error(exp, run)
    r = run()
    return _diff(
        exp,
        {
            "replicas": r.replicas,
            "utilization_percent": r.utilization_percent,
            "raw_average_milli": r.usage_milli,
        },
    )


def _pods_metric_replicas(inp: Vector, exp: Vector) -> str | None:
    pods = [_pod(raw) for raw in inp["pods"]]
    samples = {
        raw["name"]: MetricSample(raw["value_milli"], NOW)
        for raw in inp["pods"]
        if raw["value_milli"] is not None
    }
    r = plain_metric_replicas(
        inp["current_replicas"],
        inp["target_average_value_milli"],
        pods,
        samples,
        None,
        _tol(inp["tolerance"]),
        NOW,
        _config(inp),
    )
    return _diff(exp, {"replicas": r.replicas, "usage_average_milli": r.usage_milli})


def _group_pods(inp: Vector, exp: Vector) -> str | None:
    pods = [_pod(raw) for raw in inp["pods"]]
    samples = {
        raw["name"]: MetricSample(0, NOW - raw.get("metric_age_s", 0), raw.get("metric_window_s", 60))
        for raw in inp["pods"]
        if raw["has_metric"]
    }
    g = group_pods(pods, samples, inp["resource"], NOW, _config(inp))
    got = {
        "ready_count": g.ready_count,
        "unready": sorted(g.unready),
        "missing": sorted(g.missing),
        "ignored": sorted(g.ignored),
    }
    return _diff({k: sorted(v) if isinstance(v, list) else v for k, v in exp.items()}, got)


def _object_value(inp: Vector, exp: Vector) -> str | None:
    r = object_value_replicas(
        inp["current_replicas"],
        inp["target_value_milli"],
        inp["object_value_milli"],
        inp["ready_pod_count"],
        _tol(inp["tolerance"]),
    )
    return _diff(exp, {"replicas": r.replicas, "usage_milli": r.usage_milli})


def _object_average(inp: Vector, exp: Vector) -> str | None:
    r = object_average_value_replicas(
        inp["status_replicas"],
        inp["target_average_value_milli"],
        inp["object_value_milli"],
        _tol(inp["tolerance"]),
    )
    return _diff(exp, {"replicas": r.replicas, "usage_average_milli": r.usage_milli})


def _external_value(inp: Vector, exp: Vector) -> str | None:
    r = external_value_replicas(
        inp["current_replicas"],
        inp["target_value_milli"],
        inp["external_values_milli"],
        inp["ready_pod_count"],
        _tol(inp["tolerance"]),
    )
    return _diff(exp, {"replicas": r.replicas, "usage_milli": r.usage_milli})


def _external_average(inp: Vector, exp: Vector) -> str | None:
    r = external_average_value_replicas(
        inp["status_replicas"],
        inp["target_average_value_milli"],
        inp["external_values_milli"],
        _tol(inp["tolerance"]),
    )
    return _diff(exp, {"replicas": r.replicas, "usage_average_milli": r.usage_milli})


# ---------------------------------------------------------------------------------------------
# Normalization kinds
# ---------------------------------------------------------------------------------------------


def _legacy_convert(inp: Vector, exp: Vector) -> str | None:
    r = legacy_convert_desired_replicas(
        inp["current_replicas"],
        inp["desired_replicas"],
        inp["min_replicas"],
        inp["max_replicas"],
        inp["scale_up_limit_factor"],
        inp["scale_up_limit_minimum"],
    )
    return _diff(exp, {"replicas": r.replicas, "condition_reason": r.reason})


def _legacy_stabilize(inp: Vector, exp: Vector) -> str | None:
    value, recs = legacy_stabilize(
        _recs(inp["recommendations"]), inp["desired_replicas"], NOW, inp["downscale_stabilization_window_s"]
    )
    return _diff(exp, {"replicas": value, "recommendations_length_after": len(recs)})


def _behavior_stabilize(inp: Vector, exp: Vector) -> str | None:
    outcome, recs = stabilize_with_behavior(
        _recs(inp["recommendations"]),
        inp["current_replicas"],
        inp["desired_replicas"],
        inp["scale_up_stabilization_window_s"],
        inp["scale_down_stabilization_window_s"],
        NOW,
    )
    return _diff(exp, {"replicas": outcome.replicas, "stored_recommendation_values": [r.value for r in recs]})


def _limit(inp: Vector, exp: Vector, fn: Callable[..., int]) -> str | None:
    limit = fn(
        inp["current_replicas"],
        _events(inp["scale_up_events"]),
        _events(inp["scale_down_events"]),
        _rules(inp["rules"]),
        NOW,
    )
    return _diff(exp, {"limit": limit})


def _defaulted_behavior(inp: Vector) -> HPABehavior:
    """Default the user's rules with hpa_spec_from_k8s; check them against the vector's defaulted rules."""
    user = {
        "scaleUp": _k8s_rules(inp["scale_up_rules_user"]),
        "scaleDown": _k8s_rules(inp["scale_down_rules_user"]),
    }
    behavior = hpa_spec_from_k8s({"maxReplicas": 1, "behavior": user}).behavior
    assert behavior is not None
    down = behavior.scale_down
    if down.stabilization_window_s is None:  # filled by the controller flag (300 s) at reconcile time
        down = replace(down, stabilization_window_s=300)
    behavior = HPABehavior(behavior.scale_up, down)
    expected = HPABehavior(_rules(inp["scale_up_rules"]), _rules(inp["scale_down_rules"]))
    if behavior != expected:
        raise AssertionError(f"defaulting differs: expected {expected}, got {behavior}")
    return behavior


def _behavior_rate_limit(inp: Vector, exp: Vector) -> str | None:
    behavior = _defaulted_behavior(inp)
    r = convert_desired_replicas_with_behavior_rate(
        inp["current_replicas"],
        inp["desired_replicas"],
        inp["min_replicas"],
        inp["max_replicas"],
        behavior.scale_up,
        behavior.scale_down,
        _events(inp["scale_up_events"]),
        _events(inp["scale_down_events"]),
        NOW,
    )
    return _diff(exp, {"replicas": r.replicas, "condition_reason": r.reason})


def _store_scale_events(inp: Vector, exp: Vector) -> str | None:
    """Run the store for a scale-up (10 -> 10+change) and a scale-down (10 -> 10-change); both must match."""
    behavior = None if inp["rules"] is None else HPABehavior(_rules(inp["rules"]), _rules(inp["rules"]))
    previous = _events(inp["previous_events"])
    change = inp["replica_change"]
    before = replicas_change_in_period(previous, inp["period_for_change_query_s"], NOW)
    up, _ = store_scale_event(behavior, previous, (), 10, 10 + change, NOW)
    _, down = store_scale_event(behavior, (), previous, 10, 10 - change, NOW)
    for events in (up, down):
        problem = _diff(
            exp,
            {
                "change_in_last_60s_before_store": before,
                "events_after_store": [{"change": e.change, "outdated": e.outdated} for e in events],
            },
        )
        if problem:
            return problem
    return None


# ---------------------------------------------------------------------------------------------
# Whole reconcile
# ---------------------------------------------------------------------------------------------


def _k8s_target(raw: Vector) -> dict[str, Any]:
    target: dict[str, Any] = {"type": raw["type"]}
    if "average_utilization" in raw:
        target["averageUtilization"] = raw["average_utilization"]
    if "average_value_milli" in raw:
        target["averageValue"] = f"{raw['average_value_milli']}m"
    if "value_milli" in raw:
        target["value"] = f"{raw['value_milli']}m"
    return target


def _k8s_metric(raw: Vector) -> dict[str, Any]:
    """Vector metric -> autoscaling/v2 MetricSpec mapping."""
    kind, target = raw["type"], _k8s_target(raw["target"])
    if kind == "Resource":
        return {"type": kind, "resource": {"name": raw["resource"], "target": target}}
    if kind == "ContainerResource":
        return {
            "type": kind,
            "containerResource": {"name": raw["resource"], "container": raw["container"], "target": target},
        }
    key = {"Pods": "pods", "Object": "object", "External": "external"}[kind]
    return {"type": kind, key: {"metric": {"name": raw["metric"]}, "target": target}}


def _reconcile_spec(hpa: Vector) -> Any:
    """HPASpec via hpa_spec_from_k8s; invalid metric types and minReplicas are set afterwards, because
    the upstream tests build HPA objects that the API server's validation would reject."""
    known = [
        m
        for m in hpa["metrics"]
        if m["type"] in ("Resource", "ContainerResource", "Pods", "Object", "External")
    ]
    behavior = hpa["behavior"]
    raw_spec: dict[str, Any] = {
        "maxReplicas": hpa["max_replicas"],
        "metrics": [_k8s_metric(m) for m in known],
    }
    if behavior is not None:
        raw_spec["behavior"] = {
            "scaleUp": _k8s_rules(behavior.get("scale_up")),
            "scaleDown": _k8s_rules(behavior.get("scale_down")),
        }
    spec = hpa_spec_from_k8s(raw_spec)
    parsed = iter(spec.metrics if known else ())
    metrics = tuple(
        next(parsed) if m in known else MetricSpec(m["type"], "", MetricTarget("")) for m in hpa["metrics"]
    )
    return replace(spec, metrics=metrics, min_replicas=hpa["min_replicas"])


def _reconcile_observation(inp: Vector) -> HPAObservation:
    metrics = inp["hpa"]["metrics"]
    pods_metric = next((m["metric"] for m in metrics if m["type"] == "Pods"), "qps")
    pods = []
    for raw in inp["pods"]:
        containers = [
            ContainerSample(
                c["name"],
                {"cpu": c["request_milli"]},
                {} if c["usage_milli"] is None else {"cpu": c["usage_milli"]},
            )
            for c in raw["containers"]
        ]
        value = raw.get("pods_metric_value_milli")
        pods.append(_pod(raw, containers, None if value is None else {pods_metric: value}))
    objects, externals = {}, {}
    for m in metrics:
        if m.get("fetch_error"):
            continue
        if m["type"] == "Object" and inp.get("object_value_milli") is not None:
            objects[m["metric"]] = inp["object_value_milli"]
        if m["type"] == "External" and inp.get("external_values_milli") is not None:
            externals[m["metric"]] = tuple(inp["external_values_milli"])
    scale = inp["scale"]
    return HPAObservation(scale["spec_replicas"], scale["status_replicas"], tuple(pods), objects, externals)


def _controller_reconcile(inp: Vector, exp: Vector) -> str | None:
    ctl = inp["controller"]
    if ctl["tolerance"]["scale_up"] != ctl["tolerance"]["scale_down"]:
        return "adapter: asymmetric controller tolerance is not a controller flag"
    config = HPAControllerConfig(
        tolerance=ctl["tolerance"]["scale_up"],
        downscale_stabilization_s=ctl["downscale_stabilization_s"],
        cpu_initialization_period_s=ctl["cpu_initialization_period_s"],
        initial_readiness_delay_s=ctl["initial_readiness_delay_s"],
        scale_up_limit_factor=ctl["scale_up_limit_factor"],
        scale_up_limit_minimum=ctl["scale_up_limit_minimum"],
    )
    recs = inp["recommendations"]
    state = HPAState() if recs is None else HPAState(recommendations=_recs(recs), initialized=True)
    decision = decide(_reconcile_spec(inp["hpa"]), _reconcile_observation(inp), state, NOW, config)
    limited = decision.condition("ScalingLimited")
    got = {
        "desired_replicas": decision.desired_replicas,
        "scaling_limited_reason": None if limited is None else limited.reason,
    }
    return _diff(exp, got)


_KINDS: dict[str, Callable[[Vector, Vector], str | None]] = {
    "resource_replicas": _resource_replicas,
    "pods_metric_replicas": _pods_metric_replicas,
    "group_pods": _group_pods,
    "object_metric_value_replicas": _object_value,
    "object_metric_average_value_replicas": _object_average,
    "external_metric_value_replicas": _external_value,
    "external_metric_average_value_replicas": _external_average,
    "legacy_convert_desired_replicas": _legacy_convert,
    "legacy_stabilize": _legacy_stabilize,
    "behavior_stabilize": _behavior_stabilize,
    "scale_up_limit": lambda i, e: _limit(i, e, scale_up_limit),
    "scale_down_limit": lambda i, e: _limit(i, e, scale_down_limit),
    "behavior_rate_limit": _behavior_rate_limit,
    "store_scale_events": _store_scale_events,
    "controller_reconcile": _controller_reconcile,
}


def check(vector: Vector) -> str | None:
    """None when simkit reproduces the vector's expected result, else what differs."""
    handler = _KINDS.get(vector["kind"])
    if handler is None:
        return f"no adapter for kind {vector['kind']!r}"
    return handler(vector["input"], vector["expected"])
