"""Kubernetes manifests for a scenario: per workload a Deployment or StatefulSet, its Service,
HorizontalPodAutoscaler (autoscaling/v2) and PodDisruptionBudget (policy/v1); Namespaces labelled
for the restricted Pod Security Standard.
"""

from __future__ import annotations

from typing import Any

import yaml

from simkit.export.plan_settings import (
    HPA_REF,
    plan_annotation,
    progressive_objects,
    scale_target,
    workload_plan,
    workload_spec,
)
from simkit.export.pod import (
    container_ports,
    pod_spec,
    service_port,
    simkit_annotations,
    volume_claim_template,
    workload_notes,
)
from simkit.export.provenance import Provenance
from simkit.export.writer import check_dns_label
from simkit.scenario.cost import BlockVolume
from simkit.scenario.model import Scenario, Workload
from simkit.scenario.plans import Plan

MANAGED_BY = {"app.kubernetes.io/managed-by": "simkit"}
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def _meta(name: str, namespace: str | None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**(labels or {}), **MANAGED_BY}
    return meta


def selector_labels(w: Workload) -> dict[str, str]:
    """The labels a workload's selector, PDB and Service match on."""
    return {"app": w.pod_labels["app"]}


def declared_volume(sc: Scenario, w: Workload) -> BlockVolume | None:
    """The `cost.block_storage` entry named after the workload: its per-replica persistent volume."""
    return next((v for v in sc.cost.block_storage if v.name == w.name), None)


def export_notes(sc: Scenario) -> list[str]:
    """Every workload's export notes (guessed images, UIDs, volumes), one line each."""
    return [line for w in sc.workloads for line in workload_notes(w, declared_volume(sc, w))]


def workload_object(
    w: Workload, volume: BlockVolume | None = None, plan: Plan | None = None
) -> dict[str, Any]:
    """The Deployment or StatefulSet (a claim per replica for its declared volume), with the update
    settings of the `plan` that targets it."""
    meta = _meta(w.name, w.namespace, w.pod_labels)
    meta["annotations"] = simkit_annotations(w)
    if plan is not None:
        meta["annotations"].update(plan_annotation(plan))
    spec: dict[str, Any] = {"replicas": w.replicas, "selector": {"matchLabels": selector_labels(w)}}
    if w.kind == "StatefulSet":
        spec["serviceName"] = w.name
    spec.update(workload_spec(plan))
    spec["template"] = {"metadata": {"labels": dict(w.pod_labels)}, "spec": pod_spec(w, volume)}
    if w.kind == "StatefulSet" and volume is not None:
        spec["volumeClaimTemplates"] = [volume_claim_template(w, volume)]
    return {"apiVersion": "apps/v1", "kind": w.kind, "metadata": meta, "spec": spec}


def service_object(w: Workload) -> dict[str, Any]:
    """A ClusterIP Service (headless for a StatefulSet, which needs a governing Service)."""
    ports = container_ports(w)
    if service_port(w) != ports[0][1]:  # a probe names another port: serve that one first
        ports = [("http", service_port(w))]
    spec: dict[str, Any] = {"type": "ClusterIP"}
    if w.kind == "StatefulSet":
        spec["clusterIP"] = "None"
    spec["selector"] = selector_labels(w)
    spec["ports"] = [{"name": n, "port": p, "targetPort": n, "protocol": "TCP"} for n, p in ports]
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(w.name, w.namespace), "spec": spec}


def hpa_object(w: Workload, sc: Scenario | None = None) -> dict[str, Any] | None:
    """The autoscaling/v2 HorizontalPodAutoscaler with its behavior, if the workload has one; it
    scales the Argo Rollout when a plan exports one (plan_settings.scale_target)."""
    if w.hpa is None:
        return None
    spec: dict[str, Any] = {
        "scaleTargetRef": scale_target(sc, w),
        **w.hpa.model_dump(mode="json", exclude_none=True),
    }
    return {
        **HPA_REF,
        "metadata": _meta(w.name, w.namespace),
        "spec": spec,
    }


def pdb_object(w: Workload) -> dict[str, Any] | None:
    """The policy/v1 PodDisruptionBudget, if the workload has one."""
    if w.pdb is None:
        return None
    spec = w.pdb.model_dump(mode="json", exclude_none=True)
    spec["selector"] = {"matchLabels": selector_labels(w)}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(w.name, w.namespace),
        "spec": spec,
    }


def namespace_object(name: str, kubernetes_version: str) -> dict[str, Any]:
    """A Namespace that enforces, audits and warns at the restricted Pod Security level."""
    labels = {"kubernetes.io/metadata.name": name}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{kubernetes_version}"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels)}


def workload_objects(
    w: Workload, sc: Scenario | None = None, volume: BlockVolume | None = None
) -> list[dict[str, Any]]:
    """Every object of one workload, in apply order (with its plan's settings, given the scenario)."""
    workload = workload_object(w, volume, workload_plan(sc, w) if sc is not None else None)
    service = service_object(w)
    objs = [workload, service, hpa_object(w, sc), pdb_object(w)]
    extra = progressive_objects(sc, w, workload, service) if sc is not None else []
    return [o for o in [*objs, *extra] if o is not None]


def dump_documents(objs: list[dict[str, Any]], prov: Provenance, notes: list[str] | None = None) -> str:
    """Multi-document YAML with the provenance header and the export notes as comments."""
    body = "---\n".join(yaml.safe_dump(o, sort_keys=False, default_flow_style=False) for o in objs)
    comments = "".join(f"# note: {line}\n" for line in notes or [])
    return prov.comment() + comments + "---\n" + body


def k8s_files(sc: Scenario, prov: Provenance) -> dict[str, str]:
    """Relative path -> text: `k8s/namespaces.yaml` and `k8s/<namespace>/<workload>.yaml`."""
    files: dict[str, str] = {}
    namespaces = sorted({check_dns_label(w.namespace, "namespace") for w in sc.workloads})
    own = [n for n in namespaces if n not in SYSTEM_NAMESPACES]
    if own:
        version = sc.cluster.kubernetes_version
        files["k8s/namespaces.yaml"] = dump_documents([namespace_object(n, version) for n in own], prov)
    for w in sc.workloads:
        check_dns_label(w.name, "workload name")
        volume = declared_volume(sc, w)
        files[f"k8s/{w.namespace}/{w.name}.yaml"] = dump_documents(
            workload_objects(w, sc, volume), prov, workload_notes(w, volume)
        )
    return files
