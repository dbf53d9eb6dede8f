"""The labels Kubernetes and the clouds put on a node, so that pods selecting them schedule as they would.

Pure functions, no engine. Sources:

- kubelet `initialNode` (kubernetes/kubernetes pkg/kubelet/kubelet_node_status.go) sets
  `kubernetes.io/hostname`, `kubernetes.io/os`, `kubernetes.io/arch` and still the beta aliases
  `beta.kubernetes.io/os` and `beta.kubernetes.io/arch` (`kubeletapis.LabelOS/LabelArch`); its
  `updateDefaultLabels` keeps zone, region and instance type in both their GA and beta spellings.
- The cloud node controller (kubernetes/cloud-provider controllers/node/node_controller.go,
  `labelReconcileInfo`) reconciles `failure-domain.beta.kubernetes.io/zone|region` with
  `topology.kubernetes.io/zone|region` and `beta.kubernetes.io/instance-type` with
  `node.kubernetes.io/instance-type`, so all six are set on nodes today.
- The cluster autoscaler's templates carry the same set (kubernetes/autoscaler
  cluster-autoscaler/cloudprovider/aws/aws_manager.go `buildGenericLabels`; default arch amd64, os
  linux: cloudprovider.DefaultArch/DefaultOS).
- EKS managed node groups: `eks.amazonaws.com/nodegroup` and `eks.amazonaws.com/capacityType`
  (`ON_DEMAND`/`SPOT`) (docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html,
  "Managed node group capacity types").
- GKE: `cloud.google.com/gke-nodepool`, and `cloud.google.com/gke-spot: "true"` on Spot VMs
  (cloud.google.com/kubernetes-engine/docs/concepts/spot-vms); preemptible VMs, the older kind, carry
  `cloud.google.com/gke-preemptible: "true"` instead (simkit's spot is Spot VMs).
- AKS: `kubernetes.azure.com/agentpool` (and the legacy `agentpool`), and on spot pools
  `kubernetes.azure.com/scalesetpriority: spot` (learn.microsoft.com/azure/aks/spot-node-pool). AKS
  also taints spot nodes `kubernetes.azure.com/scalesetpriority=spot:NoSchedule`; simkit takes the
  pool's taints as the scenario declares them and adds none.
- Karpenter (karpenter.sh/docs/concepts/scheduling, "Well-Known Labels"): `karpenter.sh/nodepool` and
  `karpenter.sh/capacity-type` (`spot`/`on-demand`), only on nodes Karpenter provisions
  (`karpenter_labels`; simkit's node pools are cluster-autoscaler groups, so not used yet).

Architecture: the catalog has no arch column, so it comes from the providers' naming rules: AWS
Graviton families carry a `g` after the generation digit (m6g, c7gn, t4g; a1 is Graviton 1),
Azure Arm sizes a `p` among the size's feature letters (Standard_D4ps_v5), GCP's Arm series are
t2a, c4a and n4a; everything else is amd64, cloudprovider.DefaultArch.
"""

from __future__ import annotations

import re

__all__ = ["arch_of", "karpenter_labels", "pool_labels", "zone_labels"]

OS = "linux"
DEFAULT_ARCH = "amd64"

_AWS_ARM = re.compile(r"^(a1|[a-z]+\d+[a-z]*g[a-z]*)\.", re.IGNORECASE)
_AZURE_ARM = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+$", re.IGNORECASE)
_GCP_ARM_SERIES = frozenset({"t2a", "c4a", "n4a"})


def _provider(provider: str) -> str:
    key = provider.strip().lower()
    return {"eks": "aws", "aks": "azure", "gke": "gcp", "google": "gcp"}.get(key, key)


def arch_of(provider: str, instance_type: str) -> str:
    """`arm64` for the providers' Arm instance families, else `amd64`."""
    prov = _provider(provider)
    if prov == "aws" and _AWS_ARM.match(instance_type):
        return "arm64"
    if prov == "azure" and _AZURE_ARM.match(instance_type):
        return "arm64"
    if prov == "gcp" and instance_type.split("-", 1)[0].lower() in _GCP_ARM_SERIES:
        return "arm64"
    return DEFAULT_ARCH


def _spot(capacity_type: str) -> bool:
    return capacity_type.lower().replace("_", "-") == "spot"


def _provider_labels(provider: str, pool: str, capacity_type: str) -> dict[str, str]:
    prov = _provider(provider)
    spot = _spot(capacity_type)
    if prov == "aws":
        return {
            "eks.amazonaws.com/nodegroup": pool,
            "eks.amazonaws.com/capacityType": "SPOT" if spot else "ON_DEMAND",
        }
    if prov == "gcp":
        return {
            "cloud.google.com/gke-nodepool": pool,
            **({"cloud.google.com/gke-spot": "true"} if spot else {}),
        }
    if prov == "azure":
        out = {"kubernetes.azure.com/agentpool": pool, "agentpool": pool}
        if spot:
            out["kubernetes.azure.com/scalesetpriority"] = "spot"
        return out
    return {}


def pool_labels(
    provider: str, region: str, pool: str, instance_type: str, capacity_type: str
) -> dict[str, str]:
    """The labels every node of one node pool shares (zone and hostname are per node)."""
    arch = arch_of(provider, instance_type)
    return {
        "kubernetes.io/os": OS,
        "beta.kubernetes.io/os": OS,
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/arch": arch,
        "node.kubernetes.io/instance-type": instance_type,
        "beta.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/region": region,
        **_provider_labels(provider, pool, capacity_type),
    }


def zone_labels(zone: str) -> dict[str, str]:
    """The zone labels of a node in `zone`, GA and beta."""
    return {"topology.kubernetes.io/zone": zone, "failure-domain.beta.kubernetes.io/zone": zone}


def karpenter_labels(nodepool: str, capacity_type: str) -> dict[str, str]:
    """What Karpenter adds to the nodes it provisions (not yet used: simkit has no Karpenter)."""
    return {
        "karpenter.sh/nodepool": nodepool,
        "karpenter.sh/capacity-type": "spot" if _spot(capacity_type) else "on-demand",
    }
