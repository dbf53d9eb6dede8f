"""Helm values per service, in the layout of the seed's `helm/<service>/values.yaml` (replicaCount,
image, resources, autoscaling, service, ingress, env), plus the standard `helm create` keys for the
scheduling and security settings simkit planned with.
"""

from __future__ import annotations

from typing import Any

import yaml

from simkit.export.k8s import pdb_object
from simkit.export.pod import (
    container_security_context,
    image_of,
    pod_security_context,
    pod_spec,
    resources_of,
    service_port,
)
from simkit.export.provenance import Provenance
from simkit.export.writer import check_dns_label
from simkit.scenario.model import Scenario, Workload


def _utilization(w: Workload, resource: str) -> int | None:
    """The HPA's Resource Utilization target for `resource`, as the chart's percentage key wants it."""
    for metric in w.hpa.metrics if w.hpa else []:
        if metric.type == "Resource" and (metric.resource or {}).get("name") == resource:
            target = (metric.resource or {}).get("target") or {}
            if target.get("type") == "Utilization":
                return int(target["averageUtilization"])
    return None


def _autoscaling(w: Workload) -> dict[str, Any]:
    if w.hpa is None:
        return {"enabled": False}
    out: dict[str, Any] = {
        "enabled": True,
        "minReplicas": w.hpa.minReplicas,
        "maxReplicas": w.hpa.maxReplicas,
    }
    for key, resource in (
        ("targetCPUUtilizationPercentage", "cpu"),
        ("targetMemoryUtilizationPercentage", "memory"),
    ):
        value = _utilization(w, resource)
        if value is not None:
            out[key] = value
    out["metrics"] = [m.model_dump(mode="json", exclude_none=True) for m in w.hpa.metrics]
    if w.hpa.behavior is not None:
        out["behavior"] = w.hpa.behavior.model_dump(mode="json", exclude_none=True)
    return out


def _image(w: Workload) -> dict[str, str]:
    ref = image_of(w)
    repository, _, tag = ref.rpartition(":")
    if "/" in tag or not repository:  # "host:port/name" without a tag
        repository, tag = ref, ""
    return {"repository": repository, "tag": tag, "pullPolicy": "Always"}


def helm_values(w: Workload) -> dict[str, Any]:
    """The values.yaml content for one workload."""
    pod = pod_spec(w)
    resources = resources_of(w)
    pdb = pdb_object(w)
    return {
        "replicaCount": w.replicas,
        "image": _image(w),
        "resources": resources,
        "autoscaling": _autoscaling(w),
        "service": {"type": "ClusterIP", "port": service_port(w)},
        "ingress": {"enabled": False},
        "env": [e.model_dump(mode="json", exclude_none=True) for e in w.env],  # secrets: references only
        "podSecurityContext": pod_security_context(w),
        "securityContext": container_security_context(w),
        "nodeSelector": pod.get("nodeSelector", {}),
        "tolerations": pod.get("tolerations", []),
        "affinity": pod.get("affinity", {}),
        "topologySpreadConstraints": pod.get("topologySpreadConstraints", []),
        "terminationGracePeriodSeconds": w.terminationGracePeriodSeconds,
        "podDisruptionBudget": {"enabled": pdb is not None, **(pdb["spec"] if pdb else {})},
    }


def helm_files(sc: Scenario, prov: Provenance) -> dict[str, str]:
    """`helm/<workload>/values.yaml` for every workload."""
    files = {}
    for w in sc.workloads:
        check_dns_label(w.name, "workload name")
        body = yaml.safe_dump(helm_values(w), sort_keys=False, default_flow_style=False)
        files[f"helm/{w.name}/values.yaml"] = prov.comment() + body
    return files
