"""The node lifecycle controller's taint timing for a node that stopped reporting.

Upstream: kubernetes/kubernetes pkg/controller/nodelifecycle/node_lifecycle_controller.go
(`monitorNodeHealth`, `handleDisruption`, `ComputeZoneState`, the per-zone rate-limited taint
queue) and plugin/pkg/admission/defaulttolerationseconds (the 300 s toleration); timings from
shared/reference/k8s_timings.md §1.2-1.3. Pure: `now` and the zone's node counts come in, a
decision with a reason code goes out; the engine applies the taints and evicts.

A node whose kubelet stops posting status is NotReady after `NODE_MONITOR_GRACE_S` and tainted
`node.kubernetes.io/unreachable:NoSchedule`. When its NoExecute taint follows depends on its zone:
in a fully disrupted zone one node per `TAINT_INTERVAL_S` (a token bucket, burst 1); in a
partially disrupted zone (more than 2 nodes and at least 55 % NotReady) none in a small zone, the
secondary rate in a large one; otherwise at once. Pods without a longer toleration are evicted
`NOT_READY_TOLERATION_S` after the NoExecute taint.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FULL_DISRUPTION",
    "LARGE_CLUSTER_SIZE",
    "NODE_MONITOR_GRACE_S",
    "NORMAL",
    "NOT_READY_TOLERATION_S",
    "PARTIAL_DISRUPTION",
    "PARTIAL_DISRUPTION_RATIO",
    "SECONDARY_TAINT_INTERVAL_S",
    "TAINT_INTERVAL_S",
    "TaintDecision",
    "UNREACHABLE",
    "noexecute_taint",
]

NODE_MONITOR_GRACE_S = 50.0  # k8s_timings.md §1.2 (v1.32+; 40 s before): --node-monitor-grace-period
NOT_READY_TOLERATION_S = 300.0  # k8s_timings.md §1.3, DefaultTolerationSeconds admission plugin
TAINT_INTERVAL_S = 10.0  # k8s_timings.md §1.2: --node-eviction-rate 0.1 node/s per zone
SECONDARY_TAINT_INTERVAL_S = 100.0  # --secondary-node-eviction-rate 0.01 node/s (large zones)
PARTIAL_DISRUPTION_RATIO = 0.55  # --unhealthy-zone-threshold
LARGE_CLUSTER_SIZE = 50  # --large-cluster-size-threshold: larger zones keep evicting, slowly
UNREACHABLE = "node.kubernetes.io/unreachable"

NORMAL = "Normal"  # zone state stateNormal: taint at once
FULL_DISRUPTION = "FullDisruption"  # every node of the zone NotReady: the rate-limited queue
PARTIAL_DISRUPTION = "PartialDisruption"  # the secondary rate, or no eviction in a small zone


@dataclass(frozen=True)
class TaintDecision:
    """When the NoExecute taint goes on, and the zone's limiter afterwards.

    `delay_s` is None when the controller does not taint at all (a small, partially disrupted
    zone). `next_token_s` is when the zone's rate limiter next has a token (None: unchanged).
    """

    delay_s: float | None
    next_token_s: float | None
    reason: str
    message: str


def noexecute_taint(
    now: float, zone_nodes: int, zone_not_ready: int, next_token_s: float | None
) -> TaintDecision:
    """Delay from `now` to the NoExecute taint of a NotReady node, from its zone's state.

    `zone_nodes` counts the zone's nodes (this one included), `zone_not_ready` the NotReady ones;
    `next_token_s` is when the zone's limiter next has a token (None: it has one now).
    """
    if zone_nodes - zone_not_ready == 0:
        start = max(now, now if next_token_s is None else next_token_s)
        return TaintDecision(
            start - now,
            start + TAINT_INTERVAL_S,
            FULL_DISRUPTION,
            f"zone fully disrupted: taint at {start:g} s",
        )
    if zone_not_ready > 2 and zone_not_ready / zone_nodes >= PARTIAL_DISRUPTION_RATIO:
        if zone_nodes <= LARGE_CLUSTER_SIZE:
            return TaintDecision(None, None, PARTIAL_DISRUPTION, "zone partially disrupted: no eviction")
        return TaintDecision(
            SECONDARY_TAINT_INTERVAL_S,
            None,
            PARTIAL_DISRUPTION,
            "large zone partially disrupted: secondary rate",
        )
    return TaintDecision(0.0, None, NORMAL, "zone healthy: taint at once")
