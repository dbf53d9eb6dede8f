"""Cluster Autoscaler as a pure controller: the public API the engine calls.

Semantics follow kubernetes/autoscaler `cluster-autoscaler-release-1.37` as paraphrased in
shared/reference/ca_spec.md. Nothing here touches simpy, pandas or the wall clock: `now` (seconds)
and a numpy `rng` come in, a decision with a reason code and the new `CAState` goes out.

One CA loop (every `flags.scan_interval`) for the engine:

    su = scale_up(pending_pods, groups, nodes, upcoming, flags, state, now, rng)
    sd = scale_down(nodes, pods_by_node, groups, flags, su.state, now, pdbs=pdbs)
    state = sd.state
    # apply su.reverted (cancel provisioning nodes), su.increases (order nodes; each takes
    # provision_time_distribution().sample(rng) seconds), sd.remove (taint, drain, delete).

The pieces live in this package's submodules: flags, model (types), backoff, expanders, estimator,
balance, drain, scale_up and scale_down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simkit.control.ca.backoff import is_backed_off, register_failure, remove_stale
from simkit.control.ca.balance import TemplateInfo, balance_scale_up, nodes_similar
from simkit.control.ca.drain import DrainPlan, Utilization, node_utilization, plan_drain
from simkit.control.ca.estimator import Estimate, estimate_nodes
from simkit.control.ca.expanders import ExpansionOption, PodPriceModel, choose
from simkit.control.ca.flags import CAFlags, NodeGroupBounds
from simkit.control.ca.model import (
    CANode,
    CAPod,
    CAState,
    FitFn,
    NodeGroup,
    PodDisruptionBudget,
    Volume,
)
from simkit.control.ca.scale_down import ScaleDownDecision, register_scale_down_failure, scale_down
from simkit.control.ca.scale_up import ScaleUpDecision, register_failed_scale_up, scale_up

__all__ = [
    "CAFlags",
    "NodeGroupBounds",
    "NodeGroup",
    "CANode",
    "CAPod",
    "Volume",
    "PodDisruptionBudget",
    "CAState",
    "FitFn",
    "ScaleUpDecision",
    "ScaleDownDecision",
    "scale_up",
    "scale_down",
    "register_failed_scale_up",
    "register_scale_down_failure",
    "ProvisionTimeDistribution",
    "provision_time_distribution",
    "PROVISION_TIME_PRESETS",
    # building blocks, exposed for notebooks and the test vectors
    "ExpansionOption",
    "PodPriceModel",
    "choose",
    "Estimate",
    "estimate_nodes",
    "TemplateInfo",
    "nodes_similar",
    "balance_scale_up",
    "Utilization",
    "node_utilization",
    "DrainPlan",
    "plan_drain",
    "is_backed_off",
    "register_failure",
    "remove_stale",
]

_Z90 = 1.2815515655446004  # standard normal 90th percentile


@dataclass(frozen=True)
class ProvisionTimeDistribution:
    """Lognormal time from CA's scale-up request to the node being Ready, fixed by median and p90."""

    median_s: float
    p90_s: float
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.median_s <= self.p90_s:
            raise ValueError(f"need 0 < median <= p90, got {self.median_s} / {self.p90_s}")

    @property
    def sigma(self) -> float:
        """Log-space standard deviation: ln(p90 / median) / z(0.9)."""
        return math.log(self.p90_s / self.median_s) / _Z90

    def sample(self, rng: np.random.Generator) -> float:
        """One provisioning time in seconds."""
        return float(self.median_s * math.exp(self.sigma * rng.standard_normal()))


# shared/reference/reliability.md §4. The median/p90 pairs are simkit's reading of those figures.
PROVISION_TIME_PRESETS: dict[str, ProvisionTimeDistribution] = {
    # ASG / VMSS / MIG node groups: EKS "1-2 minutes to add new nodes" (AWS containers blog via
    # aws/karpenter-provider-aws#6165) and the derived 90-240 s range: median 120 s, p90 240 s.
    "node-group": ProvisionTimeDistribution(120.0, 240.0, "reliability.md §4: EKS ASG 1-2 min; 90-240 s"),
    # GCE/GKE: "usually takes 3 to 4 minutes from CA request to when pods can be scheduled" (CA FAQ).
    "gce": ProvisionTimeDistribution(210.0, 240.0, "reliability.md §4: CA FAQ, GCE 3-4 min"),
    # Karpenter: "typically ... about 30-40s in a ready state" (aws/karpenter-provider-aws#6165).
    "karpenter": ProvisionTimeDistribution(35.0, 40.0, "reliability.md §4: Karpenter 30-40 s"),
}


def provision_time_distribution(kind: str = "node-group") -> ProvisionTimeDistribution:
    """Default node provisioning-time distribution for `kind` (node-group, gce or karpenter)."""
    try:
        return PROVISION_TIME_PRESETS[kind]
    except KeyError as exc:
        known = ", ".join(PROVISION_TIME_PRESETS)
        raise ValueError(f"unknown provisioning profile {kind!r}; known: {known}") from exc
