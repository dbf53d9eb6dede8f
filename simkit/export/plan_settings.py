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

Progressive delivery (`canary`, `blue-green` plans) exports an Argo Rollouts `Rollout`
(argoproj.io/v1alpha1, `workloadRef` to the exported Deployment, which Argo then scales down
progressively; its `strategy.canary` / `strategy.blueGreen` as the plan spells them; a preview or
canary Service beside the workload's) or a Flagger `Canary` (flagger.app/v1beta1: `targetRef` the
Deployment, `autoscalerRef` its HPA, `analysis` as the plan spells it).

With an Argo Rollout the workload's HPA scales the Rollout, not the Deployment (`scale_target`):
argo-rollouts v1.9.1 docs/features/hpa-support.md ("scaleTargetRef: apiVersion: argoproj.io/v1alpha1,
kind: Rollout"; the Rollout's /scale subresource). The Deployment keeps its exported replicas so the
migration serves throughout; with `workloadRef.scaleDown: progressively` (docs/migrating.md) Argo
scales it to `rollout spec.replicas - rollout readyReplicas` while the Rollout comes up and to 0 once
the Rollout is Healthy, "to prevent external controllers (HPA/KEDA) from interfering"
(rollout/replicaset.go `reconcileNewReplicaSet`, v1.9.1). `progressively` is chosen over `onsuccess`
(the Deployment stays at full scale until the Rollout is Healthy: twice the pods meanwhile) and
`never` (both run at full scale for good). An HPA left on the Deployment would stop acting once Argo
scaled it to 0 (HPA: "scaling is disabled" at 0 replicas, kubernetes pkg/controller/podautoscaler/
horizontal.go) and the Rollout would never autoscale. Flagger's Canary instead keeps the HPA on the
Deployment and names it in `autoscalerRef` (Flagger docs, "Canary > autoscalerRef"; Flagger makes the
primary's HPA from it). Each is validated against
the CRD's own OpenAPI schema (`crds/argo/`, `crds/flagger/`, see their SOURCE.md) with jsonschema;
an object that does not validate is an export error, not a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from simkit.export.argo_analysis import analysis_template, reference_templates, template_names
from simkit.export.pod import service_port
from simkit.scenario.model import NodePool, Scenario, Workload
from simkit.scenario.plans import Plan

WORKLOAD_PLAN_KINDS = {"Deployment": "rollout", "StatefulSet": "statefulset-update"}

ProgressiveBuilder = Callable[[Plan, Workload, dict[str, Any], dict[str, Any]], list[dict[str, Any]]]
CRDS = Path(__file__).parent / "crds"
ROLLOUT_API = "argoproj.io/v1alpha1"
HPA_REF = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"}  # what k8s.hpa_object writes
ANNOTATION_PLAN = "simkit.io/plan"
# the plan's simkit-only fields (no Kubernetes/Argo/Flagger field holds them): the annotation that
# carries them lets `simkit import` rebuild the plan exactly (simkit/export/import_plans.py)
SIMKIT_PLAN_FIELDS = (
    "name",
    "start",
    "serving",
    "startup",
    "readinessProbe",
    "never_ready",
    "controller_latency",
    "targets",
    "metrics",
    "promote_after",
)
SCHEMAS = {
    ("argoproj.io/v1alpha1", "Rollout"): CRDS / "argo" / "rollout.schema.json",
    ("flagger.app/v1beta1", "Canary"): CRDS / "flagger" / "canary.schema.json",
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): CRDS / "argo" / "analysistemplate.schema.json",
}


@cache
def _validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMAS[(api_version, kind)].read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)  # type: ignore[no-any-return]


def validate_custom(obj: dict[str, Any]) -> None:
    """Validate an Argo Rollout or AnalysisTemplate or a Flagger Canary against its CRD's OpenAPI
    schema (jsonschema); raises ValueError naming the first failing field."""
    validator = _validator(obj["apiVersion"], obj["kind"])
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        raise ValueError(f"{obj['kind']} {obj['metadata']['name']}: {where}: {error.message}")


def plan_annotation(plan: Plan) -> dict[str, str]:
    """`simkit.io/plan`: the plan's simkit-only fields as JSON (its name and start always, the rest
    where they differ from the defaults), beside the Kubernetes/Argo/Flagger fields that spell the rest."""
    data = plan.model_dump(mode="json", include=set(SIMKIT_PLAN_FIELDS), exclude_defaults=True)
    data["name"] = plan.name
    data["start"] = plan.model_dump(mode="json", include={"start"})["start"]
    return {ANNOTATION_PLAN: json.dumps(data, sort_keys=True)}


def _meta(workload: dict[str, Any], name: str) -> dict[str, Any]:
    meta = workload.get("metadata", {})
    out = {"name": name, "namespace": meta.get("namespace")}
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return {k: v for k, v in out.items() if v is not None}


def _selector(workload: dict[str, Any]) -> dict[str, Any]:
    return dict(workload["spec"].get("selector") or {"matchLabels": {"app": workload["metadata"]["name"]}})


def progressive_plan(sc: Scenario, w: Workload) -> Plan | None:
    """The last canary / blue-green plan of `w` (the one whose objects are exported), if any."""
    return _last([p for p in sc.plans if p.kind in PROGRESSIVE_EXPORTERS and p.target == w.name])


def scale_target(sc: Scenario | None, w: Workload) -> dict[str, str]:
    """What the workload's HPA scales: the Argo `Rollout` when a plan exports one (workloadRef to the
    Deployment, see the module docstring), else the workload itself (a Flagger Canary keeps it)."""
    plan = progressive_plan(sc, w) if sc is not None else None
    if plan is not None and not plan.flagger:
        return {"apiVersion": ROLLOUT_API, "kind": "Rollout", "name": w.name}
    return {"apiVersion": "apps/v1", "kind": w.kind, "name": w.name}


def argo_rollout(
    plan: Plan, w: Workload, workload: dict[str, Any], service: dict[str, Any]
) -> list[dict[str, Any]]:
    """An Argo `Rollout` with `workloadRef` to the Deployment and the plan's strategy (v1.9.1 CRD),
    the Service the strategy names beside the workload's (canary or preview), and the
    `AnalysisTemplate` its analysis steps reference (export/argo_analysis.py)."""
    name = w.name
    if plan.kind == "blue-green":
        bg = plan.blueGreen.model_dump(mode="json", exclude_none=True) if plan.blueGreen is not None else {}
        bg.setdefault("activeService", name)
        bg.setdefault("previewService", f"{name}-preview")
        strategy: dict[str, Any] = {"blueGreen": bg}
        extra = bg["previewService"]
    else:
        assert plan.canary is not None
        canary = plan.canary.model_dump(mode="json", exclude_none=True)
        extra = None
        if plan.canary.trafficRouting is not None:  # Argo needs both Services to route by weight
            canary.setdefault("stableService", name)
            canary.setdefault("canaryService", f"{name}-canary")
            extra = canary["canaryService"]
        templates = template_names(plan, name)
        if templates:
            reference_templates(canary, templates, canary.get("canaryService", name))
        strategy = {"canary": canary}
    rollout: dict[str, Any] = {
        "apiVersion": ROLLOUT_API,
        "kind": "Rollout",
        "metadata": {**_meta(workload, name), "annotations": plan_annotation(plan)},
        "spec": {
            "replicas": workload["spec"].get("replicas", w.replicas),
            "selector": _selector(workload),
            "workloadRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
                "scaleDown": "progressively",
            },
            "progressDeadlineSeconds": plan.progressDeadlineSeconds,
            "revisionHistoryLimit": plan.revisionHistoryLimit,
            "strategy": strategy,
        },
    }
    if plan.minReadySeconds:
        rollout["spec"]["minReadySeconds"] = plan.minReadySeconds
    validate_custom(rollout)
    out = [rollout]
    if extra is not None and extra != name:
        out.append(_service_copy(service, workload, extra))
    if plan.kind == "canary" and plan.metrics is not None:
        for template in template_names(plan, name):
            obj = analysis_template(template, plan.metrics, _meta(workload, template))
            validate_custom(obj)
            out.append(obj)
    return out


def _service_copy(service: dict[str, Any], workload: dict[str, Any], name: str) -> dict[str, Any]:
    """The workload's Service under another name (Argo points it at one ReplicaSet's pods)."""
    svc = json.loads(json.dumps(service))
    svc["metadata"] = {**svc.get("metadata", {}), **_meta(workload, name)}
    return svc


def flagger_canary(
    plan: Plan, w: Workload, workload: dict[str, Any], service: dict[str, Any]
) -> list[dict[str, Any]]:
    """A Flagger `Canary` (v1.44.0 CRD) targeting the Deployment (and its HPA), the plan's analysis."""
    a = plan.analysis
    assert a is not None
    analysis = a.model_dump(mode="json", exclude_none=True)
    analysis["interval"] = f"{int(round(a.interval))}s"
    port = service_port(w)
    spec: dict[str, Any] = {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
        "progressDeadlineSeconds": plan.progressDeadlineSeconds,
        "service": {"port": port},
        "analysis": analysis,
    }
    if w.hpa is not None:  # the exported HPA (k8s.hpa_object: same name as the workload)
        spec["autoscalerRef"] = {**HPA_REF, "name": w.name}
    canary = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {**_meta(workload, w.name), "annotations": plan_annotation(plan)},
        "spec": spec,
    }
    validate_custom(canary)
    return [canary]


def _progressive(
    plan: Plan, w: Workload, workload: dict[str, Any], service: dict[str, Any]
) -> list[dict[str, Any]]:
    build = flagger_canary if plan.flagger else argo_rollout
    return build(plan, w, workload, service)


PROGRESSIVE_EXPORTERS: dict[str, ProgressiveBuilder] = {"canary": _progressive, "blue-green": _progressive}
"""Plan kind -> builder of the objects that accompany the workload (an Argo `Rollout`, a Flagger
`Canary`), given the plan, the workload and its exported Deployment; `progressive_objects` calls it."""

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


def progressive_objects(
    sc: Scenario, w: Workload, workload: dict[str, Any], service: dict[str, Any]
) -> list[dict[str, Any]]:
    """Objects a progressive-delivery plan adds for `w` (an Argo Rollout, a Flagger Canary; see
    `PROGRESSIVE_EXPORTERS`): the last canary / blue-green plan of `w` wins, as for the others."""
    plan = progressive_plan(sc, w)
    if plan is None:
        return []
    return PROGRESSIVE_EXPORTERS[plan.kind](plan, w, workload, service)


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
