"""Karpenter out of a scenario: `NodePool` and `EC2NodeClass` manifests, the karpenter chart's Helm
values, and the Terraform variables that switch the cluster from the cluster autoscaler to Karpenter.

Shapes follow Karpenter v1.14.0 (aws/karpenter-provider-aws v1.14.0, 85eeae8: pkg/apis/crds/
karpenter.sh_nodepools.yaml, karpenter.k8s.aws_ec2nodeclasses.yaml, charts/karpenter/values.yaml);
every manifest is validated against the CRD's OpenAPI v3 schema copied into `crds/karpenter/`
(see SOURCE.md) before anything is written. Only scenarios with `cluster.node_provisioner:
karpenter` get these files, so other scenarios' exports stay what they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from simkit.errors import ExportError
from simkit.export.hcl import attributes, variable_block
from simkit.export.provenance import Provenance
from simkit.scenario.karpenter import KarpenterNodePool
from simkit.scenario.model import Scenario

__all__ = [
    "CHART_VERSION",
    "CRD_FILES",
    "ec2nodeclass_manifest",
    "helm_values",
    "karpenter_files",
    "nodepool_manifest",
    "validate",
]

CHART_VERSION = "1.14.0"  # oci://public.ecr.aws/karpenter/karpenter, the release the CRDs come from
CRD_FILES = {
    "NodePool": "karpenter.sh_nodepools.yaml",
    "EC2NodeClass": "karpenter.k8s.aws_ec2nodeclasses.yaml",
}


@cache
def _schema(kind: str) -> dict[str, Any]:
    """The served v1 version's openAPIV3Schema of the CRD shipped in the wheel."""
    text = resources.files("simkit.export").joinpath("crds", "karpenter", CRD_FILES[kind]).read_text()
    crd = yaml.safe_load(text)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def validate(manifest: Mapping[str, Any]) -> None:
    """Raise ExportError naming the field if `manifest` breaks its CRD's OpenAPI schema (structure,
    types, enums, patterns, bounds; the CRDs' CEL `x-kubernetes-validations` are not evaluated)."""
    kind = str(manifest.get("kind"))
    if kind not in CRD_FILES:
        raise ExportError(f"no CRD schema for kind {kind!r}")
    validator = jsonschema.Draft4Validator(_schema(kind))
    error = next(iter(sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        name = manifest.get("metadata", {}).get("name", "?")
        raise ExportError(f"{kind} {name}: {where}: {error.message}")


def _duration(seconds: float | str | None) -> str | None:
    """A Go duration in h/m/s, as the CRDs' pattern `^(([0-9]+(s|m|h))+|Never)$` wants ("720h")."""
    if seconds is None or seconds == "Never":
        return seconds
    total = round(float(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return text or "0s"


def _cpu(millis: float) -> str:
    return f"{millis / 1000:g}" if millis % 1000 == 0 else f"{millis:g}m"


def _memory(mib: float) -> str:
    return f"{mib / 1024:g}Gi" if mib % 1024 == 0 else f"{mib:g}Mi"


def nodepool_manifest(pool: KarpenterNodePool) -> dict[str, Any]:
    """A `karpenter.sh/v1` NodePool for the scenario's pool (the fields simulated, Karpenter's names)."""
    d = pool.disruption
    budgets = []
    for b in d.budgets:
        item: dict[str, Any] = {"nodes": b.nodes}
        if b.schedule is not None:
            item["schedule"] = b.schedule
        if b.duration is not None:
            item["duration"] = _duration(b.duration)
        if b.reasons is not None:
            item["reasons"] = list(b.reasons)
        budgets.append(item)
    template_spec: dict[str, Any] = {
        "nodeClassRef": pool.nodeClassRef.model_dump(mode="json"),
        "requirements": [
            {
                "key": r.key,
                "operator": r.operator,
                **({"values": list(r.values)} if r.values else {}),
                **({"minValues": r.minValues} if r.minValues is not None else {}),
            }
            for r in pool.requirements
        ],
        "expireAfter": _duration(pool.expireAfter),
    }
    if pool.taints:
        template_spec["taints"] = [
            {"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect} for t in pool.taints
        ]
    if pool.terminationGracePeriod is not None:
        template_spec["terminationGracePeriod"] = _duration(pool.terminationGracePeriod)
    metadata: dict[str, Any] = {}
    if pool.labels:
        metadata["labels"] = dict(pool.labels)
    if pool.annotations:
        metadata["annotations"] = dict(pool.annotations)
    limits = {}
    if pool.limits.cpu is not None:
        limits["cpu"] = _cpu(pool.limits.cpu)
    if pool.limits.memory is not None:
        limits["memory"] = _memory(pool.limits.memory)
    spec: dict[str, Any] = {
        "template": {**({"metadata": metadata} if metadata else {}), "spec": template_spec},
        "disruption": {
            "consolidationPolicy": d.consolidationPolicy,
            "consolidateAfter": _duration(d.consolidateAfter),
            "budgets": budgets,
        },
    }
    if limits:
        spec["limits"] = limits
    if pool.weight:
        spec["weight"] = pool.weight
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": pool.name},
        "spec": spec,
    }


def ec2nodeclass_manifest(name: str, cluster: str) -> dict[str, Any]:
    """A `karpenter.k8s.aws/v1` EC2NodeClass: AL2023, the node role, subnets and security groups found
    by the `karpenter.sh/discovery` tag, IMDSv2 only (hop limit 1), an encrypted gp3 root volume."""

    def discovery() -> list[dict[str, Any]]:  # a fresh list each (no YAML anchors in the output)
        return [{"tags": {"karpenter.sh/discovery": cluster}}]

    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {
            "amiFamily": "AL2023",
            "amiSelectorTerms": [{"alias": "al2023@latest"}],
            "role": f"KarpenterNodeRole-{cluster}",
            "subnetSelectorTerms": discovery(),
            "securityGroupSelectorTerms": discovery(),
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"volumeSize": "50Gi", "volumeType": "gp3", "encrypted": True},
                }
            ],
            "tags": {"karpenter.sh/discovery": cluster},
        },
    }


def helm_values(sc: Scenario) -> dict[str, Any]:
    """Values for the karpenter chart: the simulated batch windows and feature gates, the interruption
    queue (spot notices), IRSA for the controller, restricted Pod Security on its pods."""
    cluster = sc.name
    return {
        "replicas": 2,
        "serviceAccount": {
            "annotations": {
                "eks.amazonaws.com/role-arn": f"arn:aws:iam::ACCOUNT_ID:role/KarpenterController-{cluster}"
            }
        },
        "podSecurityContext": {
            "runAsNonRoot": True,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "controller": {
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "resources": {
                "requests": {"cpu": "1", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
        },
        "settings": {
            "clusterName": cluster,
            "interruptionQueue": f"Karpenter-{cluster}",
            "batchIdleDuration": "1s",
            "batchMaxDuration": "10s",
            "featureGates": {"spotToSpotConsolidation": False},
        },
    }


def _terraform(sc: Scenario, prov: Provenance) -> dict[str, str]:
    cluster = sc.name
    values = {
        "karpenter_enabled": True,
        "cluster_autoscaler_enabled": False,
        "karpenter_chart_version": CHART_VERSION,
        "karpenter_namespace": "kube-system",
        "karpenter_controller_role_name": f"KarpenterController-{cluster}",
        "karpenter_node_role_name": f"KarpenterNodeRole-{cluster}",
        "karpenter_interruption_queue_name": f"Karpenter-{cluster}",
        "karpenter_discovery_tag": cluster,
    }
    declarations = [
        variable_block(
            "karpenter_enabled", "Install Karpenter (controller IAM role, SQS queue, chart)", "bool"
        ),
        variable_block(
            "cluster_autoscaler_enabled", "Install the cluster autoscaler (off: Karpenter provisions)", "bool"
        ),
        variable_block("karpenter_chart_version", "karpenter Helm chart version", "string"),
        variable_block("karpenter_namespace", "Namespace of the Karpenter controller", "string"),
        variable_block("karpenter_controller_role_name", "IAM role of the controller (IRSA)", "string"),
        variable_block("karpenter_node_role_name", "IAM role of the nodes Karpenter launches", "string"),
        variable_block("karpenter_interruption_queue_name", "SQS queue for spot and health events", "string"),
        variable_block("karpenter_discovery_tag", "karpenter.sh/discovery tag on subnets and SGs", "string"),
    ]
    note = (
        "# Karpenter replaces the cluster autoscaler: wire these into the EKS module's karpenter\n"
        "# submodule (terraform-aws-modules/eks/aws//modules/karpenter: iam_role_name, node_iam_role_name,\n"
        "# queue_name) and a helm_release of oci://public.ecr.aws/karpenter/karpenter.\n"
    )
    return {
        "terraform/aws/karpenter.variables.tf": prov.comment() + "\n" + "\n".join(declarations),
        "terraform/aws/karpenter.auto.tfvars": prov.comment() + note + "\n".join(attributes(values)) + "\n",
    }


def karpenter_files(sc: Scenario, provider: str, prov: Provenance) -> dict[str, str]:
    """`karpenter/nodepools.yaml`, `karpenter/ec2nodeclasses.yaml`, `karpenter/values.yaml` and the
    Terraform variables, each manifest validated; nothing for a scenario without Karpenter."""
    if sc.cluster.node_provisioner != "karpenter" or not sc.cluster.nodepools:
        return {}
    if provider != "aws":
        raise ExportError(f"Karpenter NodePools export to aws only (EC2NodeClass), not {provider!r}")
    pools = [nodepool_manifest(p) for p in sc.cluster.nodepools]
    classes = [
        ec2nodeclass_manifest(n, sc.name) for n in sorted({p.nodeClassRef.name for p in sc.cluster.nodepools})
    ]
    for manifest in (*pools, *classes):
        validate(manifest)
    head = prov.comment()
    dump = lambda docs: head + yaml.safe_dump_all(docs, sort_keys=False)  # noqa: E731
    values = head + "# helm upgrade --install karpenter oci://public.ecr.aws/karpenter/karpenter "
    values += f"--version {CHART_VERSION} -n kube-system -f values.yaml\n"
    values += "# ACCOUNT_ID: the AWS account of the controller role (karpenter.auto.tfvars names it).\n"
    values += yaml.safe_dump(helm_values(sc), sort_keys=False)
    return {
        "karpenter/nodepools.yaml": dump(pools),
        "karpenter/ec2nodeclasses.yaml": dump(classes),
        "karpenter/values.yaml": values,
        **_terraform(sc, prov),
    }
