"""Cluster-autoscaler scans that provably repeat the last one, though the state version moved on.

A rollout changes pods every few seconds, and every change bumps the engine's state version, so
the CA loop (`ca_loop._Scanner.scan`) runs in full at every scan while it lasts. Most of those
scans cannot decide anything new: no pod is pending, nothing is provisioning, and every
autoscaled node was found unremovable in the last few minutes, so the scale-down pass reads no
pod, no PodDisruptionBudget and no node utilization (`ca_loop.pods_read_by_scale_down` is empty).
What such a pass returns then depends only on the nodes' identity, readiness, deletion state and
annotations, the CA state and the cooldown gate; `NoOpScan` remembers them from a full scan and
says when a later scan would return the same (cluster-autoscaler's own loop skips on an unchanged
state, `ca_loop`; this is the same decision computed from less).

Why each input is covered, reading `control/ca` (cluster-autoscaler 1.35, `core/static_autoscaler.go`
RunOnce, `core/scaledown/eligibility/eligibility.go`, `clusterstate/clusterstate.go`, as cited there):

* scale-up with no pending pod and no open request or backoff entry: `update_scale_up_requests`
  keeps the state, every node Ready keeps the cluster healthy at any time, and the pass ends in
  NoUnschedulablePods with the same message; no random draw is made.
* scale-down: healthy as above; no candidate is NotStarted (all Ready) or in a per-group cooldown
  (`--scale-down-delay-type-local` off); every autoscaled node is RecentlyUnremovable (checked
  against `now`), every other one is NotAutoscaled, or tainted for deletion (excluded here); no node
  is eligible, so the drain simulation sees nothing, no node is unneeded, nothing is deleted; the
  status is ScaleDownInCooldown or NoScaleDown by `cooldown_reason(now)`, compared here. The returned
  state equals the old one except that unremovable entries of nodes gone from the cluster may be
  dropped, which nothing reads (node names are never reused).
* busy nodes (`NOOP_BUSY_NODES`): an autoscaled node that is not recently unremovable is read, but
  if the recorded scan found it `NotUnderutilized` and its utilization's inputs are the same (its
  scheduler view, the same object: allocatable; and each bound pod's spec and DaemonSet flag, with
  no pod terminating, so `drain.node_utilization` reads no deletion time and does not depend on
  `now`), its eligibility is NotUnderutilized again: it is no candidate, it enters no drain
  simulation and no `unremovable_until` entry (only simulated nodes get one), so the pass decides
  as before. During a rollout the node that still has room is such a node: the new pods land on
  it or elsewhere and its pods, once placed, stay the same for minutes. A node the recorded scan
  read and found unremovable in its drain simulation is RecentlyUnremovable in the state it
  returned (the state a repeat compares with), so a repeat does not read it. When a busy node's
  pods did change (a pod placed, terminating or gone), the repeat asks for the node's eligibility
  as the scan computes it (`recheck`: `scale_down.eligibility_reason` on the node and its pods now)
  and repeats only if it is NotUnderutilized again: the same verdict, so the same decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from simkit.control.ca import CAFlags, CAState
from simkit.control.ca.scale_down import TO_BE_DELETED_TAINT, cooldown_reason
from simkit.engine.cluster import Engine
from simkit.engine.state import PodPhase

__all__ = ["NOOP_BUSY_NODES", "NoOpScan", "busy_key", "node_key"]

NOOP_BUSY_NODES = True  # a scan that read only NotUnderutilized nodes may be repeated too; tests turn it off
NOT_UNDERUTILIZED = "NotUnderutilized"  # control/ca/scale_down.py eligibility_reason


def node_key(engine: Engine) -> tuple[object, ...]:
    """What a scan with no pod to read sees of the nodes: name, pool, readiness, cordon, taints, upgrade."""
    upgrading = engine.upgrading_pools
    return tuple(
        (n.name, n.pool, n.ready, n.cordoned, n.taints, n.pool in upgrading)
        for n in engine.state.alive_nodes()
    )


def busy_key(engine: Engine, name: str) -> tuple[object, ...] | None:
    """What `drain.node_utilization` reads of node `name`: its scheduler view (compared by identity;
    the allocatable) and each bound pod's spec and DaemonSet flag; None if a pod is terminating
    (its deletion time makes the utilization depend on `now`, `drain.is_long_terminating`)."""
    state = engine.state
    node = state.nodes[name]
    pods = state.bound_pods(node)
    if any(p.phase is PodPhase.TERMINATING or p.deleted_s is not None for p in pods):
        return None
    return (state.node_view(node), tuple((p.name, p.spec, p.daemonset) for p in pods))


def _same_busy(a: tuple[object, ...] | None, b: tuple[object, ...] | None) -> bool:
    return a is not None and b is not None and a[0] is b[0] and a[1] == b[1]


@dataclass(frozen=True)
class NoOpScan:
    """A full scan that read no pod, or only NotUnderutilized nodes' (`busy`), and left the CA
    quiet: its inputs, state and cooldown gate."""

    nodes: tuple[object, ...]
    autoscaled: tuple[str, ...]  # the nodes of autoscaled groups
    state: CAState
    cooldown: str | None
    busy: dict[str, tuple[object, ...] | None]  # node read -> its `busy_key` (NotUnderutilized then)

    @classmethod
    def after(
        cls,
        engine: Engine,
        flags: CAFlags,
        state: CAState,
        pools: set[str],
        now: float,
        read: dict[str, str | None] | None = None,
    ) -> NoOpScan | None:
        """The record of the full scan just run at `now` (quiet, no pending pod; `read`: the nodes
        whose pods it read, with their scale-down reason), or None when a later scan with the same
        inputs could still decide differently as time goes on."""
        read = read or {}
        if read and not NOOP_BUSY_NODES:
            return None
        if (
            flags.scale_down_delay_type_local
            or state.backoff
            or state.scale_up_requests
            or state.unneeded_since
        ):
            return None
        alive = engine.state.alive_nodes()
        if not all(n.ready and not n.cordoned for n in alive):
            return None
        if any(t.key == TO_BE_DELETED_TAINT for n in alive for t in n.taints):
            return None
        busy = {}
        for name, why in read.items():
            if why != NOT_UNDERUTILIZED:
                if state.unremovable_until.get(name, -math.inf) > now:
                    continue  # found unremovable just now: RecentlyUnremovable in a repeat, not read
                return None
            busy[name] = busy_key(engine, name)  # None (a pod terminating): `recheck` at every repeat
        autoscaled = tuple(n.name for n in alive if n.pool in pools)
        return cls(node_key(engine), autoscaled, state, cooldown_reason(flags, state, now), busy)

    def repeats(
        self,
        engine: Engine,
        flags: CAFlags,
        state: CAState,
        now: float,
        recheck: Callable[[str], str | None] | None = None,
    ) -> bool:
        """Whether a scan now, with this state and nothing pending or provisioning, returns the same."""
        if state is not self.state or node_key(engine) != self.nodes:
            return False
        until, busy = state.unremovable_until, self.busy
        for name in self.autoscaled:
            if (until.get(name, -math.inf) > now) == (name in busy):
                return False  # read now though not then, or not read now though then
        for name, key in busy.items():
            if not _same_busy(key, busy_key(engine, name)) and (
                recheck is None or recheck(name) != NOT_UNDERUTILIZED
            ):
                return False
        return cooldown_reason(flags, state, now) == self.cooldown
