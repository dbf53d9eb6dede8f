"""Deployment plans: the `plans:` schema (exact one-line errors), rollouts in the engine (surge and
availability bounds, the progress deadline, the HPA mid-rollout), tables unchanged without plans,
and the CLI's plan block and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import simkit
from simkit.cli import main
from simkit.errors import ScenarioError
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario_file, parse_scenario, scenario_hash

BASE = DEFAULT_SCENARIO.read_text()
ROOT = Path(__file__).resolve().parent.parent
PLAN = "  - {name: r, kind: rollout, target: llm-agent-service, start: 14h"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            PLAN + ", strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}}",
            "plans[0].strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0",
        ),
        (
            PLAN + ", strategy: {rollingUpdate: {maxSurge: 120%}}}",
            "plans[0].strategy.rollingUpdate.maxSurge: must not be greater than 100%, got '120%'",
        ),
        (
            "  - {name: r, kind: rollout, target: llm-agent, start: 14h}",
            "plans[0].target: unknown workload 'llm-agent'",
        ),
        (
            "  - {name: r, kind: rollout, target: bff-service, start: 8d}",
            "plans[0].start: starts at 8d, at or after the end of the run (7d)",
        ),
        (
            "  - {name: r, kind: statefulset-update, target: bff-service, start: 1h}",
            "plans[0].kind: a statefulset-update needs a StatefulSet, but 'bff-service' is a Deployment",
        ),
        (
            "  - {name: r, kind: rollout, target: redis, start: 1h}",
            "plans[0].kind: a rollout needs a Deployment, but 'redis' is a StatefulSet",
        ),
        (
            PLAN + ", stratgy: {type: Recreate}}",
            "plans[0].stratgy: unknown key; did you mean 'strategy'?",
        ),
        (
            "  - {name: r, kind: canary, target: bff-service, start: 1h}",
            "plans[0].canary: a canary plan takes `canary` (Argo Rollouts) or `analysis` (Flagger), "
            "one of them",
        ),
    ],
)
def test_bad_plans_give_one_exact_line(plan: str, message: str) -> None:
    text = BASE + "plans:\n" + plan + "\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert str(info.value) == f"s.yaml: {message} (line {_line(text, plan.strip())})"


def test_peak_start_and_defaults() -> None:
    sc = parse_scenario(BASE + "plans:\n  - {name: r, kind: rollout, target: bff-service, start: peak}\n")
    plan = sc.plans[0]
    assert plan.at_peak and plan.start_s is None
    assert (plan.progressDeadlineSeconds, plan.revisionHistoryLimit, plan.minReadySeconds) == (600, 10, 0)


def test_no_plans_keeps_the_scenario_hash() -> None:
    plain = parse_scenario(BASE)
    assert scenario_hash(plain) == scenario_hash(parse_scenario(BASE + "plans: []\n"))
    assert "plans" not in plain.model_dump()


def _scenario_with(plan: dict, **workload: object) -> simkit.Scenario:
    """The default scenario with one plan, and bff-service (no HPA) changed as given."""
    data = yaml.safe_load(BASE)
    for w in data["workloads"]:
        if w["name"] == "bff-service":
            w.update(workload)
    data["plans"] = [plan]
    return parse_scenario(yaml.safe_dump(data, sort_keys=False))


def test_rollout_stays_within_surge_and_unavailability() -> None:
    """10 replicas, 25 %/25 %: never more than 13 pods, never fewer than 8 available (the issue's bound)."""
    plan = {"name": "r", "kind": "rollout", "target": "bff-service", "start": "2h"}
    result = simkit.simulate(_scenario_with(plan, replicas=10), duration=4 * 3600)
    row = result.plans.iloc[0]
    assert row.outcome == "Complete"
    assert row.peak_pods == 13 and row.min_available == 8
    steps = result.plan_steps
    assert (steps["pods"] <= steps["desired"] + 3).all() and steps["pods"].max() == 13
    assert (steps["available"] >= 8).all()
    rep = result.replicas[(result.replicas.workload == "bff-service")]
    during = rep[(rep.t_s >= row.start_s) & (rep.t_s <= row.end_s)]
    assert len(during) and during["ready"].min() >= 8
    assert rep["ready"].iloc[-1] == 10
    assert 0 < row.duration_s < 600
    assert row.requests > 0 and row.p95_ms > 0


def test_new_version_that_never_becomes_ready_exceeds_the_progress_deadline() -> None:
    plan = {
        "name": "broken",
        "kind": "rollout",
        "target": "bff-service",
        "start": "1h",
        "never_ready": True,
        "progressDeadlineSeconds": 300,
    }
    result = simkit.simulate(_scenario_with(plan), duration=3 * 3600)
    row = result.plans.iloc[0]
    assert row.outcome == "ProgressDeadlineExceeded"
    assert 300 <= row.duration_s <= 330  # the deadline, plus the 1 s requeue and the controller latency
    assert row.min_available == 3 - 0  # 3 replicas: maxUnavailable floor(0.75) = 0, old pods all stay
    assert not result.passed
    assert any("plan broken ended ProgressDeadlineExceeded" in f for f in result.failures)
    assert result.plan_steps["waited"].iloc[-1] == "waiting for 1 available"


def test_the_hpa_scales_the_deployment_mid_rollout() -> None:
    """At 3x load, on the morning ramp, the HPA raises replicas during the rollout (each step held 2 min by
    minReadySeconds): the controller scales proportionally. (At the flat peak whether the HPA moves inside a
    3-minute rollout depends on its sync phase; the ramp makes it certain.)"""
    overrides = {"traffic.load.growth": 3, "plans.0.start": "9h", "plans.0.minReadySeconds": 120}
    sc = load_scenario_file(ROOT / "scenarios" / "rollout-at-peak.yaml", overrides=overrides)
    result = simkit.simulate(sc, duration=86400)
    row = result.plans.iloc[0]
    assert row.outcome == "Complete"
    steps = result.plan_steps
    assert "ScalingEvent" in set(steps["reason"])
    assert steps["desired"].iloc[-1] > steps["desired"].iloc[0]
    d = result.decisions
    hpa = d[(d.controller == "hpa") & (d.object == "llm-agent-service") & (d["from"] != d["to"])]
    assert ((hpa.t_s > row.start_s) & (hpa.t_s < row.end_s)).any()


def test_statefulset_update_replaces_each_pod_highest_ordinal_first() -> None:
    result = simkit.simulate(ROOT / "scenarios" / "statefulset-update.yaml", duration=6 * 3600)
    row = result.plans.iloc[0]
    steps = result.plan_steps
    assert row.outcome == "Complete"
    assert list(steps["replica_set"]) == ["postgresql-2", "postgresql-1", "postgresql-0"]
    assert row.min_available == 2 and row.peak_pods == 3


def test_tables_unchanged_by_a_plan_that_never_starts() -> None:
    """Every engine table is identical with a plan that starts after the run's end (the plan machinery
    runs, nothing happens); bench/identical.py proves the same for every scenario without plans."""
    plain = simkit.simulate(parse_scenario(BASE), duration=3 * 3600)
    data = yaml.safe_load(BASE)
    data["plans"] = [{"name": "late", "kind": "rollout", "target": "bff-service", "start": "5h"}]
    late = simkit.simulate(parse_scenario(yaml.safe_dump(data, sort_keys=False)), duration=3 * 3600)
    assert late.plans.iloc[0].outcome == "NotStarted"
    assert plain.plans.empty and plain.plan_steps.empty
    for name in ("services", "routes", "queues", "nodes", "replicas", "events", "decisions", "cost"):
        assert plain.table(name).equals(late.table(name)), name


def test_cli_prints_the_plan_block_and_exits_by_the_targets(tmp_path: Path, capsys) -> None:
    assert main(["run", str(ROOT / "scenarios" / "rollout-at-peak.yaml"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "plan llm-agent-v2 (rollout of llm-agent-service): Complete after" in out
    assert "peak pods 4  min available 3  peak nodes 9" in out
    assert "during the plan (tasks of queue llm-agent-tasks): tasks" in out and "p95" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"extends: {ROOT / 'scenarios' / 'rollout-at-peak.yaml'}\n"
        "plans:\n  - {name: broken, kind: rollout, target: llm-agent-service, start: 2h, never_ready: true,"
        " progressDeadlineSeconds: 120}\n"
    )
    # extends: outside the scenario's own directory needs --allow-dir (issue 14)
    allow = ["--allow-dir", str(ROOT / "scenarios")]
    assert main(["run", str(broken), "--duration", "3h", "--no-progress", *allow]) == 1
    out = capsys.readouterr().out
    assert "plan broken (rollout of llm-agent-service): ProgressDeadlineExceeded after" in out
    assert "MISSED: plan broken ended ProgressDeadlineExceeded, not Complete" in out
