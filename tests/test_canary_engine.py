"""Progressive plans in the engine: the traffic split in errors and P95, analysis aborts, Flagger's
duration, blue-green's second stack (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest

import simkit
from simkit.scenario.loader import DEFAULT_SCENARIO, parse_scenario

BASE = DEFAULT_SCENARIO.read_text()


def _run(plan: str, duration: str = "4h") -> Any:
    sc = parse_scenario(BASE + "plans:\n  - " + plan + "\n")
    return simkit.simulate(sc, duration=duration)


ROUTED = "trafficRouting: {nginx: {stableIngress: bff-service}}"


def test_errors_come_only_from_the_canary_share() -> None:
    """5 % errors x 10 % weight -> 0.5 % of the requests while the weight is 10 % (issue 12)."""
    r = _run(
        "{name: c, kind: canary, target: bff-service, start: 1h, serving: {error_rate: 0.05},"
        f" canary: {{steps: [{{setWeight: 10}}, {{pause: {{}}}}], {ROUTED}}}}}"
    )
    row = r.plans.iloc[0]
    assert row["outcome"] == "Unfinished"  # an indefinite pause nobody promotes
    rate = row["errors"] / row["requests"]
    assert 0.004 < rate <= 0.005  # 0.5 % once the canary pod is ready (weight 0 before)
    steps = r.plan_steps
    assert "PausedIndefinitely" in set(steps["reason"])


def test_promote_after_ends_an_indefinite_pause() -> None:
    r = _run(
        "{name: c, kind: canary, target: bff-service, start: 1h, promote_after: 20m,"
        f" canary: {{steps: [{{setWeight: 10}}, {{pause: {{}}}}], {ROUTED}}}}}"
    )
    row = r.plans.iloc[0]
    assert row["outcome"] == "Complete"
    assert row["duration_s"] >= 20 * 60 + 30  # the pause, then scaleDownDelaySeconds 30


def test_analysis_aborts_a_failing_canary() -> None:
    r = _run(
        "{name: c, kind: canary, target: bff-service, start: 1h, serving: {error_rate: 0.05},"
        " metrics: {successRate: 99%, interval: 1m},"
        " canary: {steps: [{setWeight: 20}, {pause: {duration: 10m}}, {setWeight: 50}],"
        f" analysis: {{templates: [{{templateName: success-rate}}]}}, {ROUTED}}}}}"
    )
    row = r.plans.iloc[0]
    assert row["outcome"] == "Aborted"
    assert row["duration_s"] < 10 * 60  # aborted during the first pause
    assert "RolloutAborted" in set(r.plan_steps["reason"]) or "Aborted" in set(r.plan_steps["reason"])


def test_analysis_step_passes_a_healthy_canary() -> None:
    r = _run(
        "{name: c, kind: canary, target: bff-service, start: 1h,"
        " metrics: {successRate: 99%, p95: 1s, count: 3},"
        f" canary: {{steps: [{{setWeight: 20}}, {{analysis: {{}}}}, {{setWeight: 60}}], {ROUTED}}}}}"
    )
    row = r.plans.iloc[0]
    assert row["outcome"] == "Complete"
    assert row["duration_s"] >= 2 * 60  # three measurements a minute apart


def test_slower_canary_shows_in_p95() -> None:
    plan = "{name: c, kind: canary, target: bff-service, start: 1h, canary: {steps: [{setWeight: 50},"
    plan += f" {{pause: {{duration: 20m}}}}], {ROUTED}}}"
    fast = _run(plan + "}").plans.iloc[0]
    slow = _run(plan + ", serving: {service_time: 60ms}}").plans.iloc[0]
    assert slow["p95_ms"] > fast["p95_ms"] + 20  # half the traffic at 60 ms instead of 15 ms


def test_flagger_interval_1m_max_50_step_2_takes_at_least_25_minutes() -> None:
    r = _run(
        "{name: f, kind: canary, target: bff-service, start: 1h,"
        " analysis: {interval: 1m, maxWeight: 50, stepWeight: 2}}"
    )
    row = r.plans.iloc[0]
    assert row["outcome"] == "Complete"
    assert row["duration_s"] >= 25 * 60
    assert row["peak_pods"] >= 6  # the primary copy runs throughout beside a full canary


def test_blue_green_runs_two_stacks_and_waits_30s() -> None:
    r = _run("{name: b, kind: blue-green, target: bff-service, start: 1h}")
    row = r.plans.iloc[0]
    assert row["outcome"] == "Complete"
    assert row["peak_pods"] >= 6
    delay = r.plan_steps[r.plan_steps["reason"] == "ScaleDownDelay"]
    assert not delay.empty and (delay["end_s"] - delay["start_s"]).sum() >= 30


@pytest.mark.parametrize("kind", ["canary", "blue-green"])
def test_cli_prints_the_plan_block(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    from simkit.cli import main

    name = "canary-llm-agent.yaml" if kind == "canary" else "blue-green-orchestrator.yaml"
    code = main(["run", str(DEFAULT_SCENARIO.parent / name)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"({kind} of" in out and "p95" in out
