"""A scenario's deployment plans as the settings they leave behind in the exported files.

A plan is simulated so that its settings can be applied with confidence: the rollout's Deployment
`strategy`, `minReadySeconds`, `progressDeadlineSeconds` and `revisionHistoryLimit`, the
statefulset-update's `updateStrategy` and `podManagementPolicy` go into the workload's manifest
(apps/v1 field names, as the plan spells them); a node-pool-upgrade's settings go into the pool's
Terraform values under the provider resource's own block:

- EKS `aws_eks_node_group.update_config` {max_unavailable | max_unavailable_percentage}
  (registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/eks_node_group; the API's
  NodegroupUpdateConfig: one of the two, 1-100). `update_strategy` (DEFAULT | MINIMAL) is written only
  when MINIMAL: it needs a recent provider (assumption: not verified against a provider changelog).
- GKE `google_container_node_pool.upgrade_settings` {max_surge, max_unavailable, strategy,
  blue_green_settings {standard_rollout_policy {batch_percentage | batch_node_count,
  batch_soak_duration}, node_pool_soak_duration}} (registry.terraform.io/providers/hashicorp/google/
  latest/docs/resources/container_node_pool; durations as "<seconds>s" strings like the API's).
- AKS `azurerm_kubernetes_cluster_node_pool.upgrade_settings` {max_surge, drain_timeout_in_minutes,
  node_soak_duration_in_minutes} (registry.terraform.io/providers/hashicorp/azurerm/latest/docs/
  resources/kubernetes_cluster_node_pool; max_surge is a string, "10%" by default as in the AKS API).
  AKS `maxUnavailable` and `undrainableNodeBehavior` have no block attribute there: they are noted
  in a comment instead.

Settings go out only on the provider they were written for (an EKS updateConfig is not translated
to GKE). When several plans target the same workload or pool, the last one's settings are what stays
configured, so the last one wins.

Progressive delivery (`canary`, `blue-green` plans) would export an Argo Rollouts `Rollout` or a
Flagger `Canary` instead of a Deployment strategy: `PROGRESSIVE_EXPORTERS` is the hook, one builder
per plan kind, to be filled once those kinds and their CRD schemas are in (validated with the CRDs'
own OpenAPI schemas, not kubernetes-validate).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simkit.scenario.model import NodePool, Scenario, Workload
from simkit.scenario.plans import Plan

WORKLOAD_PLAN_KINDS = {"Deployment": "rollout", "StatefulSet": "statefulset-update"}

ProgressiveBuilder = Callable[[Plan, Workload, dict[str, Any]], list[dict[str, Any]]]
PROGRESSIVE_EXPORTERS: dict[str, ProgressiveBuilder] = {}
"""Plan kind -> builder of the objects that replace/accompany the workload (an Argo `Rollout`, a
Flagger `Canary`), given the plan, the workload and its exported Deployment. Empty until the canary
and blue-green kinds exist; `progressive_objects` calls it."""

# the Terraform block each provider's pool resource takes for its upgrade settings
UPGRADE_BLOCK = {"aws": "update_config", "gcp": "upgrade_settings", "azure": "upgrade_settings"}
UPGRADE_TYPES = {
    "aws": (
        "optional(object({\n"
        "  max_unavailable            = optional(number)\n"
        "  max_unavailable_percentage = optional(number)\n"
        "  update_strategy            = optional(string)\n"
        "}))"
    ),
    "gcp": (
        "optional(object({\n"
        "  strategy        = optional(string)\n"
        "  max_surge       = optional(number)\n"
        "  max_unavailable = optional(number)\n"
        "  blue_green_settings = optional(object({\n"
        "    node_pool_soak_duration = optional(string)\n"
        "    standard_rollout_policy = optional(object({\n"
        "      batch_node_count    = optional(number)\n"
        "      batch_percentage    = optional(number)\n"
        "      batch_soak_duration = optional(string)\n"
        "    }))\n"
        "  }))\n"
        "}))"
    ),
    "azure": (
        "optional(object({\n"
        "  max_surge                     = string\n"
        "  drain_timeout_in_minutes      = optional(number)\n"
        "  node_soak_duration_in_minutes = optional(number)\n"
        "}))"
    ),
}
PROVIDER_OF_SETTINGS = {"aws": "EKS", "gcp": "GKE", "azure": "AKS"}


def _last(plans: list[Plan]) -> Plan | None:
    return plans[-1] if plans else None


def workload_plan(sc: Scenario, w: Workload) -> Plan | None:
    """The last rollout (Deployment) or statefulset-update (StatefulSet) plan targeting `w`."""
    kind = WORKLOAD_PLAN_KINDS.get(w.kind)
    return _last([p for p in sc.plans if p.kind == kind and p.target == w.name])


def workload_spec(plan: Plan | None) -> dict[str, Any]:
    """The fields a plan sets on the Deployment or StatefulSet spec (nothing without a plan)."""
    if plan is None:
        return {}
    if plan.kind == "rollout":
        spec: dict[str, Any] = {}
        if plan.strategy is not None:
            spec["strategy"] = plan.strategy.model_dump(mode="json", exclude_none=True)
        spec["minReadySeconds"] = plan.minReadySeconds
        spec["progressDeadlineSeconds"] = plan.progressDeadlineSeconds
        spec["revisionHistoryLimit"] = plan.revisionHistoryLimit
        return spec
    if plan.kind == "statefulset-update":
        spec = {"podManagementPolicy": plan.podManagementPolicy}
        if plan.updateStrategy is not None:
            strategy = plan.updateStrategy.model_dump(mode="json", exclude_none=True)
            if strategy.get("type") == "OnDelete":
                strategy.pop("rollingUpdate", None)
            spec["updateStrategy"] = strategy
        if plan.minReadySeconds:
            spec["minReadySeconds"] = plan.minReadySeconds
        spec["revisionHistoryLimit"] = plan.revisionHistoryLimit
        return spec
    return {}


def progressive_objects(sc: Scenario, w: Workload, workload: dict[str, Any]) -> list[dict[str, Any]]:
    """Objects a progressive-delivery plan adds for `w` (an Argo Rollout, a Flagger Canary): the hook
    for canary/blue-green kinds (see `PROGRESSIVE_EXPORTERS`); none today."""
    out: list[dict[str, Any]] = []
    for plan in sc.plans:
        builder = PROGRESSIVE_EXPORTERS.get(plan.kind)
        if builder is not None and plan.target == w.name:
            out.extend(builder(plan, w, workload))
    return out


def pool_plan(sc: Scenario, pool: NodePool) -> Plan | None:
    """The last node-pool-upgrade plan targeting `pool`."""
    return _last([p for p in sc.plans if p.kind == "node-pool-upgrade" and p.target == pool.name])


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{int(round(value))}s"


def _prune(values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset (None or empty) attributes, recursively."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _prune(value)
        if value is not None and value != {}:
            out[key] = value
    return out


def upgrade_values(plan: Plan, provider: str, source: str) -> tuple[dict[str, Any] | None, str]:
    """(the pool's upgrade block values in Terraform's attribute names or None, a comment)."""
    name = PROVIDER_OF_SETTINGS[source]
    if provider != source:
        target = PROVIDER_OF_SETTINGS[provider]
        return None, f"plan {plan.name!r}: {name} upgrade settings are not translated to {target}"
    where = f"from plan {plan.name!r}"
    if provider == "aws":
        config = plan.updateConfig
        if config is None:
            return None, f"plan {plan.name!r} sets no updateConfig: EKS's default (maxUnavailable 1) applies"
        values: dict[str, Any] = {
            "max_unavailable": config.maxUnavailable,
            "max_unavailable_percentage": config.maxUnavailablePercentage,
            "update_strategy": "MINIMAL" if config.updateStrategy == "MINIMAL" else None,
        }
        if values["max_unavailable"] is None and values["max_unavailable_percentage"] is None:
            values["max_unavailable"] = 1  # the API needs one of the two; 1 is EKS's default
        return _prune(values), f"update_config {where}"
    settings = plan.upgradeSettings
    if settings is None:
        return None, f"plan {plan.name!r} sets no upgradeSettings: {name}'s defaults apply"
    if provider == "gcp":
        bg = settings.blueGreenSettings
        policy = bg.standardRolloutPolicy if bg is not None else None
        values = {
            "strategy": settings.strategy,
            "max_surge": settings.maxSurge,
            "max_unavailable": settings.maxUnavailable,
            "blue_green_settings": None
            if bg is None
            else {
                "node_pool_soak_duration": _seconds(bg.nodePoolSoakDuration),
                "standard_rollout_policy": None
                if policy is None
                else {
                    "batch_node_count": policy.batchNodeCount,
                    "batch_percentage": policy.batchPercentage,
                    "batch_soak_duration": _seconds(policy.batchSoakDuration),
                },
            },
        }
        return _prune(values), f"upgrade_settings {where}"
    surge = settings.maxSurge if settings.maxSurge is not None else "10%"  # AKS's documented default
    values = {
        "max_surge": str(surge),
        "drain_timeout_in_minutes": settings.drainTimeoutInMinutes,
        "node_soak_duration_in_minutes": settings.nodeSoakDurationInMinutes,
    }
    left = [
        f"{k}={getattr(settings, k)}"
        for k in ("maxUnavailable", "undrainableNodeBehavior")
        if getattr(settings, k) is not None
    ]
    note = f"upgrade_settings {where}" + (
        f"; not in the azurerm block, set through the AKS API: {', '.join(left)}" if left else ""
    )
    return _prune(values), note
