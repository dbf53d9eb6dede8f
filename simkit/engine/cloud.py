"""The cloud seam: launching, refusing and retrying nodes of a pool's instance type.

Every node provisioner launches through `Cloud`: the cluster autoscaler's node groups today, and
a future Karpenter (its own instance choice, `catalog.provisioning` preset "karpenter") tomorrow.
Upstream analogues: cluster-autoscaler cloudprovider/ (NodeGroup.IncreaseSize, the launch errors
of an ASG) and Karpenter pkg/cloudprovider/types.go (CloudProvider.Create).

A launch takes `delay_s` (cloud provisioning plus kubelet start); when it is due the cloud may
refuse it (`refusal`: zone down, spot capacity short). A refused launch is reported to the
autoscaler (`launch_failures`, which backs the group off) and, for a group whose desired size
already counts the node (a replacement), retried every `ASG_RETRY_S`. A new refusal reason (a
quota, say) is one more branch of `refusal`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from simkit.catalog.provisioning import provision_time_distribution
from simkit.engine.state import ClusterState, Node
from simkit.scenario.model import NodePool, Scenario

__all__ = ["ASG_RETRY_S", "Cloud"]

ASG_RETRY_S = 300.0
"""How often an auto-scaling group retries a failed launch (assumption; AWS retries within minutes)."""

Join = Callable[[NodePool, str], None]
"""Called when an instance of the pool is up in the zone: the node joins the cluster."""

Event = Callable[[str, str, str, str], None]
"""Records an event (kind, object, reason, message) at the current time."""


class Cloud:
    """The instances being launched, per pool, and the zones the cloud cannot launch into."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        state: ClusterState,
        join: Join,
        event: Event,
        rng: np.random.Generator,
    ) -> None:
        self.env, self.scenario, self.state = env, scenario, state
        self._join, self._event, self._rng = join, event, rng
        self.provisioning: dict[str, list[str]] = {p.name: [] for p in scenario.cluster.node_pools}
        self.zones_down: set[str] = set()  # set by the AZ-outage fault
        self.launch_failures: list[str] = []  # pools whose launches failed, for the cluster autoscaler
        self._ticket_zones: dict[str, list[str]] = {}
        self.ticket_zone: dict[str, str] = {}  # launch ticket -> its zone, until it joins or fails
        self.self_replacing: set[str] = set()  # pools a provisioner (Karpenter) refills itself, not `replace`

    def launch(self, pool: NodePool, zone: str, delay_s: float, keep_trying: bool = False) -> str:
        """Order a node; it joins Ready after `delay_s` unless the cloud refuses it then.

        `keep_trying`: the group's desired size already counts this node (a replacement), so a
        refused launch is retried every `ASG_RETRY_S`, as an auto-scaling group does. Returns the
        launch's ticket (listed in `provisioning` until it joins).
        """
        ticket = self.state.next_name(f"upcoming-{pool.name}")
        self.provisioning.setdefault(pool.name, []).append(ticket)
        self._ticket_zones.setdefault(pool.name, []).append(zone)
        self.ticket_zone[ticket] = zone
        self.state.touch()
        self.env.process(self._joins(pool, zone, delay_s, keep_trying, ticket))
        return ticket

    def _joins(self, pool: NodePool, zone: str, delay_s: float, keep_trying: bool, ticket: str) -> Any:
        yield self.env.timeout(delay_s)
        self._ticket_zones[pool.name].remove(zone)
        self.ticket_zone.pop(ticket, None)
        if ticket not in self.provisioning[pool.name]:
            return  # cancelled
        self.provisioning[pool.name].remove(ticket)
        problem = self.refusal(pool, zone)
        if problem:
            self.state.touch()
            self.launch_failures.append(pool.name)
            self._event("Node", pool.name, "FailedToLaunch", f"{zone}: {problem}")
            if keep_trying:
                yield self.env.timeout(ASG_RETRY_S)
                self.launch(pool, self.launch_zone(pool), delay_s, keep_trying=True)
            return
        self._join(pool, zone)

    def refusal(self, pool: NodePool, zone: str) -> str:
        """Why a new instance of `pool` cannot start in `zone` now ("" if it can)."""
        if zone in self.zones_down:
            return "zone unavailable"
        now = self.env.now
        for short in self.scenario.faults.spot.shortages:
            if (
                _short_of(short.pool, pool)
                and (short.zone is None or short.zone == zone)
                and short.at <= now < short.at + short.duration
            ):
                return "InsufficientInstanceCapacity (spot capacity not available)"
        return ""

    def launch_zone(self, pool: NodePool) -> str:
        """The zone an auto-scaling group launches into: the reachable one with the fewest of its nodes."""
        zones = pool.zones or self.scenario.cluster.zones
        up = [z for z in zones if z not in self.zones_down] or list(zones)
        counts = dict.fromkeys(up, 0)
        for n in self.state.alive_nodes():
            if n.pool == pool.name and n.zone in counts:
                counts[n.zone] += 1
        for ticket_zone in self._ticket_zones.get(pool.name, []):
            if ticket_zone in counts:
                counts[ticket_zone] += 1
        return min(up, key=lambda z: (counts[z], up.index(z)))

    def cancel(self, pool: str, count: int) -> None:
        """Cancel the `count` oldest launches of `pool` that have not joined yet."""
        del self.provisioning[pool][:count]
        self.state.touch()

    def cancel_ticket(self, pool: str, ticket: str) -> None:
        """Cancel one launch of `pool` that has not joined yet (a node-pool upgrade's scale-down)."""
        if ticket in self.provisioning[pool]:
            self.provisioning[pool].remove(ticket)
            self.state.touch()

    def replace(self, node: Node) -> None:
        """The node's group launches a replacement (its desired size is unchanged), retrying."""
        if node.pool in self.self_replacing:
            return  # its pods go Pending and the provisioner launches what they need
        pool = self.scenario.pool(node.pool)
        delay = provision_time_distribution("node-group").sample(self._rng)
        self.launch(pool, self.launch_zone(pool), delay, keep_trying=True)


def _short_of(name: str, pool: NodePool) -> bool:
    """A spot shortage named `name` hits the node group `name`, or the spot offerings of the
    Karpenter NodePool `name` (its on-demand offerings stay available: the fallback)."""
    if pool.name == name:
        return True
    return pool.labels.get("karpenter.sh/nodepool") == name and pool.capacity_type == "spot"
