"""How long a cloud takes to hand over a Ready node, by provisioner kind ("node-group", "gce", "karpenter").

A property of the cloud and of how nodes are ordered (an auto-scaling group, a GCE managed instance
group, Karpenter's direct fleet requests), not of the autoscaler that orders them: the cluster
autoscaler and a future Karpenter both sample it through `simkit.engine.cloud`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PROVISION_TIME_PRESETS", "ProvisionTimeDistribution", "provision_time_distribution"]

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
