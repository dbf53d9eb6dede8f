"""Progressive plans' exports: an Argo `Rollout` or a Flagger `Canary`, valid against the CRDs' own
OpenAPI schemas (simkit/export/crds, jsonschema), the core kinds against kubernetes-validate."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from simkit.export.exporter import build_files
from simkit.export.plan_settings import SCHEMAS, validate_custom
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario_file, parse_scenario
from tests.test_export import K8S_VERSION

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _objs(files: dict[str, str]) -> list[dict]:
    return [d for p, text in files.items() if p.startswith("k8s/") for d in yaml.safe_load_all(text) if d]


def _check_all(objs: list[dict]) -> None:
    for obj in objs:
        if obj["kind"] in ("Rollout", "Canary", "AnalysisTemplate"):
            validate_custom(obj)
        else:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_argo_canary_rollout_exported_and_valid() -> None:
    objs = _objs(build_files(load_scenario_file(SCENARIOS / "canary-llm-agent.yaml"), "k8s"))
    ro = next(o for o in objs if o["kind"] == "Rollout")
    assert ro["apiVersion"] == "argoproj.io/v1alpha1"
    assert ro["spec"]["workloadRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llm-agent-service",
        "scaleDown": "progressively",
    }
    steps = ro["spec"]["strategy"]["canary"]["steps"]
    assert [s["setWeight"] for s in steps if "setWeight" in s] == [10, 25, 50, 100]
    assert steps[1] == {"pause": {"duration": "10m"}}
    _check_all(objs)


def test_blue_green_rollout_and_preview_service() -> None:
    objs = _objs(build_files(load_scenario_file(SCENARIOS / "blue-green-orchestrator.yaml"), "k8s"))
    ro = next(o for o in objs if o["kind"] == "Rollout")
    bg = ro["spec"]["strategy"]["blueGreen"]
    assert bg["activeService"] == "workflow-orchestrator-service"
    assert bg["autoPromotionSeconds"] == 300 and bg["scaleDownDelaySeconds"] == 30
    names = {o["metadata"]["name"] for o in objs if o["kind"] == "Service"}
    assert "workflow-orchestrator-service-preview" in names
    _check_all(objs)


def test_flagger_canary_exported_and_valid() -> None:
    text = DEFAULT_SCENARIO.read_text() + (
        "plans:\n  - {name: f, kind: canary, target: bff-service, start: 1h, analysis: {interval: 1m,"
        " threshold: 5, maxWeight: 50, stepWeight: 2, metrics: [{name: request-success-rate,"
        " thresholdRange: {min: 99}, interval: 1m}]}}\n"
    )
    objs = _objs(build_files(parse_scenario(text), "k8s"))
    canary = next(o for o in objs if o["kind"] == "Canary")
    assert canary["apiVersion"] == "flagger.app/v1beta1"
    assert canary["spec"]["targetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "bff-service",
    }
    assert canary["spec"]["analysis"]["interval"] == "60s"
    assert canary["spec"]["analysis"]["stepWeight"] == 2 and canary["spec"]["analysis"]["maxWeight"] == 50
    _check_all(objs)


def test_crd_schema_check_is_not_vacuous() -> None:
    objs = _objs(build_files(load_scenario_file(SCENARIOS / "canary-llm-agent.yaml"), "k8s"))
    ro = copy.deepcopy(next(o for o in objs if o["kind"] == "Rollout"))
    ro["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = "ten"
    with pytest.raises(ValueError, match="setWeight"):
        validate_custom(ro)
    bad = copy.deepcopy(ro)
    del bad["spec"]["strategy"]["canary"]["steps"][0]["setWeight"]
    bad["spec"]["strategy"]["canary"]["steps"][0] = {"pause": {"duration": {"x": 1}}}
    with pytest.raises(ValueError):
        validate_custom(bad)


def test_crd_schemas_ship_with_their_source() -> None:
    for path in SCHEMAS.values():
        assert path.is_file()
        source = (path.parent / "SOURCE.md").read_text()
        assert "Release:" in source and "Source: https://github.com/" in source


def _hpa(objs: list[dict], name: str) -> dict:
    return next(o for o in objs if o["kind"] == "HorizontalPodAutoscaler" and o["metadata"]["name"] == name)


def test_hpa_scales_the_argo_rollout_and_argo_scales_the_deployment_down() -> None:
    """argo-rollouts v1.9.1 docs/features/hpa-support.md: the HPA's scaleTargetRef is the Rollout;
    `scaleDown: progressively` (rollout/replicaset.go) takes the Deployment to 0 once Healthy."""
    objs = _objs(build_files(load_scenario_file(SCENARIOS / "canary-llm-agent.yaml"), "k8s"))
    ro = next(o for o in objs if o["kind"] == "Rollout")
    hpa = _hpa(objs, "llm-agent-service")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": ro["apiVersion"],
        "kind": "Rollout",
        "name": ro["metadata"]["name"],
    }
    assert ro["spec"]["workloadRef"]["scaleDown"] == "progressively"
    dep = next(o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "llm-agent-service")
    assert dep["spec"]["replicas"] == ro["spec"]["replicas"]  # serves until Argo scales it down
    # a workload without a progressive plan keeps its HPA on its Deployment
    other = _hpa(objs, "workflow-orchestrator-service")
    assert other["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "workflow-orchestrator-service",
    }
    _check_all(objs)


def test_flagger_canary_autoscaler_ref_is_the_exported_hpa() -> None:
    """Flagger keeps the HPA on the Deployment and names it in `autoscalerRef`."""
    text = DEFAULT_SCENARIO.read_text() + (
        "plans:\n  - {name: f, kind: canary, target: llm-agent-service, start: 1h, analysis: {interval: 1m,"
        " threshold: 5, maxWeight: 50, stepWeight: 10}}\n"
    )
    objs = _objs(build_files(parse_scenario(text), "k8s"))
    canary = next(o for o in objs if o["kind"] == "Canary")
    hpa = _hpa(objs, "llm-agent-service")
    ref = canary["spec"]["autoscalerRef"]
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == (
        hpa["apiVersion"],
        hpa["kind"],
        hpa["metadata"]["name"],
    )
    assert hpa["spec"]["scaleTargetRef"] == canary["spec"]["targetRef"]
    assert not any(o["kind"] == "Rollout" for o in objs)
    _check_all(objs)


ROUTED = "trafficRouting: {nginx: {stableIngress: bff-service}}"


def _analysis_objs(metrics: str, analysis: str) -> list[dict]:
    text = DEFAULT_SCENARIO.read_text() + (
        f"plans:\n  - {{name: c, kind: canary, target: bff-service, start: 1h, metrics: {metrics},"
        f" canary: {{steps: [{{setWeight: 20}}, {{analysis: {analysis}}}, {{setWeight: 60}}], {ROUTED}}}}}\n"
    )
    return _objs(build_files(parse_scenario(text), "k8s"))


def test_analysis_step_exports_a_valid_analysis_template_the_rollout_references() -> None:
    objs = _analysis_objs("{successRate: 99%, p95: 1500ms, count: 3, failureLimit: 1, interval: 2m}", "{}")
    at = next(o for o in objs if o["kind"] == "AnalysisTemplate")
    ro = next(o for o in objs if o["kind"] == "Rollout")
    step = ro["spec"]["strategy"]["canary"]["steps"][1]["analysis"]
    assert step["templates"] == [{"templateName": at["metadata"]["name"]}]
    assert at["metadata"]["name"] == "bff-service-canary-analysis"
    # every arg the template declares is supplied by the step, the canary's pods by their template hash
    assert {a["name"] for a in at["spec"]["args"]} == {a["name"] for a in step["args"]}
    hashes = [a for a in step["args"] if a["name"] == "canary-hash"]
    assert hashes[0]["valueFrom"] == {"podTemplateHashValue": "Latest"}
    metrics = {m["name"]: m for m in at["spec"]["metrics"]}
    assert metrics["success-rate"]["successCondition"] == "result[0] >= 0.99"
    assert metrics["p95-latency"]["successCondition"] == "result[0] <= 1.5"  # seconds, as the query
    for m in metrics.values():
        assert (m["interval"], m["count"], m["failureLimit"]) == ("120s", 3, 1)
        query = m["provider"]["prometheus"]["query"]
        assert "{{args.canary-hash}}" in query and "[120s]" in query
    assert "simkit.io/adapt" in at["metadata"]["annotations"]
    _check_all(objs)


def test_analysis_template_keeps_the_plans_template_names_and_only_its_thresholds() -> None:
    objs = _analysis_objs("{successRate: 0.95}", "{templates: [{templateName: my-checks}]}")
    ats = [o for o in objs if o["kind"] == "AnalysisTemplate"]
    assert [a["metadata"]["name"] for a in ats] == ["my-checks"]
    assert [m["name"] for m in ats[0]["spec"]["metrics"]] == ["success-rate"]
    assert "count" not in ats[0]["spec"]["metrics"][0]  # none: measured until the rollout ends
    ro = next(o for o in objs if o["kind"] == "Rollout")
    assert ro["spec"]["strategy"]["canary"]["steps"][1]["analysis"]["templates"] == [
        {"templateName": "my-checks"}
    ]
    _check_all(objs)


def test_no_analysis_template_without_an_analysis_step() -> None:
    objs = _objs(build_files(load_scenario_file(SCENARIOS / "canary-llm-agent.yaml"), "k8s"))
    assert not any(o["kind"] == "AnalysisTemplate" for o in objs)


def test_analysis_template_schema_check_is_not_vacuous() -> None:
    objs = _analysis_objs("{successRate: 99%}", "{}")
    at = copy.deepcopy(next(o for o in objs if o["kind"] == "AnalysisTemplate"))
    at["spec"]["metrics"][0]["provider"]["prometheus"]["query"] = {"sum": 1}
    with pytest.raises(ValueError, match="query"):
        validate_custom(at)
    bad = copy.deepcopy(at)
    del bad["spec"]["metrics"][0]["name"]
    with pytest.raises(ValueError, match="name"):
        validate_custom(bad)


def test_background_analysis_references_the_template_too() -> None:
    """`strategy.canary.analysis` (a background analysis) names the template and supplies its args."""
    text = DEFAULT_SCENARIO.read_text() + (
        "plans:\n  - {name: c, kind: canary, target: bff-service, start: 1h, metrics: {p95: 2s},"
        " canary: {steps: [{setWeight: 20}, {pause: {duration: 10m}}], analysis: {}}}\n"
    )
    objs = _objs(build_files(parse_scenario(text), "k8s"))
    at = next(o for o in objs if o["kind"] == "AnalysisTemplate")
    background = next(o for o in objs if o["kind"] == "Rollout")["spec"]["strategy"]["canary"]["analysis"]
    assert background["templates"] == [{"templateName": at["metadata"]["name"]}]
    assert {"name": "service-name", "value": "bff-service"} in background["args"]  # no canary Service
    assert [m["successCondition"] for m in at["spec"]["metrics"]] == ["result[0] <= 2.0"]
    _check_all(objs)
