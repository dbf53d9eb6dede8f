"""kube-controller-manager's HPA flags, by their real names, parsed into `HPAControllerConfig`.

Upstream: kubernetes/kubernetes cmd/kube-controller-manager/app/options/hpacontroller.go (the
flags) and pkg/controller/podautoscaler/config/v1alpha1/defaults.go (their defaults). Scenario
validation and the engine share this one parser; a scenario's flags are parsed once, when it is
validated (`Cluster.hpa_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simkit.control.hpa.types import HPAControllerConfig
from simkit.units import parse_duration

__all__ = ["KCM_HPA_FLAGS", "hpa_controller_config"]

KCM_HPA_FLAGS = {
    "horizontal-pod-autoscaler-sync-period": ("sync_period_s", "duration"),
    "horizontal-pod-autoscaler-tolerance": ("tolerance", "float"),
    "horizontal-pod-autoscaler-downscale-stabilization": ("downscale_stabilization_s", "duration"),
    "horizontal-pod-autoscaler-cpu-initialization-period": ("cpu_initialization_period_s", "duration"),
    "horizontal-pod-autoscaler-initial-readiness-delay": ("initial_readiness_delay_s", "duration"),
}
"""kube-controller-manager flags that shape the HPA (hpa_spec.md §2), by their real names."""


def hpa_controller_config(flags: Mapping[str, Any]) -> HPAControllerConfig:
    """`HPAControllerConfig` from kube-controller-manager flag names; Kubernetes' defaults otherwise.

    Raises ValueError naming the flag and what was expected.
    """
    values: dict[str, float] = {}
    for raw_key, raw in flags.items():
        key = raw_key.lstrip("-")
        if key not in KCM_HPA_FLAGS:
            raise ValueError(f"unknown flag {raw_key!r}; known: {', '.join(sorted(KCM_HPA_FLAGS))}")
        field_name, kind = KCM_HPA_FLAGS[key]
        try:
            value = parse_duration(raw) if kind == "duration" else float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{key}: expected a {kind}, got {raw!r}") from None
        if value < 0 or (field_name == "sync_period_s" and value == 0):
            raise ValueError(f"{key}: must be positive, got {raw!r}")
        values[field_name] = value
    return HPAControllerConfig(**values)
