"""Build an `HPASpec` from an autoscaling/v2 HorizontalPodAutoscaler `spec` mapping.

Applies the API server's defaulting (API = pkg/apis/autoscaling/v2/defaults.go) and the parts of
its validation (pkg/apis/autoscaling/validation/validation.go) that the controller relies on.
Errors are `ValueError`s whose message starts with the offending field, e.g.
`metrics[1].target.averageUtilization: must be > 0`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simkit.control.hpa.types import (
    AVERAGE_VALUE,
    CONTAINER_RESOURCE,
    DEFAULT_METRICS,
    DEFAULT_SCALE_DOWN_RULES,
    DEFAULT_SCALE_UP_RULES,
    EXTERNAL,
    METRIC_TYPES,
    OBJECT,
    PODS,
    POLICY_PERCENT,
    POLICY_PODS,
    RESOURCE,
    SELECT_DISABLED,
    SELECT_MAX,
    SELECT_MIN,
    UTILIZATION,
    VALUE,
    HPABehavior,
    HPASpec,
    MetricSpec,
    MetricTarget,
    ScalingPolicy,
    ScalingRules,
)
from simkit.units import parse_quantity

__all__ = ["hpa_spec_from_k8s"]

# Validation limits (validation.go MaxPeriodSeconds, MaxStabilizationWindowSeconds; PYDOC field docs).
MAX_PERIOD_S = 1800
MAX_STABILIZATION_WINDOW_S = 3600
# The key holding each metric type's source object in a MetricSpec.
_SOURCE_KEY = {
    RESOURCE: "resource",
    CONTAINER_RESOURCE: "containerResource",
    PODS: "pods",
    OBJECT: "object",
    EXTERNAL: "external",
}
# Target types each metric type accepts (validation.go validateMetricTarget and the per-source checks).
_TARGET_TYPES = {
    RESOURCE: (UTILIZATION, AVERAGE_VALUE),
    CONTAINER_RESOURCE: (UTILIZATION, AVERAGE_VALUE),
    PODS: (AVERAGE_VALUE,),
    OBJECT: (VALUE, AVERAGE_VALUE),
    EXTERNAL: (VALUE, AVERAGE_VALUE),
}


def _fail(path: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {problem}")


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected a mapping, got {value!r}")
    return value


def _int(value: Any, path: str, minimum: int, maximum: int | None = None) -> int:
    """An integer field within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"expected an integer, got {value!r}")
    if value < minimum:
        raise _fail(path, f"must be >= {minimum}" if minimum != 1 else "must be > 0")
    if maximum is not None and value > maximum:
        raise _fail(path, f"must be <= {maximum}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(path, f"expected a non-empty string, got {value!r}")
    return value


def _quantity(value: Any, path: str) -> Decimal:
    try:
        return parse_quantity(value)
    except (ValueError, TypeError) as exc:
        raise _fail(path, str(exc)) from exc


def _milli(value: Any, path: str) -> int:
    """A positive quantity in milli-units, rounded up like Go's Quantity.MilliValue()."""
    amount = _quantity(value, path)
    if amount <= 0:
        raise _fail(path, "must be > 0")
    return math.ceil(amount * 1000)


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


def _target(raw: Any, metric_type: str, path: str) -> MetricTarget:
    """Parse `target`; only the field that matches `type` is read (and required)."""
    target = _mapping(raw, path)
    kind = target.get("type")
    if kind not in _TARGET_TYPES[metric_type]:
        allowed = ", ".join(_TARGET_TYPES[metric_type])
        raise _fail(f"{path}.type", f"must be one of {allowed} for a {metric_type} metric, got {kind!r}")
    if kind == UTILIZATION:
        if "averageUtilization" not in target:
            raise _fail(f"{path}.averageUtilization", "required for a Utilization target")
        return MetricTarget(
            kind, average_utilization=_int(target["averageUtilization"], f"{path}.averageUtilization", 1)
        )
    if kind == AVERAGE_VALUE:
        if "averageValue" not in target:
            raise _fail(f"{path}.averageValue", "required for an AverageValue target")
        return MetricTarget(kind, average_value_milli=_milli(target["averageValue"], f"{path}.averageValue"))
    if "value" not in target:
        raise _fail(f"{path}.value", "required for a Value target")
    return MetricTarget(kind, value_milli=_milli(target["value"], f"{path}.value"))


def _metric_name(source: Mapping[str, Any], metric_type: str, path: str) -> str:
    """Resource name for (Container)Resource metrics, `metric.name` for the others."""
    if metric_type in (RESOURCE, CONTAINER_RESOURCE):
        return _text(source.get("name"), f"{path}.name")
    metric = _mapping(source.get("metric"), f"{path}.metric")
    return _text(metric.get("name"), f"{path}.metric.name")


def _metric(raw: Any, index: int) -> MetricSpec:
    """One `spec.metrics[index]` entry."""
    path = f"metrics[{index}]"
    entry = _mapping(raw, path)
    metric_type = entry.get("type")
    if metric_type not in METRIC_TYPES:
        raise _fail(f"{path}.type", f"must be one of {', '.join(METRIC_TYPES)}, got {metric_type!r}")
    key = _SOURCE_KEY[metric_type]
    source = _mapping(entry.get(key), f"{path}.{key}")
    name = _metric_name(source, metric_type, f"{path}.{key}")
    container = None
    if metric_type == CONTAINER_RESOURCE:
        container = _text(source.get("container"), f"{path}.{key}.container")
    target = _target(source.get("target"), metric_type, f"{path}.target")
    return MetricSpec(metric_type, name, target, container)


def _metrics(raw: Any) -> tuple[MetricSpec, ...]:
    """`spec.metrics`; absent or empty means CPU at 80% (API SetDefaults_HorizontalPodAutoscaler)."""
    if raw is None or raw == []:
        return DEFAULT_METRICS  # CPU 80%: API SetDefaults_HorizontalPodAutoscaler (v2/defaults.go)
    if not isinstance(raw, list | tuple):
        raise _fail("metrics", f"expected a list, got {raw!r}")
    return tuple(_metric(entry, i) for i, entry in enumerate(raw))


# ---------------------------------------------------------------------------------------------
# Behavior
# ---------------------------------------------------------------------------------------------


def _policy(raw: Any, path: str) -> ScalingPolicy:
    policy = _mapping(raw, path)
    kind = policy.get("type")
    if kind not in (POLICY_PODS, POLICY_PERCENT):
        raise _fail(f"{path}.type", f"must be Pods or Percent, got {kind!r}")
    value = _int(policy.get("value"), f"{path}.value", 1)
    period = _int(policy.get("periodSeconds"), f"{path}.periodSeconds", 1, MAX_PERIOD_S)
    return ScalingPolicy(kind, value, period)


def _tolerance(raw: Any, path: str) -> float:
    amount = _quantity(raw, path)
    if amount < 0:
        raise _fail(path, "must be >= 0")
    return float(amount)


def _rules(raw: Any, defaults: ScalingRules, path: str) -> ScalingRules:
    """One direction of `behavior`, each field copied from the user if set, else the default
    (API GenerateHPAScaleUpRules / GenerateHPAScaleDownRules via copyHPAScalingRules)."""
    if raw is None:
        return defaults
    rules = _mapping(raw, path)
    window = defaults.stabilization_window_s
    if rules.get("stabilizationWindowSeconds") is not None:
        window = _int(
            rules["stabilizationWindowSeconds"],
            f"{path}.stabilizationWindowSeconds",
            0,
            MAX_STABILIZATION_WINDOW_S,
        )
    select = rules.get("selectPolicy")
    if select is None:
        select = defaults.select_policy
    elif select not in (SELECT_MAX, SELECT_MIN, SELECT_DISABLED):
        raise _fail(f"{path}.selectPolicy", f"must be Max, Min or Disabled, got {select!r}")
    policies = defaults.policies
    if rules.get("policies") is not None:
        raw_policies = rules["policies"]
        if not isinstance(raw_policies, list | tuple) or not raw_policies:
            raise _fail(f"{path}.policies", "must be a non-empty list")  # validation.go: at least one policy
        policies = tuple(_policy(p, f"{path}.policies[{i}]") for i, p in enumerate(raw_policies))
    tolerance = defaults.tolerance
    if rules.get("tolerance") is not None:
        tolerance = _tolerance(rules["tolerance"], f"{path}.tolerance")
    return ScalingRules(policies, select, window, tolerance)


def _behavior(raw: Any) -> HPABehavior | None:
    """`spec.behavior`: None keeps the legacy path; present fills both directions with defaults."""
    if raw is None:
        return None
    behavior = _mapping(raw, "behavior")
    return HPABehavior(
        # Pods 4/15s + Percent 100/15s, Max, window 0: API GenerateHPAScaleUpRules (v2/defaults.go)
        scale_up=_rules(behavior.get("scaleUp"), DEFAULT_SCALE_UP_RULES, "behavior.scaleUp"),
        # Percent 100/15s, Max, window unset (controller flag, 300 s): API GenerateHPAScaleDownRules
        scale_down=_rules(behavior.get("scaleDown"), DEFAULT_SCALE_DOWN_RULES, "behavior.scaleDown"),
    )


def hpa_spec_from_k8s(spec: Mapping[str, Any]) -> HPASpec:
    """Parse a HorizontalPodAutoscaler `spec` (autoscaling/v2 field names) into a defaulted `HPASpec`.

    Quantities such as "10", "500m" or "2Gi" become milli-units. minReplicas defaults to 1
    (API SetDefaults_HorizontalPodAutoscaler); 0 is accepted only with an Object or External
    metric, as the HPAScaleToZero gate requires (validation.go).
    """
    root = _mapping(spec, "spec")
    metrics = _metrics(root.get("metrics"))
    if "maxReplicas" not in root:
        raise _fail("maxReplicas", "required")
    max_replicas = _int(root["maxReplicas"], "maxReplicas", 1)
    min_replicas = 1  # API SetDefaults_HorizontalPodAutoscaler (pkg/apis/autoscaling/v2/defaults.go)
    if root.get("minReplicas") is not None:
        min_replicas = _int(root["minReplicas"], "minReplicas", 0)
    if min_replicas == 0 and not any(m.type in (OBJECT, EXTERNAL) for m in metrics):
        raise _fail(
            "minReplicas", "must be >= 1 (0 needs an Object or External metric and the HPAScaleToZero gate)"
        )
    if max_replicas < min_replicas:
        raise _fail("maxReplicas", f"must be >= minReplicas ({min_replicas})")
    return HPASpec(max_replicas, min_replicas, metrics, _behavior(root.get("behavior")))
