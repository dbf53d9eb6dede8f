"""Cluster Autoscaler command-line flags, with the real names and CA 1.37 defaults.

Every default below comes from `CA137:config/flags/flags.go` (some through constants in
`CA137:config/const.go`), as tabulated in shared/reference/ca_spec.md §1. Durations are
seconds; memory quotas are GiB as in `--memory-total`. Flags are given as a mapping
(`{"scale-down-unneeded-time": "5m", "--expander": "least-waste"}`) and parsed once here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from simkit.units import parse_duration

__all__ = ["CAFlags", "NodeGroupBounds", "EXPANDER_NAMES", "IGNORED_FLAGS"]

# `CA137:expander/expander.go` registered names (grpc needs an external server: not simulated).
EXPANDER_NAMES = ("random", "most-pods", "least-waste", "least-nodes", "price", "priority")

# Flags that exist upstream but do not change simulated decisions: accepted and ignored, so a
# user can paste a real flag list. Everything else unknown is an error.
IGNORED_FLAGS = frozenset(
    {
        "cloud-provider",
        "cloud-config",
        "kubeconfig",
        "namespace",
        "v",
        "logtostderr",
        "stderrthreshold",
        "leader-elect",
        "write-status-configmap",
        "status-config-map-name",
        "node-group-auto-discovery",
        "aws-use-static-instance-list",
        "address",
        "fastpath-binpacking-enabled",
        "scale-down-non-empty-candidates-count",
        "scale-down-candidates-pool-ratio",
        "scale-down-candidates-pool-min-count",
    }
)


@dataclass(frozen=True)
class NodeGroupBounds:
    """One `--nodes=<min>:<max>:<name>` entry (`CA137:config/flags/flags.go` `nodeGroupsFlag`)."""

    min_size: int
    max_size: int
    name: str

    @classmethod
    def parse(cls, text: str) -> NodeGroupBounds:
        """Parse "3:20:application-pool"; min ≤ max and both non-negative, as upstream validates."""
        parts = str(text).split(":", 2)
        if len(parts) != 3 or not parts[2]:
            raise ValueError(f"--nodes: expected <min>:<max>:<name>, got {text!r}")
        try:
            lo, hi = int(parts[0]), int(parts[1])
        except ValueError as exc:
            raise ValueError(f"--nodes: min and max must be integers, got {text!r}") from exc
        if lo < 0 or hi < lo:
            raise ValueError(f"--nodes: need 0 <= min <= max, got {text!r}")
        return cls(lo, hi, parts[2])


@dataclass(frozen=True)
class CAFlags:
    """Cluster Autoscaler flags (field = flag name with '-' -> '_'); defaults are CA 1.37's."""

    # --- loop (ca_spec §1, §2.1)
    scan_interval: float = 10.0  # config.DefaultScanInterval (const.go)
    frequent_loops_enabled: bool = True  # default true since CA 1.35 (flags.go)
    # --- scale-down timing
    scale_down_enabled: bool = True  # flags.go (deprecated flag)
    scale_down_unneeded_time: float = 600.0  # DefaultScaleDownUnneededTime = 10m
    scale_down_unready_time: float = 1200.0  # DefaultScaleDownUnreadyTime = 20m
    scale_down_delay_after_add: float = 600.0  # flags.go: 10m
    scale_down_delay_after_delete: float = 0.0  # flags.go: 0 (no delay)
    scale_down_delay_after_failure: float = 180.0  # DefaultScaleDownDelayAfterFailure = 3m
    scale_down_delay_type_local: bool = False  # flags.go
    scale_down_utilization_threshold: float = 0.5  # DefaultScaleDownUtilizationThreshold
    scale_down_gpu_utilization_threshold: float = 0.5  # DefaultScaleDownGpuUtilizationThreshold
    scale_down_unready_enabled: bool = True  # flags.go
    unremovable_node_recheck_timeout: float = 300.0  # flags.go: 5m
    scale_down_simulation_timeout: float = 30.0  # flags.go: 30s
    # --- provisioning
    max_node_provision_time: float = 900.0  # flags.go: 15m
    max_node_startup_time: float = 900.0  # flags.go; clusterstate.MaxNodeStartupTime
    new_pod_scale_up_delay: float = 0.0  # flags.go: 0s
    # --- drain
    max_graceful_termination_sec: int = 600  # flags.go
    max_pod_eviction_time: float = 120.0  # flags.go: 2m
    max_scale_down_parallelism: int = 10  # flags.go
    max_drain_parallelism: int = 1  # flags.go
    node_delete_delay_after_taint: float = 5.0  # flags.go
    node_deletion_delay_timeout: float = 120.0  # flags.go
    cordon_node_before_terminating: bool = True  # flags.go
    daemonset_eviction_for_empty_nodes: bool = False  # flags.go
    daemonset_eviction_for_occupied_nodes: bool = True  # flags.go
    max_bulk_soft_taint_count: int = 10  # flags.go
    max_bulk_soft_taint_time: float = 3.0  # flags.go
    # --- health gate (clusterstate.go IsClusterHealthy)
    max_total_unready_percentage: float = 45.0  # flags.go
    ok_total_unready_count: int = 3  # flags.go
    # --- limits
    max_nodes_total: int = 0  # flags.go: 0 = unlimited
    cores_total: tuple[int, int] = (0, 5000 * 64)  # config.DefaultMaxClusterCores
    memory_total: tuple[int, int] = (0, 5000 * 64 * 20)  # config.DefaultMaxClusterMemory (GiB)
    max_nodes_per_scaleup: int = 1000  # flags.go (binpacking limiter)
    max_nodegroup_binpacking_duration: float = 10.0  # flags.go
    max_binpacking_time: float = 300.0  # flags.go
    enforce_node_group_min_size: bool = False  # flags.go
    scale_up_from_zero: bool = True  # flags.go
    enable_graceful_degradation: bool = False  # flags.go
    # --- expander and balancing
    expander: str = "least-waste"  # least-waste since CA 1.33 (commit f8a68efe63); random before
    balance_similar_node_groups: bool = False  # flags.go
    memory_difference_ratio: float = 0.015  # config.DefaultMaxCapacityMemoryDifferenceRatio
    max_free_difference_ratio: float = 0.05  # config.DefaultMaxFreeDifferenceRatio
    max_allocatable_difference_ratio: float = 0.05  # config.DefaultMaxAllocatableDifferenceRatio
    balancing_ignore_label: tuple[str, ...] = ()  # flags.go (repeatable)
    balancing_label: tuple[str, ...] = ()  # flags.go (repeatable)
    # --- drainability (CA137:simulator/drainability/rules)
    skip_nodes_with_system_pods: bool = True  # flags.go
    skip_nodes_with_local_storage: bool = True  # flags.go
    skip_nodes_with_custom_controller_pods: bool = True  # flags.go
    blocking_system_pod_distruption_timeout: float = 3600.0  # flags.go (sic: "distruption")
    min_replica_count: int = 0  # flags.go
    expendable_pods_priority_cutoff: int = -10  # flags.go
    ignore_daemonsets_utilization: bool = False  # flags.go
    ignore_mirror_pods_utilization: bool = False  # flags.go
    # --- backoff (CA137:utils/backoff/exponential_backoff.go via flags.go)
    initial_node_group_backoff_duration: float = 300.0  # 5m
    max_node_group_backoff_duration: float = 1800.0  # 30m
    node_group_backoff_reset_timeout: float = 10800.0  # 3h
    # --- node groups (`--nodes`, repeatable)
    nodes: tuple[NodeGroupBounds, ...] = field(default=())

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> CAFlags:
        """Build flags from `{flag-name: value}`; raise ValueError naming the flag if it is bad."""
        updates: dict[str, Any] = {}
        for raw_name, value in mapping.items():
            name = str(raw_name).lstrip("-")
            if name in IGNORED_FLAGS:
                continue
            attr = name.replace("-", "_")
            parser = _PARSERS.get(attr)
            if parser is None or "_" in name:
                raise ValueError(f"--{name}: unknown cluster-autoscaler flag")
            try:
                updates[attr] = parser(value)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"--{name}: {exc}") from exc
        return replace(cls(), **updates)

    def bounds_for(self, group: str) -> NodeGroupBounds | None:
        """The `--nodes` bounds declared for `group`, if any."""
        return next((b for b in self.nodes if b.name == group), None)


# ---------------------------------------------------------------- value parsers


def _bool(value: Any) -> bool:
    """Go flag booleans: true/false/1/0 (case-insensitive) or a Python bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "t"):
        return True
    if text in ("false", "0", "f"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(str(value).strip()) if not isinstance(value, int | float) else int(value)


def _nonneg_int(value: Any) -> int:
    number = _int(value)
    if number < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return number


def _ratio(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"expected a ratio between 0 and 1, got {value!r}")
    return number


def _nonneg_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if number < 0:
        raise ValueError(f"expected a non-negative number, got {value!r}")
    return number


def _duration(value: Any) -> float:
    """A Go duration ("10m", "1h30m"); plain numbers are seconds."""
    return parse_duration(value)


def _min_max(value: Any) -> tuple[int, int]:
    """`--cores-total` / `--memory-total` syntax "<min>:<max>"."""
    parts = str(value).split(":")
    if len(parts) != 2:
        raise ValueError(f"expected <min>:<max>, got {value!r}")
    lo, hi = _nonneg_int(parts[0]), _nonneg_int(parts[1])
    if hi < lo:
        raise ValueError(f"min must not exceed max, got {value!r}")
    return lo, hi


def _strings(value: Any) -> tuple[str, ...]:
    """A repeatable string flag: a list, or one comma-separated string."""
    items: Iterable[Any] = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _expander(value: Any) -> str:
    """Comma-separated expander chain; every name must be a registered expander."""
    names = _strings(value)
    unknown = [n for n in names if n not in EXPANDER_NAMES]
    if not names or unknown:
        raise ValueError(f"unknown expander {unknown or value!r}; known: {', '.join(EXPANDER_NAMES)}")
    return ",".join(names)


def _node_groups(value: Any) -> tuple[NodeGroupBounds, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(NodeGroupBounds.parse(str(item)) for item in items)


def _parser_for(f_name: str, default: Any) -> Callable[[Any], Any]:
    """Pick the parser from the field's default type (durations are the float fields named so)."""
    special: dict[str, Callable[[Any], Any]] = {
        "expander": _expander,
        "nodes": _node_groups,
        "cores_total": _min_max,
        "memory_total": _min_max,
        "balancing_ignore_label": _strings,
        "balancing_label": _strings,
        "scale_down_utilization_threshold": _ratio,
        "scale_down_gpu_utilization_threshold": _ratio,
        "memory_difference_ratio": _ratio,
        "max_free_difference_ratio": _ratio,
        "max_allocatable_difference_ratio": _ratio,
        "max_total_unready_percentage": _nonneg_float,
        "expendable_pods_priority_cutoff": _int,
    }
    if f_name in special:
        return special[f_name]
    if isinstance(default, bool):
        return _bool
    if isinstance(default, int):
        return _nonneg_int
    return _duration


_PARSERS: dict[str, Callable[[Any], Any]] = {
    f.name: _parser_for(f.name, getattr(CAFlags(), f.name)) for f in fields(CAFlags)
}
