"""Cluster health as the cluster autoscaler's `clusterstate` package judges it.

Upstream: kubernetes/autoscaler cluster-autoscaler/clusterstate/clusterstate.go (`IsClusterHealthy`,
`IsNodeGroupHealthy`). Both scale-up and scale-down stop when the cluster is unhealthy, so the
check lives here rather than in either of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import CANode

__all__ = ["cluster_healthy", "is_not_started"]


def is_not_started(node: CANode, flags: CAFlags, now: float) -> bool:
    """Registered but not Ready within `max-node-startup-time`: upcoming, not a candidate (§3.5)."""
    return not node.ready and node.created_at + flags.max_node_startup_time > now


def cluster_healthy(nodes: Sequence[CANode], flags: CAFlags, now: float) -> bool:
    """False when unready > ok-total-unready-count AND > max-total-unready-percentage of nodes.

    `clusterstate.go` `IsClusterHealthy`; still-starting nodes are not counted as unready.
    """
    unready = sum(1 for n in nodes if not n.ready and not is_not_started(n, flags, now))
    limit = flags.max_total_unready_percentage / 100 * len(nodes)
    return not (unready > flags.ok_total_unready_count and unready > limit)
