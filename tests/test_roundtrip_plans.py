"""Plans round-trip: `simkit export` -> `simkit import` -> simulate gives the same plan and HPA.

The export writes a plan as the objects that apply it (a Deployment `strategy`, a StatefulSet
`updateStrategy`, an Argo `Rollout` with the HPA scaling it, a Flagger `Canary` naming the HPA in
`autoscalerRef`) plus the `simkit.io/plan` annotation for simkit's own fields; import must give the
plan and the workload (with its HPA) back. Manifests carry no traffic or nodes (import infers those),
so "same outcome" is checked by running the original scenario with the imported workloads and plans
in place of its own: plan rows, plan steps and every controller decision must be identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import simkit
from simkit.cli import main
from simkit.errors import ScenarioError
from simkit.export.exporter import export_scenario
from simkit.export.importer import import_manifests
from simkit.export.plan_settings import progressive_plan, workload_plan
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario_file, parse_scenario
from simkit.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

FLAGGER = (
    "plans:\n  - {name: llm-flagger, kind: canary, target: llm-agent-service, start: 14h,"
    " analysis: {interval: 1m, threshold: 2, maxWeight: 50, stepWeight: 10, metrics:"
    " [{name: request-success-rate, thresholdRange: {min: 99}, interval: 1m}]},"
    " serving: {service_time: 9s, error_rate: 0.02}, targets: {max_duration: 40m}}\n"
)
ARGO_ANALYSIS = """\
plans:
  - name: bff-canary
    kind: canary
    target: bff-service
    start: peak
    canary:
      trafficRouting: {istio: {virtualService: {name: bff-service}}}
      dynamicStableScale: true
      analysis: {templates: [{templateName: bff-background}], startingStep: 1}
      steps:
        - setCanaryScale: {replicas: 1}
        - setWeight: 20
        - pause: {duration: 2m}
        - analysis: {templates: [{templateName: bff-background}]}
        - setWeight: 60
        - pause: {}
        - setWeight: 100
    metrics: {interval: 30s, count: 4, failureLimit: 1, successRate: 99.5%, p95: 300ms}
    promote_after: 5m
    serving: {error_rate: 0.01}
    startup: {image_pull: 45s}
    minReadySeconds: 10
    targets: {availability: 99%, p95_latency: 400ms}
"""
TWO_PLANS = """\
plans:
  - {name: first, kind: rollout, target: bff-service, start: 2h}
  - name: second
    kind: rollout
    target: bff-service
    start: 3h
    strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}
    progressDeadlineSeconds: 120
    never_ready: true
  - name: db
    kind: statefulset-update
    target: postgresql
    start: 4h
    podManagementPolicy: Parallel
    updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1, maxUnavailable: 2}}
    minReadySeconds: 5
"""


def _file(name: str) -> Scenario:
    return load_scenario_file(SCENARIOS / f"{name}.yaml").scenario


def _text(extra: str) -> Scenario:
    return parse_scenario(DEFAULT_SCENARIO.read_text() + extra)


CASES: dict[str, Any] = {
    "rollout-at-peak": lambda: _file("rollout-at-peak"),
    "canary-llm-agent": lambda: _file("canary-llm-agent"),
    "statefulset-update": lambda: _file("statefulset-update"),
    "blue-green-orchestrator": lambda: _file("blue-green-orchestrator"),
    "flagger-canary": lambda: _text(FLAGGER),
    "argo-analysis-routing": lambda: _text(ARGO_ANALYSIS),
    "two-plans-one-workload": lambda: _text(TWO_PLANS),
}


def _exported_plans(sc: Scenario) -> list[Any]:
    """What the export writes: per workload its last rollout/statefulset-update and its last
    canary/blue-green plan (plan_settings: the last one wins); node plans go to Terraform."""
    out = []
    for w in sc.workloads:
        out += [p for p in (workload_plan(sc, w), progressive_plan(sc, w)) if p is not None]
    return out


def _dump(plans: list[Any]) -> list[dict[str, Any]]:
    return sorted((p.model_dump(mode="json") for p in plans), key=lambda d: d["name"])


def _round_trip(sc: Scenario, tmp_path: Path) -> Any:
    export_scenario(sc, tmp_path, "k8s")
    return import_manifests([tmp_path / "k8s"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_export_import_gives_back_plans_and_workloads(case: str, tmp_path: Path) -> None:
    sc = CASES[case]()
    result = _round_trip(sc, tmp_path)
    back = result.scenario
    assert result.ignored == []
    assert _dump(list(back.plans)) == _dump(_exported_plans(sc))
    for plan in back.plans:
        original = sc.workload(plan.target)
        assert back.workload(plan.target) == original, plan.target
        if original.hpa is not None:  # the HPA scaling an Argo Rollout comes back to the Deployment
            assert back.workload(plan.target).hpa == original.hpa


def _spliced(sc: Scenario, back: Scenario) -> Scenario:
    """`sc` with the imported workloads and plans (by name) in place of its own."""
    data = sc.model_dump(mode="json", exclude_unset=True, by_alias=True)
    data["workloads"] = [back.workload(w.name).model_dump(mode="json") for w in sc.workloads]
    data["plans"] = [p.model_dump(mode="json") for p in back.plans]
    return parse_scenario(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize("case", sorted(CASES))
def test_round_trip_same_plan_outcome_and_hpa_decisions(case: str, tmp_path: Path) -> None:
    sc = CASES[case]()
    back = _round_trip(sc, tmp_path).scenario
    original = sc.model_copy(update={"plans": list(_exported_plans(sc))}) if sc.plans else sc
    a = simkit.simulate(parse_scenario(yaml.safe_dump(original.model_dump(mode="json", exclude_unset=True))))
    b = simkit.simulate(_spliced(sc, back))
    assert len(a.plans) == len(back.plans) > 0
    pd.testing.assert_frame_equal(a.plans, b.plans)
    pd.testing.assert_frame_equal(a.plan_steps, b.plan_steps)
    pd.testing.assert_frame_equal(a.decisions, b.decisions)
    assert (a.decisions["controller"] == "hpa").any()


def test_imported_scenario_simulates_its_plan(tmp_path: Path) -> None:
    """The imported file on its own (inferred traffic and pools) runs the canary to an end."""
    back = _round_trip(_file("canary-llm-agent"), tmp_path).scenario
    row = simkit.simulate(back).plans.iloc[0]
    assert row["plan"] == "llm-agent-canary" and row["outcome"] == "Complete"
    assert row["min_available"] >= 3  # maxUnavailable 0: never below the Rollout's 3 replicas


ROLLOUT_OWN_TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:2.0
        resources: {requests: {cpu: 200m, memory: 256Mi}}
  strategy:
    canary:
      canaryMetadata: {labels: {role: canary}}
      steps: [{setWeight: 20}, {pause: {duration: 1m}}, {setWeight: 100}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web}
  minReplicas: 4
  maxReplicas: 12
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
"""


def test_hand_written_rollout_with_its_own_template(tmp_path: Path) -> None:
    """A Rollout that is the workload (no Deployment): imported as one, its HPA attached, its canary a
    plan at the peak (assumed, said so), fields simkit does not model named as dropped."""
    path = tmp_path / "web.yaml"
    path.write_text(ROLLOUT_OWN_TEMPLATE)
    result = import_manifests([path])
    w = result.scenario.workload("web")
    assert w.kind == "Deployment" and w.replicas == 4
    assert w.hpa is not None and w.hpa.maxReplicas == 12
    (plan,) = result.scenario.plans
    assert (plan.name, plan.kind, plan.target, plan.at_peak) == ("web-canary", "canary", "web", True)
    assert plan.canary is not None and [s.setWeight for s in plan.canary.steps][::2] == [20, 100]
    assert any("starting at the target's peak load (assumed)" in a for a in result.assumed)
    assert any("spec.strategy.canary.canaryMetadata: not modelled" in a for a in result.assumed)
    assert result.ignored == []
    assert simkit.simulate(result.scenario).plans.iloc[0]["outcome"] == "Complete"


def test_bad_rollout_strategy_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(ROLLOUT_OWN_TEMPLATE.replace("{setWeight: 100}", "{setWeight: 10}"))
    with pytest.raises(ScenarioError, match=r"document 0, spec\.strategy\.canary\.steps\[2\]\.setWeight"):
        import_manifests([path])
    assert main(["import", str(path), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "weights must not go down" in err[0] and "Traceback" not in err[0]


def test_flagger_autoscaler_ref_attaches_the_hpa_it_names(tmp_path: Path) -> None:
    """Flagger's autoscalerRef names the HPA even when that HPA targets Flagger's `-primary` copy."""
    docs = ROLLOUT_OWN_TEMPLATE.split("---\n")[1].replace(
        "kind: Rollout, name: web", "kind: Deployment, name: web-primary"
    )
    deploy = (
        ROLLOUT_OWN_TEMPLATE.split("---\n")[0]
        .replace("argoproj.io/v1alpha1", "apps/v1")
        .replace("kind: Rollout", "kind: Deployment")
        .split("  strategy:")[0]
    )
    canary = (
        "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
        "  autoscalerRef: {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, name: web}\n"
        "  service: {port: 80}\n  analysis: {interval: 30s, threshold: 3, stepWeight: 25}\n"
    )
    path = tmp_path / "m.yaml"
    path.write_text("---\n".join([deploy, docs, canary]))
    result = import_manifests([path])
    w = result.scenario.workload("web")
    assert w.hpa is not None and w.hpa.maxReplicas == 12
    (plan,) = result.scenario.plans
    assert plan.flagger and plan.analysis is not None and plan.analysis.interval == 30
    assert any("autoscalerRef" in r for r in result.read)


def test_cli_export_import_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simkit export` -> `simkit import` -> `simkit run` on the canary scenario: the plan block of
    the imported file names the canary and each version's own figures."""
    out, imported = tmp_path / "out", tmp_path / "imported.yaml"
    assert (
        main(["export", str(SCENARIOS / "canary-llm-agent.yaml"), "--format", "k8s", "--out", str(out)]) == 0
    )
    assert main(["import", str(out / "k8s"), "-o", str(imported)]) == 0
    text = imported.read_text()
    assert "plans:" in text and "HorizontalPodAutoscaler/llm-agent-service): no imported" not in text
    capsys.readouterr()
    assert main(["run", str(imported), "--no-progress"]) in (0, 1)
    printed = capsys.readouterr().out
    assert "plan llm-agent-canary (canary of llm-agent-service): Complete" in printed
    assert "  new version: requests " in printed and "  old version: requests " in printed
