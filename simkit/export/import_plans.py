"""Import of deployment plans: Argo Rollouts, Flagger Canaries and annotated workloads -> `plans:`.

What `simkit export` writes for a plan (simkit/export/plan_settings.py) comes back as the plan:

- an Argo `Rollout` (argoproj.io/v1alpha1, argo-rollouts v1.9.1 pkg/apis/rollouts/v1alpha1/types.go)
  becomes a `canary` plan (`spec.strategy.canary`) or a `blue-green` plan (`spec.strategy.blueGreen`)
  of the Deployment its `workloadRef` names (docs/migrating.md); a Rollout with its own pod `template`
  and no `workloadRef` is imported as that Deployment. An HPA whose `scaleTargetRef` is the Rollout
  (docs/features/hpa-support.md) scales that workload.
- a Flagger `Canary` (flagger.app/v1beta1, Flagger v1.44.0 pkg/apis/flagger/v1beta1/canary.go)
  becomes a `canary` plan with its `analysis` on the Deployment of `targetRef`; its
  `autoscalerRef` names the HPA of that Deployment (Flagger docs, "Canary > autoscalerRef").
- a Deployment or StatefulSet carrying the `simkit.io/plan` annotation becomes a `rollout` or
  `statefulset-update` plan with its `strategy` / `updateStrategy` and the fields beside them.

Kubernetes, Argo and Flagger fields are read from the spec (they win: edit the manifest, the plan
follows); simkit's own fields (the plan's name and start, the new version's serving, targets, metrics)
from the `simkit.io/plan` JSON annotation. Without it the plan starts at the target's peak load,
named after the object: one assumption line each. Fields simkit does not model are dropped, one
line each; the canary Services and analysis arguments the export adds are recognised and left out.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from simkit.export.manifests import Doc, fit_model
from simkit.export.plan_settings import ANNOTATION_PLAN
from simkit.scenario.base import PathError
from simkit.scenario.plans import (
    ArgoBlueGreen,
    ArgoCanary,
    DeploymentStrategy,
    FlaggerAnalysis,
    Plan,
    StatefulSetUpdateStrategy,
)

ROLLOUT = ("argoproj.io", "Rollout")
CANARY = ("flagger.app", "Canary")
PLAN_KINDS = {"Rollout": ROLLOUT, "Canary": CANARY}
# Rollout / workload spec fields that the plan carries (apps/v1 and Argo share the names)
_SPEC_FIELDS = ("minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit")
# fields of the manifest's plan object each Plan field comes from, for error messages
_SOURCE = {
    "canary": "spec.strategy.canary",
    "blueGreen": "spec.strategy.blueGreen",
    "analysis": "spec.analysis",
    "strategy": "spec.strategy",
    "updateStrategy": "spec.updateStrategy",
    "podManagementPolicy": "spec.podManagementPolicy",
    **{k: f"spec.{k}" for k in _SPEC_FIELDS},
}


def is_plan_object(doc: Doc) -> bool:
    """An Argo Rollout or a Flagger Canary (by kind and API group)."""
    group = PLAN_KINDS.get(doc.kind)
    api = doc.obj.get("apiVersion") if isinstance(doc.obj, dict) else None
    return group is not None and isinstance(api, str) and api.split("/")[0] == group[0]


def _spec(doc: Doc) -> dict[str, Any]:
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict):
        raise doc.error("spec", "expected a mapping" if spec is not None else "required field is missing")
    return spec


def rollout_as_deployment(doc: Doc) -> Doc | None:
    """A Rollout with its own pod `template` and no `workloadRef`, as the Deployment it replaces
    (the strategy fields stay with the plan); None for a Rollout that refers to a Deployment."""
    spec = _spec(doc)
    if spec.get("workloadRef") is not None or spec.get("template") is None:
        return None
    obj = copy.deepcopy(doc.obj)
    obj["apiVersion"], obj["kind"] = "apps/v1", "Deployment"
    for key in ("strategy", "analysis", *_SPEC_FIELDS, "paused", "restartAt", "rollbackWindow"):
        obj["spec"].pop(key, None)
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION_PLAN, None)
    return Doc(doc.file, doc.index, obj, doc.lines)


def target_ref(doc: Doc) -> tuple[str, str]:
    """(kind, name) of the workload a Rollout (workloadRef, else itself) or Canary (targetRef) runs."""
    spec = _spec(doc)
    if doc.kind == "Rollout":
        ref = spec.get("workloadRef")
        if ref is None:
            return "Deployment", doc.name
        path = "spec.workloadRef"
    else:
        ref = spec.get("targetRef")
        path = "spec.targetRef"
    if not isinstance(ref, dict) or not ref.get("name"):
        raise doc.error(path, "expected a mapping with kind and name")
    kind = str(ref.get("kind") or "Deployment")
    if kind != "Deployment":
        raise doc.error(f"{path}.kind", f"simkit simulates progressive delivery of a Deployment, got {kind}")
    return kind, str(ref["name"])


@dataclass
class PlanImport:
    """The plans read so far, and the notes to report."""

    plans: list[dict[str, Any]] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


def _label(doc: Doc) -> str:
    return f"{doc.where} ({doc.kind}/{doc.name or '?'})"


def _simkit_fields(doc: Doc, kind: str, notes: list[str]) -> dict[str, Any]:
    """The `simkit.io/plan` annotation's fields, or a name and a `peak` start (assumed)."""
    meta = doc.obj.get("metadata") or {}
    raw = (meta.get("annotations") or {}).get(ANNOTATION_PLAN) if isinstance(meta, dict) else None
    if raw is not None:
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            data = None
        if isinstance(data, dict):
            dropped: list[str] = []
            fitted = fit_model(Plan, data, ANNOTATION_PLAN, dropped)
            notes.extend(f"{d}: not a simkit plan field, dropped" for d in dropped)
            for key in ("kind", "target"):
                fitted.pop(key, None)
            if "name" in fitted and "start" in fitted:
                return dict(fitted)
        notes.append(
            f"metadata.annotations.{ANNOTATION_PLAN} is not a JSON plan with name and start: ignored"
        )
    notes.append(
        f"no {ANNOTATION_PLAN} annotation: a {kind} plan starting at the target's peak load (assumed); "
        "set start, serving and targets in plans:"
    )
    return {"name": f"{doc.name}-{kind}", "start": "peak"}


def _fit(doc: Doc, model: type, data: Any, path: str, notes: list[str]) -> Any:
    dropped: list[str] = []
    out = fit_model(model, data, path, dropped)
    notes.extend(f"{d}: not modelled by simkit, dropped" for d in dropped)
    return out


def _argo_canary(doc: Doc, canary: dict[str, Any], service: str, notes: list[str]) -> dict[str, Any]:
    """`strategy.canary` without what the export adds (Services, analysis args, the generated template)."""
    canary = copy.deepcopy(canary)
    for key, default in (("stableService", service), ("canaryService", f"{service}-canary")):
        value = canary.pop(key, None)
        if value is not None and value != default:
            notes.append(f"spec.strategy.canary.{key}: {value!r} read, simkit routes by weight alone")
    generated = [{"templateName": f"{service}-canary-analysis"}]
    entries = [s.get("analysis") for s in canary.get("steps") or [] if isinstance(s, dict)]
    entries.append(canary.get("analysis"))
    for entry in entries:
        if isinstance(entry, dict):
            entry.pop("args", None)  # the Prometheus template's arguments (export/argo_analysis.py)
            if entry.get("templates") == generated:
                entry.pop("templates")
    return dict(_fit(doc, ArgoCanary, canary, "spec.strategy.canary", notes))


def _argo_blue_green(doc: Doc, bg: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """`strategy.blueGreen` as written: its active/preview Service names are the plan's own fields
    (the export names them `<workload>` and `<workload>-preview` when a plan leaves them out)."""
    return dict(_fit(doc, ArgoBlueGreen, bg, "spec.strategy.blueGreen", notes))


def _plan_from_rollout(doc: Doc, target: str, notes: list[str]) -> dict[str, Any]:
    spec = _spec(doc)
    strategy = spec.get("strategy") or {}
    if not isinstance(strategy, dict) or ("canary" in strategy) == ("blueGreen" in strategy):
        raise doc.error("spec.strategy", "expected one of canary or blueGreen")
    kind = "canary" if "canary" in strategy else "blue-green"
    plan = _simkit_fields(doc, kind, notes)
    plan.update(kind=kind, target=target)
    if kind == "canary":
        plan["canary"] = _argo_canary(doc, strategy["canary"] or {}, target, notes)
    else:
        plan["blueGreen"] = _argo_blue_green(doc, strategy["blueGreen"] or {}, notes)
    plan.update({k: spec[k] for k in _SPEC_FIELDS if k in spec})
    return plan


def _plan_from_canary(doc: Doc, target: str, notes: list[str]) -> dict[str, Any]:
    spec = _spec(doc)
    plan = _simkit_fields(doc, "canary", notes)
    plan.update(kind="canary", target=target)
    plan["analysis"] = _fit(doc, FlaggerAnalysis, spec.get("analysis") or {}, "spec.analysis", notes)
    if "progressDeadlineSeconds" in spec:
        plan["progressDeadlineSeconds"] = spec["progressDeadlineSeconds"]
    return plan


def plan_from_workload(doc: Doc, target: str, notes: list[str]) -> dict[str, Any] | None:
    """A `rollout` / `statefulset-update` plan of an annotated Deployment / StatefulSet, else None."""
    meta = doc.obj.get("metadata") or {}
    if ANNOTATION_PLAN not in ((meta.get("annotations") or {}) if isinstance(meta, dict) else {}):
        return None
    spec = _spec(doc)
    kind = "rollout" if doc.kind == "Deployment" else "statefulset-update"
    plan = _simkit_fields(doc, kind, notes)
    plan.update(kind=kind, target=target)
    if kind == "rollout":
        if "strategy" in spec:
            plan["strategy"] = _fit(doc, DeploymentStrategy, spec["strategy"], "spec.strategy", notes)
    else:
        if "updateStrategy" in spec:
            path = "spec.updateStrategy"
            plan["updateStrategy"] = _fit(doc, StatefulSetUpdateStrategy, spec["updateStrategy"], path, notes)
        if "podManagementPolicy" in spec:
            plan["podManagementPolicy"] = spec["podManagementPolicy"]
    plan.update({k: spec[k] for k in _SPEC_FIELDS if k in spec})
    return plan


def plan_from_object(doc: Doc, target: str, notes: list[str]) -> dict[str, Any]:
    """The plan of a Rollout or Canary whose workload is imported as `target`, validated."""
    build = _plan_from_rollout if doc.kind == "Rollout" else _plan_from_canary
    return validate_plan(doc, build(doc, target, notes))


def validate_plan(doc: Doc, plan: dict[str, Any]) -> dict[str, Any]:
    """Validate with the scenario's Plan model; an error names the manifest field it came from.
    Returns the plan as scenario YAML data: name, kind, target, start first, defaults left out."""
    try:
        model = Plan.model_validate(plan)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: tuple[Any, ...] = tuple(err["loc"])
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, PathError):
            loc = loc + ctx_error.path
        parts = [str(p) for p in loc]
        head = parts[0] if parts else ""
        source = _SOURCE.get(head, f"metadata.annotations.{ANNOTATION_PLAN}.{head}" if head else "spec")
        rest = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts[1:])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise doc.error(source + rest, f"{msg}, got {err.get('input')!r}") from None
    first = {k: plan[k] for k in ("name", "kind", "target", "start")}
    return first | model.model_dump(mode="json", exclude_defaults=True, exclude=set(first))
