"""Node allocatable = capacity - kube-reserved - system-reserved - hard eviction threshold.

Each managed Kubernetes service publishes how much of a node it keeps for the kubelet, the container
runtime and the OS. These functions reproduce the published formulas so the simulator packs pods
onto the same room a real node would offer.

Sources (see also data/README.md):

* **EKS** (Amazon Linux EKS-optimised AMI): ``awslabs/amazon-eks-ami`` ``files/bootstrap.sh``
  (``get_cpu_millicores_to_reserve``, ``get_memory_mebibytes_to_reserve``, the ``evictionHard``
  ``memory.available: 100Mi`` written to kubelet-config.json; stored commit 0158a1ea). CPU: 6 % of the
  first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % of every core above 4, in bash integer
  arithmetic. Memory: 255 MiB + 11 MiB x max pods. Max pods from ``files/eni-max-pods.txt``.
* **GKE**: cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes ("Memory and CPU
  reservations"): the same CPU percentages as EKS (the EKS script cites GKE for them); memory 25 % of
  the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next 112, 2 % above 128 GiB
  (255 MiB on machines under 1 GiB); eviction threshold 100 MiB.
* **AKS** (Kubernetes 1.29 and later): learn.microsoft.com/azure/aks/node-resource-reservations
  (mirror docs.azure.cn/en-us/aks/node-resource-reservations): CPU from a table by core count
  (1: 60m, 2: 100m, 4: 140m, 8: 180m, 16: 260m, 32: 420m, 64: 740m); memory min(20 MB x max pods +
  50 MB, 25 % of the node's memory); eviction ``memory.available < 100Mi``.
  Assumptions: core counts between table entries are interpolated linearly (above 64 cores the last
  slope is extended); the page's "MB" is read as MiB.

Memory capacity here is the nominal instance size (GiB x 1024); a real node reports somewhat less
because the kernel keeps some memory, so these figures are an upper bound of what ``kubectl`` shows.
"""

from __future__ import annotations

import math

from simkit.catalog.catalog import InstanceType, normalize_provider

__all__ = [
    "EVICTION_HARD_MIB",
    "allocatable",
    "allocatable_for",
    "kube_reserved_cpu_m",
    "kube_reserved_memory_mib",
]

EVICTION_HARD_MIB = {"aws": 100.0, "gcp": 100.0, "azure": 100.0}
"""Hard eviction threshold ``memory.available`` per provider, MiB (sources in the module docstring)."""

# (range start in cores, range end in cores, fraction reserved) - EKS bootstrap.sh / GKE docs.
_CPU_TIERS = ((0, 1, 0.06), (1, 2, 0.01), (2, 4, 0.005), (4, math.inf, 0.0025))
# (range start GiB, range end GiB, fraction reserved) - GKE plan-node-sizes.
_GKE_MEMORY_TIERS = ((0, 4, 0.25), (4, 8, 0.20), (8, 16, 0.10), (16, 128, 0.06), (128, math.inf, 0.02))
_AKS_CPU_TABLE = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))


def _eks_cpu_reserved_m(vcpu: int) -> int:
    """bootstrap.sh arithmetic: per range ``(min(total, end) - start) * pct_x100 / 100 / 100``, truncated."""
    total = vcpu * 1000
    reserved = 0
    for start, end, fraction in _CPU_TIERS:
        lo, hi = start * 1000, end * 1000
        if total > lo:
            pct_x100 = round(fraction * 10000)
            reserved += (int(min(total, hi)) - lo) * pct_x100 // 100 // 100
    return reserved


def _gke_cpu_reserved_m(vcpu: float) -> float:
    total = vcpu * 1000
    return sum(
        (min(total, end * 1000) - start * 1000) * frac
        for start, end, frac in _CPU_TIERS
        if total > start * 1000
    )


def _aks_cpu_reserved_m(vcpu: float) -> float:
    """AKS table lookup; linear between entries, last slope extended beyond 64 cores (assumption)."""
    table = _AKS_CPU_TABLE
    if vcpu <= table[0][0]:
        return float(table[0][1])
    for (c0, m0), (c1, m1) in zip(table, table[1:], strict=False):
        if vcpu <= c1:
            return m0 + (m1 - m0) * (vcpu - c0) / (c1 - c0)
    (c0, m0), (c1, m1) = table[-2], table[-1]
    return m1 + (m1 - m0) * (vcpu - c1) / (c1 - c0)


def kube_reserved_cpu_m(provider: str, vcpu: float) -> float:
    """CPU the provider reserves for system daemons on a node with ``vcpu`` cores, in millicores."""
    prov = _provider(provider)
    if prov == "aws":
        return float(_eks_cpu_reserved_m(int(vcpu)))
    if prov == "gcp":
        return _gke_cpu_reserved_m(vcpu)
    return _aks_cpu_reserved_m(vcpu)


def _gke_memory_reserved_mib(memory_gib: float) -> float:
    if memory_gib < 1:
        return 255.0
    gib = sum(
        (min(memory_gib, end) - start) * frac for start, end, frac in _GKE_MEMORY_TIERS if memory_gib > start
    )
    return gib * 1024


def kube_reserved_memory_mib(provider: str, memory_gib: float, max_pods: int) -> float:
    """Memory the provider reserves for system daemons (excluding the eviction threshold), MiB."""
    prov = _provider(provider)
    if prov == "aws":
        return float(11 * max_pods + 255)
    if prov == "gcp":
        return _gke_memory_reserved_mib(memory_gib)
    return min(20.0 * max_pods + 50.0, 0.25 * memory_gib * 1024)


def allocatable(provider: str, vcpu: float, memory_gib: float, max_pods: int) -> tuple[int, float]:
    """(cpu_millicores, memory_mib) a node offers to pods after reservations and hard eviction.

    ``provider`` is ``aws``/``eks``, ``gcp``/``gke`` or ``azure``/``aks``. CPU is rounded down to a
    whole millicore so the scheduler never sees more room than the node has.
    """
    if vcpu <= 0 or memory_gib <= 0 or max_pods <= 0:
        raise ValueError(
            f"vcpu, memory_gib and max_pods must be positive, got {vcpu}, {memory_gib}, {max_pods}"
        )
    prov = _provider(provider)
    cpu_m = math.floor(vcpu * 1000 - kube_reserved_cpu_m(prov, vcpu) + 1e-9)
    mem = memory_gib * 1024 - kube_reserved_memory_mib(prov, memory_gib, max_pods) - EVICTION_HARD_MIB[prov]
    return cpu_m, max(mem, 0.0)


def allocatable_for(instance: InstanceType, max_pods: int | None = None) -> tuple[int, float]:
    """``allocatable`` for a catalog instance type, with its default max pods unless given."""
    pods = instance.max_pods if max_pods is None else max_pods
    return allocatable(instance.provider, instance.vcpu, instance.memory_gib, pods)


def _provider(provider: str) -> str:
    prov = normalize_provider(provider)
    if prov not in EVICTION_HARD_MIB:
        raise ValueError(f"unknown provider {provider!r}; known: aws (eks), azure (aks), gcp (gke)")
    return prov
