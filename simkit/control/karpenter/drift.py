"""Drift and expiration of NodeClaims, as pure functions of the NodePool and the node.

kubernetes-sigs/karpenter at 2266468104f36373ed002241afaee2d3bbc26078 (v1.14.0-20-g2266468):
- pkg/apis/v1/nodepool.go `NodePool.Hash`: a hash of `spec.template` (labels, annotations, taints,
  startupTaints, nodeClassRef, expireAfter, terminationGracePeriod); `requirements` and `resources`
  are `hash:"ignore"` (pkg/apis/v1/nodeclaim.go), so they drift through the requirement check.
- pkg/controllers/nodeclaim/disruption/drift.go `isDrifted`: static drift first (`NodePoolDrifted`,
  the NodeClaim's `karpenter.sh/nodepool-hash` annotation differs from the NodePool's), then
  `RequirementsDrifted` (the NodeClaim's labels no longer satisfy the NodePool's requirements).
- pkg/controllers/nodeclaim/expiration/controller.go: a NodeClaim older than `expireAfter` is deleted
  at once, forcefully: no budgets, no replacement launched ahead (its pods reschedule through the
  provisioner), draining bounded by `terminationGracePeriod`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "NODEPOOL_DRIFTED",
    "REQUIREMENTS_DRIFTED",
    "drift_reason",
    "expires_at",
    "is_expired",
    "requirement_satisfied",
    "template_hash",
]

NODEPOOL_DRIFTED = "NodePoolDrifted"  # drift.go DriftReason values
REQUIREMENTS_DRIFTED = "RequirementsDrifted"


def template_hash(template: Mapping[str, Any]) -> str:
    """`NodePool.Hash` over the hashed fields of the template: zero values ignored, lists as sets
    (hashstructure's `IgnoreZeroValue`, `SlicesAsSets`); `requirements`/`resources` excluded."""

    def norm(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {str(k): norm(x) for k, x in sorted(v.items()) if x not in (None, {}, [], "")}
        if isinstance(v, list | tuple):
            return sorted((norm(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, default=str))
        return v

    kept = {k: v for k, v in template.items() if k not in ("requirements", "resources")}
    blob = json.dumps(norm(kept), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def requirement_satisfied(operator: str, values: Sequence[str], label: str | None) -> bool:
    """Whether a node label value satisfies one NodeSelectorRequirement (In/NotIn/Exists/
    DoesNotExist/Gt/Lt, k8s.io/apimachinery selection semantics)."""
    if operator == "Exists":
        return label is not None
    if operator == "DoesNotExist":
        return label is None
    if operator == "In":
        return label is not None and label in values
    if operator == "NotIn":
        return label is None or label not in values
    if label is None or not label.lstrip("-").isdigit() or not values:
        return False
    return int(label) > int(values[0]) if operator == "Gt" else int(label) < int(values[0])


def drift_reason(
    pool_hash: str,
    node_hash: str,
    requirements: Sequence[tuple[str, str, Sequence[str]]],
    node_labels: Mapping[str, str],
) -> str:
    """`isDrifted` without the cloud-provider checks: `NodePoolDrifted`, `RequirementsDrifted` or ""."""
    if pool_hash != node_hash:
        return NODEPOOL_DRIFTED
    for key, op, values in requirements:
        if not requirement_satisfied(op, values, node_labels.get(key)):
            return REQUIREMENTS_DRIFTED
    return ""


def expires_at(created_s: float, expire_after_s: float | None) -> float | None:
    """When a NodeClaim expires (`creationTimestamp + expireAfter`); None for `Never`."""
    return None if expire_after_s is None else created_s + expire_after_s


def is_expired(created_s: float, expire_after_s: float | None, now_s: float) -> bool:
    """The expiration controller's test: `!clock.Now().Before(expirationTime)`."""
    at = expires_at(created_s, expire_after_s)
    return at is not None and now_s >= at
