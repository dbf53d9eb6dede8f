"""Karpenter export: NodePool and EC2NodeClass manifests valid against the v1.14.0 CRDs' OpenAPI
schemas (simkit/export/crds/karpenter), the chart values and Terraform variables, CA switched off."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import simkit
from simkit.errors import ExportError
from simkit.export.exporter import build_files
from simkit.export.karpenter import ec2nodeclass_manifest, nodepool_manifest, validate

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "karpenter-baseline.yaml"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return build_files(simkit.load_scenario(BASE))


def test_karpenter_files_and_no_cluster_autoscaler(files: dict[str, str]) -> None:
    assert {
        "karpenter/nodepools.yaml",
        "karpenter/ec2nodeclasses.yaml",
        "karpenter/values.yaml",
        "terraform/aws/karpenter.variables.tf",
        "terraform/aws/karpenter.auto.tfvars",
    } <= set(files)
    assert not any(name.startswith("autoscaler/") for name in files)
    assert "cluster_autoscaler_enabled        = false" in files["terraform/aws/karpenter.auto.tfvars"]
    for name in files["terraform/aws/karpenter.auto.tfvars"].split("\n"):
        if "=" in name and not name.startswith("#"):
            key = name.split("=")[0].strip()
            assert f'variable "{key}"' in files["terraform/aws/karpenter.variables.tf"]


def test_nodepool_round_trips_the_scenario(files: dict[str, str]) -> None:
    (pool,) = yaml.safe_load_all(files["karpenter/nodepools.yaml"])
    validate(pool)
    spec = pool["spec"]
    assert spec["disruption"] == {
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "consolidateAfter": "0s",
        "budgets": [{"nodes": "10%"}],
    }
    assert spec["template"]["spec"]["expireAfter"] == "720h"
    assert spec["limits"] == {"cpu": "160", "memory": "640Gi"}
    reqs = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert reqs["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    (klass,) = yaml.safe_load_all(files["karpenter/ec2nodeclasses.yaml"])
    assert klass["metadata"]["name"] == spec["template"]["spec"]["nodeClassRef"]["name"]
    assert "&id" not in files["karpenter/ec2nodeclasses.yaml"]


def test_other_scenarios_export_nothing_karpenter() -> None:
    base = build_files(simkit.load_scenario(ROOT / "scenarios" / "platform-baseline.yaml"))
    assert not any("karpenter" in name for name in base) and any(n.startswith("autoscaler/") for n in base)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("spec", "disruption", "consolidationPolicy"), "Sometimes", "spec.disruption.consolidationPolicy"),
        (("spec", "disruption", "budgets", 0, "nodes"), "150", None),  # a count is fine
        (("spec", "disruption", "budgets", 0, "nodes"), "ten", "spec.disruption.budgets.0.nodes"),
        (("spec", "template", "spec", "expireAfter"), "30d", "spec.template.spec.expireAfter"),
        (("spec", "weight"), 101, "spec.weight"),
        (
            ("spec", "template", "spec", "requirements", 0, "operator"),
            "Maybe",
            "spec.template.spec.requirements.0.operator",
        ),
    ],
)
def test_the_crd_schema_really_checks(path: tuple, value: object, expected: str | None) -> None:
    pool = nodepool_manifest(simkit.load_scenario(BASE).cluster.nodepools[0])
    bad = copy.deepcopy(pool)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    if expected is None:
        validate(bad)
        return
    with pytest.raises(ExportError) as err:
        validate(bad)
    assert str(err.value).startswith(f"NodePool application: {expected}:")


def test_ec2nodeclass_is_valid_and_imdsv2_only() -> None:
    klass = ec2nodeclass_manifest("default", "prod")
    validate(klass)
    assert klass["spec"]["metadataOptions"]["httpTokens"] == "required"
    klass["spec"]["metadataOptions"]["httpTokens"] = "maybe"
    with pytest.raises(ExportError, match="spec.metadataOptions.httpTokens"):
        validate(klass)


def test_chart_values_follow_the_restricted_pod_security_standard(files: dict[str, str]) -> None:
    values = yaml.safe_load(files["karpenter/values.yaml"])
    pod = values["podSecurityContext"]
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert values["controller"]["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert values["settings"]["batchIdleDuration"] == "1s" and values["settings"]["batchMaxDuration"] == "10s"
    assert values["settings"]["featureGates"]["spotToSpotConsolidation"] is False
    res = values["controller"]["resources"]
    assert res["requests"] == res["limits"]


def test_changed_nodepool_and_durations_export_in_go_syntax(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(
        f"extends: {BASE}\nname: v\ncluster:\n  nodepools:\n    - name: application\n"
        "      expireAfter: 90m\n      terminationGracePeriod: 1h30s\n      weight: 10\n"
        "      taints: [{key: dedicated, value: app, effect: NoSchedule}]\n"
        "      disruption: {budgets: [{nodes: '0', schedule: '0 9 * * mon-fri', duration: 8h,"
        " reasons: [Underutilized]}]}\n"
    )
    files = build_files(simkit.load_scenario(path, allow_dirs=[BASE.parent]), formats="karpenter")
    (pool,) = yaml.safe_load_all(files["karpenter/nodepools.yaml"])
    validate(pool)
    t = pool["spec"]["template"]["spec"]
    assert (t["expireAfter"], t["terminationGracePeriod"]) == ("1h30m", "1h30s")
    assert pool["spec"]["disruption"]["budgets"] == [
        {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h", "reasons": ["Underutilized"]}
    ]
    assert t["taints"] == [{"key": "dedicated", "value": "app", "effect": "NoSchedule"}]
    assert pool["spec"]["weight"] == 10


def test_karpenter_export_is_aws_only() -> None:
    with pytest.raises(ExportError, match="aws only"):
        build_files(simkit.load_scenario(BASE), formats="karpenter", provider="gcp")
