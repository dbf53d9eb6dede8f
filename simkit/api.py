"""The public entry point: scenario in, `RunResult` out."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from simkit.analysis.cost import cost_breakdown, cost_per_million_requests, monthly_total
from simkit.analysis.slo import evaluate_checks
from simkit.engine.simulation import EngineOutput, run_engine
from simkit.errors import SimkitError
from simkit.results import RunResult
from simkit.scenario.loader import LoadedScenario, load_scenario_file, scenario_hash
from simkit.scenario.model import Scenario

try:
    __version__ = version("simkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def simulate(
    scenario: Scenario | LoadedScenario | str | Path | None = None,
    seed: int | None = None,
    duration: float | None = None,
    progress: bool | None = None,
    mode: str = "fast",
) -> RunResult:
    """Simulate a scenario (a model, a file, or the default platform when None) and check its targets.

    `seed` and `duration` (seconds) override the scenario's `simulation` section. Same scenario and
    seed give identical results. `mode="request"` replays the run's cluster timeline one request
    at a time (slow; for validating the fast mode): routes, latency and availability then come
    from the replay, and the fast mode's figures stay in `result.meta["fast_summary"]`.
    """
    if mode not in ("fast", "request"):
        raise SimkitError(f"mode: expected 'fast' or 'request', got {mode!r}")
    loaded = _loaded(scenario)
    sc = loaded.scenario
    seed = sc.simulation.seed if seed is None else seed
    duration_s = sc.simulation.duration if duration is None else float(duration)
    out = run_engine(sc, seed=seed, duration_s=duration_s, base_dir=loaded.base_dir, progress=progress)
    result = build_result(sc, loaded.sha256, seed, out)
    return _replay_requests(result, seed) if mode == "request" else result


def _replay_requests(result: RunResult, seed: int) -> RunResult:
    """Swap the fast mode's route figures for a request-by-request replay of the same timeline."""
    from simkit.engine.request_level import run_request_level

    replay = run_request_level(result, seed)
    summary = dict(result.summary)
    result.meta["fast_summary"] = dict(summary)
    result.meta["mode"] = "request"
    for key, value in replay.summary.items():
        if key != "simulated_s":
            summary[key] = float(value)
    summary["cost_per_million_requests_usd"] = (
        cost_per_million_requests(summary["cost_usd_month"], summary["requests"], result.duration_s)
        if summary.get("requests", 0) > 0
        else float("nan")
    )
    result.summary = summary
    result.routes = replay.routes
    checks = evaluate_checks(result.scenario, summary)
    dr = result.checks[result.checks["target"].str.startswith(("RTO", "RPO"))]
    result.checks = pd.concat([checks, dr], ignore_index=True) if len(dr) else checks
    return result


def _loaded(scenario: Scenario | LoadedScenario | str | Path | None) -> LoadedScenario:
    if isinstance(scenario, LoadedScenario):
        return scenario
    if isinstance(scenario, Scenario):
        return LoadedScenario(scenario, None, scenario_hash(scenario))
    return load_scenario_file(scenario)


def _dr_checks(scenario: Scenario, seed: int, summary: dict[str, float]) -> pd.DataFrame:
    """RTO/RPO per DR event from the DR model, on its own random stream (the engine's are untouched)."""
    from simkit.dr import dr_checks, dr_summary, evaluate

    assert scenario.dr is not None
    rng = np.random.default_rng(np.random.SeedSequence([seed, DR_STREAM]))
    draws = evaluate(scenario.dr, rng)
    table = dr_summary(draws, scenario.dr)
    for row in table.to_dict("records"):
        for key, value in row.items():
            if isinstance(value, int | float) and key != "event":
                summary[f"dr.{row['event']}.{key}"] = float(value)
    return dr_checks(draws, scenario.dr)


DR_STREAM = 4242  # spawn key of the DR model's random stream, apart from the engine's


def _fault_table(out: EngineOutput) -> pd.DataFrame:
    """Each fault with the time until every workload had its desired ready replicas again."""
    faults = pd.DataFrame(out.fault_rows, columns=["t_s", "kind", "target", "detail"])
    short = pd.DataFrame(out.shortfall_rows, columns=["t_s", "missing"])
    restore = []
    for t in faults["t_s"]:
        after = short[short["t_s"] >= t]
        hit = after.index[after["missing"] > 0]
        if not len(hit):
            restore.append(0.0)
            continue
        healed = after.loc[hit[0] :]
        healed = healed[healed["missing"] == 0]
        restore.append(float(healed["t_s"].iloc[0] - t) if len(healed) else float("inf"))
    return faults.assign(restore_s=restore)


def build_result(scenario: Scenario, sha: str, seed: int, out: EngineOutput) -> RunResult:
    """Turn the engine's raw rows into DataFrames, the summary and the checks."""
    t = out.traffic
    nodes = pd.DataFrame(out.node_rows, columns=["t_s", "pool", "zone", "nodes", "ready_nodes"])
    replicas = pd.DataFrame(out.replica_rows, columns=["t_s", "workload", "desired", "ready"])
    events = pd.DataFrame(out.event_rows, columns=["t_s", "kind", "object", "reason", "message"])
    pending = pd.DataFrame(out.pending_rows, columns=["t_s", "pending_pods"])
    decisions = pd.DataFrame(
        out.decision_rows, columns=["t_s", "controller", "object", "from", "to", "reason", "message"]
    )
    node_seconds = pd.DataFrame(
        out.node_seconds, columns=["pool", "instance_type", "capacity_type", "zone", "node_seconds"]
    )
    cost = cost_breakdown(
        node_seconds, out.duration_s, scenario.cluster.provider, scenario.cluster.region, scenario.cost
    )
    summary = dict(t["summary"])
    summary.update(out.counters)
    faults = _fault_table(out)
    if len(faults):
        summary["faults"] = float(len(faults))
        summary["restore_s_max"] = float(faults["restore_s"].max())
    if "availability" in summary and scenario.slos.availability < 1:
        budget = 1 - scenario.slos.availability
        summary["error_budget_left"] = 1 - (1 - summary["availability"]) / budget
    waits = np.asarray(out.pod_waits_s)
    summary["pods_started"] = float(waits.size)
    summary["pod_wait_p95_s"] = float(np.percentile(waits, 95)) if waits.size else 0.0
    summary["pod_wait_max_s"] = float(waits.max()) if waits.size else 0.0
    total = monthly_total(cost)
    summary["cost_usd_month"] = total
    summary["node_cost_usd_month"] = float(
        cost.loc[cost["component"].str.startswith("worker nodes"), "monthly_usd"].sum()
    )
    requests = summary.get("requests", 0.0)
    summary["cost_per_million_requests_usd"] = (
        cost_per_million_requests(total, requests, out.duration_s) if requests > 0 else float("nan")
    )
    checks = evaluate_checks(scenario, summary)
    if scenario.dr is not None:
        checks = pd.concat([checks, _dr_checks(scenario, seed, summary)], ignore_index=True)
    return RunResult(
        scenario=scenario,
        seed=seed,
        scenario_hash=sha,
        version=__version__,
        duration_s=out.duration_s,
        services=t["services"],
        routes=t["routes"],
        queues=t["queues"],
        nodes=nodes,
        replicas=replicas,
        events=events,
        decisions=decisions,
        pending=pending,
        faults=faults,
        cost=cost,
        summary=summary,
        checks=checks,
    )
