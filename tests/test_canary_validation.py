"""Progressive plans' schema: bad input is one line with the YAML path and line (issue 12)."""

from __future__ import annotations

import pytest

from simkit.errors import ScenarioError
from simkit.scenario.loader import DEFAULT_SCENARIO, parse_scenario

BASE = DEFAULT_SCENARIO.read_text()
HEAD = "  - {name: c, kind: canary, target: llm-agent-service, start: 14h, "


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            HEAD + "canary: {steps: [{setWeight: 10}, {setWieght: 20}]}}",
            "plans[0].canary.steps[1].setWieght: unknown canary step 'setWieght'; "
            "a step is one of setWeight, pause, setCanaryScale, analysis",
        ),
        (
            HEAD + "canary: {steps: [{setWeight: 120}]}}",
            "plans[0].canary.steps[0].setWeight: input should be less than or equal to 100, got 120",
        ),
        (
            HEAD + "canary: {steps: [{setWeight: 50}, {setWeight: 20}]}}",
            "plans[0].canary.steps[1].setWeight: weights must not go down: 20 after 50",
        ),
        (
            HEAD + "canary: {steps: [{setWeight: 10, pause: {}}]}}",
            "plans[0].canary.steps[0]: a canary step takes exactly one of setWeight, pause, "
            "setCanaryScale, analysis",
        ),
        (
            HEAD + "canary: {steps: [{setWeight: 10}], maxSurge: 0, maxUnavailable: 0}}",
            "plans[0].canary.maxUnavailable: may not be 0 when maxSurge is 0",
        ),
        (
            HEAD + "canary: {steps: [{setWeight: 10}], dynamicStableScale: true}}",
            "plans[0].canary.dynamicStableScale: requires trafficRouting",
        ),
        (
            HEAD + "analysis: {stepWeights: [10, 5]}}",
            "plans[0].analysis.stepWeights[1]: weights must increase: 5 after 10",
        ),
        (
            HEAD + "analysis: {interval: 1m}}",
            "plans[0].analysis.stepWeight: a Flagger canary needs stepWeight, stepWeights or iterations",
        ),
        (
            HEAD + "analysis: {stepWeight: 2}, canary: {steps: [{setWeight: 5}]}}",
            "plans[0].canary: a canary plan takes `canary` (Argo Rollouts) or `analysis` (Flagger), "
            "one of them",
        ),
        (
            HEAD + "strategy: {type: Recreate}, canary: {steps: [{setWeight: 5}]}}",
            "plans[0].strategy: a canary plan takes `canary` (Argo) instead of `strategy`",
        ),
        (
            "  - {name: b, kind: blue-green, target: redis, start: 1h}",
            "plans[0].kind: a blue-green needs a Deployment, but 'redis' is a StatefulSet",
        ),
        (
            "  - {name: b, kind: rollout, target: bff-service, start: 1h, blueGreen: {}}",
            "plans[0].blueGreen: is not a setting of a rollout plan",
        ),
    ],
)
def test_bad_progressive_plans_give_one_exact_line(plan: str, message: str) -> None:
    text = BASE + "plans:\n" + plan + "\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert str(info.value) == f"s.yaml: {message} (line {_line(text, plan.strip())})"


def test_good_plans_parse() -> None:
    text = BASE + (
        "plans:\n" + HEAD + "canary: {steps: [{setWeight: 10}, {pause: {duration: 5m}}, {pause: {}},"
        " {analysis: {templates: [{templateName: sr}]}}, {setCanaryScale: {replicas: 3}}],"
        " trafficRouting: {nginx: {stableIngress: x}}}, metrics: {successRate: 99%, p95: 2s}}\n"
        "  - {name: f, kind: canary, target: bff-service, start: 2h,"
        " analysis: {stepWeight: 2, maxWeight: 50}}\n"
        "  - {name: b, kind: blue-green, target: bff-service, start: 3h,"
        " blueGreen: {autoPromotionSeconds: 60}}\n"
    )
    sc = parse_scenario(text)
    argo, flagger, bg = sc.plans
    assert argo.canary is not None and argo.canary.steps[1].pause is not None
    assert argo.canary.steps[1].pause.duration == 300 and argo.canary.steps[2].pause.duration is None
    assert argo.metrics is not None and argo.metrics.successRate == 0.99
    assert flagger.flagger and flagger.analysis is not None and flagger.analysis.interval == 60
    assert bg.blueGreen is not None and bg.blueGreen.scaleDownDelaySeconds == 30
    assert bg.blueGreen.autoPromotionEnabled
