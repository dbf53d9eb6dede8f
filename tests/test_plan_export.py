"""A plan's settings go out with the export: Deployment strategy, StatefulSet updateStrategy, and the
node-pool upgrade block of each provider's Terraform (validated like the other exports)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from simkit.export.exporter import build_files, export_scenario
from simkit.export.plan_settings import PROGRESSIVE_EXPORTERS
from simkit.scenario.loader import load_scenario_file
from tests.test_export import K8S_VERSION, _hcl

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

GKE = """\
extends: platform-baseline.yaml
name: gke-upgrade
cluster: {provider: gcp, region: us-central1}
plans:
  - name: bg
    kind: node-pool-upgrade
    target: application-pool
    start: 1h
    upgradeSettings:
      strategy: BLUE_GREEN
      blueGreenSettings:
        standardRolloutPolicy: {batchNodeCount: 1, batchSoakDuration: 2m}
        nodePoolSoakDuration: 10m
simulation: {duration: 6h}
"""
AKS = """\
extends: platform-baseline.yaml
name: aks-upgrade
cluster: {provider: azure, region: eastus}
plans:
  - name: surge
    kind: node-pool-upgrade
    target: application-pool
    start: 1h
    upgradeSettings: {maxSurge: 33%, drainTimeoutInMinutes: 20, nodeSoakDurationInMinutes: 5,
                      undrainableNodeBehavior: Cordon}
simulation: {duration: 6h}
"""


def _scenario(tmp_path: Path, text: str) -> Path:
    shutil.copy(SCENARIOS / "platform-baseline.yaml", tmp_path / "platform-baseline.yaml")
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def _docs(files: dict[str, str], path: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(files[path]) if d]


def _workload(files: dict[str, str], kind: str, name: str) -> dict:
    objs = [d for p, text in files.items() if p.startswith("k8s/") for d in yaml.safe_load_all(text) if d]
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def test_rollout_settings_on_the_deployment_and_schema_valid() -> None:
    files = build_files(load_scenario_file(SCENARIOS / "rollout-at-peak.yaml"), "k8s")
    dep = _workload(files, "Deployment", "llm-agent-service")
    spec = dep["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert (spec["minReadySeconds"], spec["progressDeadlineSeconds"], spec["revisionHistoryLimit"]) == (
        10,
        600,
        10,
    )
    for text in files.values():
        for obj in yaml.safe_load_all(text):
            if obj:
                kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    # a workload no plan targets keeps the API defaults (no strategy written)
    other = _workload(files, "Deployment", "bff-service")
    assert "strategy" not in other["spec"] and "minReadySeconds" not in other["spec"]


def test_statefulset_update_strategy_and_schema_valid() -> None:
    files = build_files(load_scenario_file(SCENARIOS / "statefulset-update.yaml"), "k8s")
    sts = _workload(files, "StatefulSet", "postgresql")
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    kubernetes_validate.validate(sts, K8S_VERSION, strict=True)


def test_strategy_schema_check_is_not_vacuous() -> None:
    files = build_files(load_scenario_file(SCENARIOS / "rollout-at-peak.yaml"), "k8s")
    dep = _workload(files, "Deployment", "llm-agent-service")
    dep["spec"]["strategy"]["rollingUpdate"]["maxSurges"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, K8S_VERSION, strict=True)


def _pool(files: dict[str, str], provider: str) -> dict:
    pools = _hcl(files[f"terraform/{provider}/terraform.tfvars"])["node_pools"]
    pools = pools[0] if isinstance(pools, list) else pools
    return pools["application-pool"]


def test_eks_update_config() -> None:
    files = build_files(load_scenario_file(SCENARIOS / "node-upgrade-eks.yaml"), "terraform")
    app = _pool(files, "aws")
    update = app["update_config"]
    update = update[0] if isinstance(update, list) else update
    assert update == {"max_unavailable": 1}
    assert "update_config from plan 'application-pool-1-32'" in files["terraform/aws/terraform.tfvars"]
    declared = files["terraform/aws/variables.tf"]
    assert "update_config = optional(object({" in declared and "max_unavailable_percentage" in declared


def test_gke_blue_green_upgrade_settings(tmp_path: Path) -> None:
    files = build_files(load_scenario_file(_scenario(tmp_path, GKE)), "terraform")
    text = files["terraform/gcp/terraform.tfvars"]
    _hcl(text)
    assert 'strategy = "BLUE_GREEN"' in text
    assert 'node_pool_soak_duration = "600s"' in text
    assert "batch_node_count    = 1" in text and 'batch_soak_duration = "120s"' in text


def test_aks_upgrade_settings_and_what_azurerm_cannot_take(tmp_path: Path) -> None:
    files = build_files(load_scenario_file(_scenario(tmp_path, AKS)), "terraform")
    text = files["terraform/azure/terraform.tfvars"]
    app = _pool(files, "azure")
    settings = app["upgrade_settings"]
    settings = settings[0] if isinstance(settings, list) else settings
    assert settings == {
        "max_surge": "33%",
        "drain_timeout_in_minutes": 20,
        "node_soak_duration_in_minutes": 5,
    }
    assert "undrainableNodeBehavior=Cordon" in text


def test_settings_are_not_translated_across_providers() -> None:
    files = build_files(load_scenario_file(SCENARIOS / "node-upgrade-eks.yaml"), "terraform", provider="gcp")
    text = files["terraform/gcp/terraform.tfvars"]
    assert "upgrade_settings =" not in text
    assert "EKS upgrade settings are not translated to GKE" in text


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary")
@pytest.mark.parametrize("which", ["eks", "gke", "aks"])
def test_terraform_fmt_and_tfvars_match_the_declared_types(tmp_path: Path, which: str) -> None:
    """`terraform fmt -check`, then `terraform plan` (no providers, offline) type-checks the tfvars
    against variables.tf: a wrong attribute type there fails the plan."""
    src = {"eks": SCENARIOS / "node-upgrade-eks.yaml"}.get(which) or _scenario(
        tmp_path, GKE if which == "gke" else AKS
    )
    out = tmp_path / "out"
    export_scenario(load_scenario_file(src), out, "terraform")
    (module,) = list((out / "terraform").iterdir())
    fmt = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", str(module)], capture_output=True, text=True, check=False
    )
    assert fmt.returncode == 0, fmt.stdout

    def plan(var_file: Path) -> subprocess.CompletedProcess[str]:
        cmd = ["terraform", "plan", "-input=false", "-no-color", f"-var-file={var_file}"]
        return subprocess.run(cmd, cwd=module, capture_output=True, text=True, check=False)

    init = subprocess.run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=module,
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    good = plan(module / "terraform.tfvars")
    assert good.returncode == 0, good.stdout + good.stderr
    bad_text = (module / "terraform.tfvars").read_text()
    old, new = {  # a value of the wrong type in the upgrade block
        "eks": ("update_config = {", 'update_config = {\n      max_unavailable_percentage = "lots"'),
        "gke": ("upgrade_settings = {", 'upgrade_settings = {\n      max_surge = "lots"'),
        "aks": ('"33%"', "{}"),
    }[which]
    assert old in bad_text
    bad = tmp_path / "bad.tfvars"
    bad.write_text(bad_text.replace(old, new, 1))
    assert plan(bad).returncode != 0


def test_progressive_delivery_hook_covers_the_canary_kinds() -> None:
    assert set(PROGRESSIVE_EXPORTERS) == {"canary", "blue-green"}  # tests/test_canary_export.py
