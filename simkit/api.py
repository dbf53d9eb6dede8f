"""The public entry point: scenario in, `RunResult` out."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit.analysis.allocation import cost_allocation
from simkit.analysis.burstable import (
    burstable_pools,
    cpu_use,
    credit_checks,
    credit_runs,
    credit_runs_from,
    credit_table,
)
from simkit.analysis.causes import explain
from simkit.analysis.cost import cost_frame, cost_per_million_requests, cost_rows, rows_total
from simkit.analysis.plans import consumed_queues, plan_checks, plan_tables
from simkit.analysis.route_ticks import RouteArrays, RouteTicks
from simkit.analysis.slo import Check, check_list, checks_frame, evaluate_checks
from simkit.dr import dr_checks, dr_summary, evaluate
from simkit.engine.request_level import run_request_level
from simkit.engine.simulation import EngineOutput, run_engine
from simkit.engine.traffic import TrafficTables, deferred_route_parts, queue_rows, usage_columns, usage_table
from simkit.errors import ScenarioError, SimkitError
from simkit.results import RunResult
from simkit.scenario import preflight
from simkit.scenario.loader import LoadedScenario, load_scenario_file, scenario_hash
from simkit.scenario.model import Scenario
from simkit.tables import TABLES, Deferred, EngineRows, Table, TrafficFrame
from simkit.units import parse_duration

try:
    __version__ = version("simkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def simulate(
    scenario: Scenario | LoadedScenario | str | Path | None = None,
    seed: int | None = None,
    duration: float | str | None = None,
    progress: bool | None = None,
    mode: str = "fast",
    limits: bool = True,
) -> RunResult:
    """Simulate a scenario (a model, a file, or the default platform when None) and check its targets.

    `seed` and `duration` (seconds, or a duration as the CLI takes it: "2d", "1h30m") override the
    scenario's `simulation` section. Same scenario and
    seed give identical results. `mode="request"` replays the run's cluster timeline one request
    at a time (slow; for validating the fast mode): routes, latency and availability then come
    from the replay, and the fast mode's figures stay in `result.meta["fast_summary"]`.
    A run over the pre-flight budgets (`simkit.scenario.preflight`) is refused unless `limits=False`.
    """
    if mode not in ("fast", "request"):
        raise SimkitError(f"mode: expected 'fast' or 'request', got {mode!r}")
    loaded = as_loaded(scenario)
    sc = loaded.scenario
    seed = sc.simulation.seed if seed is None else seed
    duration_s = preflight.run_args(
        seed, sc.simulation.duration if duration is None else _duration_s(duration)
    )
    preflight.check(sc, duration_s, limits)
    out = run_engine(sc, seed=seed, duration_s=duration_s, base_dir=loaded.base_dir, progress=progress)
    result = build_result(sc, loaded.sha256, seed, out)
    return _replay_requests(result, seed, loaded.base_dir) if mode == "request" else result


def _duration_s(duration: float | str) -> float:
    """`simulate`'s duration in seconds: a number of seconds or a Go-style duration ("2d", "1h30m").

    A number passes through as it is: `preflight.run_args` checks its range with the same words as a
    scenario's duration."""
    if not isinstance(duration, str):
        return duration
    try:
        value = parse_duration(duration)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(str(exc), "duration") from None
    return value


def _replay_requests(result: RunResult, seed: int, base_dir: Path | None = None) -> RunResult:
    """Swap the fast mode's route figures for a request-by-request replay of the same timeline."""
    replay = run_request_level(result, seed, base_dir=base_dir)
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
    if not result.passed:
        result.checks = explain(result)
    return result


def as_loaded(scenario: Scenario | LoadedScenario | str | Path | None) -> LoadedScenario:
    """A scenario as `simulate` takes it (a model, a loaded file, a path, or None: the default) loaded."""
    if isinstance(scenario, LoadedScenario):
        return scenario
    if isinstance(scenario, Scenario):
        return LoadedScenario(scenario, None, scenario_hash(scenario))
    return load_scenario_file(scenario)


def _dr_checks(scenario: Scenario, seed: int, summary: dict[str, float]) -> pd.DataFrame:
    """RTO/RPO per DR event from the DR model, on its own random stream (the engine's are untouched)."""
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


def restore_times(out: EngineOutput) -> list[float]:
    """Per fault, seconds until every workload had its desired ready replicas again.

    0 if no replica went missing at or after the fault; inf if they were never all back. Reads the
    shortfall rows (time, replicas missing) in the order the engine recorded them.
    """
    if not out.fault_rows:
        return []
    ts = np.array([r[0] for r in out.shortfall_rows], dtype=float)
    missing = np.array([r[1] for r in out.shortfall_rows], dtype=float)
    restore = []
    for t in _FAULTS.values(out.fault_rows, "t_s"):
        after = np.flatnonzero(ts >= t)
        hit = after[missing[after] > 0]
        if not hit.size:
            restore.append(0.0)
            continue
        rest = after[after >= hit[0]]
        healed = rest[missing[rest] == 0]
        restore.append(float(ts[healed[0]] - t) if healed.size else float("inf"))
    return restore


_FAULTS, _ALLOCATION = TABLES["faults"], TABLES["allocation"]


def _fault_frame(rows: list[tuple[float, str, str, str]], restore: list[float]) -> pd.DataFrame:
    """Each fault with the time until every workload had its desired ready replicas again."""
    *engine_columns, restore_column = _FAULTS.names  # the engine's fault rows lack the last column
    return pd.DataFrame(rows, columns=engine_columns).assign(**{restore_column: restore})


def _checks_with_dr(checks: list[Check], dr: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([checks_frame(checks), dr], ignore_index=True)


def _traffic_table(traffic: dict[str, Any], name: str) -> pd.DataFrame | Deferred:
    """A traffic table as `TrafficModel.finish` left it: built, or still deferred."""
    return traffic.raw(name) if isinstance(traffic, TrafficTables) else traffic[name]


def _route_rows(routes: pd.DataFrame | Deferred) -> RouteTicks | RouteArrays:
    """What the plans' windows read of the routes table: its arrays, without building it if it is not
    built yet (a month's table is ~10^5 rows; the plans read a few hundred)."""
    parts = deferred_route_parts(routes)
    if parts is not None:
        return RouteArrays(*parts)
    return RouteTicks(routes.build() if isinstance(routes, Deferred) else routes)


def _packing(rows: list[tuple[Any, ...]]) -> dict[str, float]:
    """Share of the cluster's allocatable CPU and memory requested at the end, in all and by DaemonSets."""
    if not rows:
        return {}

    def total(column: str) -> float:
        return float(sum(_ALLOCATION.values(rows, column)))

    alloc_cpu, alloc_mem = total("allocatable_cpu_m"), total("allocatable_memory_mib")
    ds_cpu, ds_mem = total("daemonset_cpu_m"), total("daemonset_memory_mib")
    wl_cpu, wl_mem = total("workload_cpu_m"), total("workload_memory_mib")
    return {
        "requested_cpu_frac": (ds_cpu + wl_cpu) / alloc_cpu if alloc_cpu else 0.0,
        "requested_memory_frac": (ds_mem + wl_mem) / alloc_mem if alloc_mem else 0.0,
        "daemonset_cpu_frac": ds_cpu / alloc_cpu if alloc_cpu else 0.0,
        "daemonset_memory_frac": ds_mem / alloc_mem if alloc_mem else 0.0,
    }


def _table(
    spec: Table, out: EngineOutput, derived: Mapping[str, pd.DataFrame | Deferred]
) -> pd.DataFrame | Deferred:
    """One table of `TABLES` from the engine's output, as its `source` says (built on first read)."""
    if isinstance(spec.source, EngineRows):
        return spec.deferred(getattr(out, spec.source.field))
    if isinstance(spec.source, TrafficFrame):
        return _traffic_table(out.traffic, spec.name)
    return derived[spec.name]


def _tables_for_usage(out: EngineOutput) -> tuple[pd.DataFrame, ...]:
    """The services, queues, replicas and nodes tables the CPU-use estimates read."""
    t = out.traffic
    built = []
    for name in ("services", "queues"):  # only the columns the estimates read (`usage_table`)
        table = _traffic_table(t, name) if name in t else TABLES[name].empty()
        built.append(usage_table(table, name))
    built.append(TABLES["replicas"].deferred(out.replica_rows).build())
    built.append(TABLES["nodes"].deferred(out.node_rows).build())
    return tuple(built)


class _Usage:
    """What the CPU-use estimates read (`tables`, rebuilt on each call rather than kept: they are
    big) and the CPU-credit runs, computed once per run for the two tables that read them (checks,
    cpu_credits) instead of once each."""

    def __init__(self, scenario: Scenario, out: EngineOutput) -> None:
        self.scenario, self.out = scenario, out

    def tables(self) -> tuple[pd.DataFrame, ...]:
        return _tables_for_usage(self.out)

    @cached_property
    def credits(self) -> list[Any]:
        t = self.out.traffic
        raw = usage_columns(t.raw("services"), t.raw("queues")) if isinstance(t, TrafficTables) else None
        if raw is None or not burstable_pools(self.scenario):
            return credit_runs(self.scenario, *self.tables())
        # the same arrays as the tables' columns, without building the tables (a Monte Carlo run's
        # verdict reads the credit check: it was a fifth of the run)
        ticks, services, queues = raw
        replicas = TABLES["replicas"].deferred(self.out.replica_rows).build()
        nodes = TABLES["nodes"].deferred(self.out.node_rows).build()
        use = cpu_use(self.scenario, services, queues, replicas, ticks)
        return credit_runs_from(self.scenario, use, nodes, ticks)


def _credits_frame(usage: _Usage) -> pd.DataFrame:
    return credit_table(usage.credits)


def _checks_with_credits(checks: Deferred, usage: _Usage) -> pd.DataFrame:
    """The checks, and a missed one per burstable pool whose busiest node ran out of CPU credits."""
    frame = checks.build()
    missed = credit_checks(usage.credits)
    return pd.concat([frame, checks_frame(missed)], ignore_index=True) if missed else frame


def _allocation_frame(scenario: Scenario, usage: _Usage, cost: Deferred) -> pd.DataFrame:
    services, queues, replicas, _ = usage.tables()
    return cost_allocation(scenario, services, queues, replicas, cost.build())


def build_result(scenario: Scenario, sha: str, seed: int, out: EngineOutput) -> RunResult:
    """The summary and the checks from the engine's raw rows; its tables become DataFrames when read.

    Everything the summary needs is computed here from plain rows and arrays; the DataFrames are
    built on first access (`simkit.results.Deferred`), with the same contents as if built now.
    """
    t = out.traffic
    cost = cost_rows(
        out.node_seconds, out.duration_s, scenario.cluster.provider, scenario.cluster.region, scenario.cost
    )
    summary = dict(t["summary"])
    summary.update(out.counters)
    restore = restore_times(out)
    if restore:
        summary["faults"] = float(len(restore))
        summary["restore_s_max"] = float(max(restore))
    if "availability" in summary and scenario.slos.availability < 1:
        budget = 1 - scenario.slos.availability
        summary["error_budget_left"] = 1 - (1 - summary["availability"]) / budget
    summary.update(_packing(out.allocation_rows))
    waits = np.asarray(out.pod_waits_s)
    summary["pods_started"] = float(waits.size)
    summary["pod_wait_p95_s"] = float(np.percentile(waits, 95)) if waits.size else 0.0
    summary["pod_wait_max_s"] = float(waits.max()) if waits.size else 0.0
    total = rows_total(cost)
    summary["cost_usd_month"] = total
    summary["node_cost_usd_month"] = rows_total(cost, "worker nodes")
    requests = summary.get("requests", 0.0)
    summary["cost_per_million_requests_usd"] = (
        cost_per_million_requests(total, requests, out.duration_s) if requests > 0 else float("nan")
    )
    targets = check_list(scenario, summary)
    derived: dict[str, pd.DataFrame | Deferred] = {}
    if out.plan_rows:  # deployment plans: their rows, summary figures and checks
        routes = _route_rows(_traffic_table(t, "routes"))
        consumed = {q for r in out.plan_rows for q in consumed_queues(scenario, r.plan.target)}
        queues = queue_rows(_traffic_table(t, "queues"), sorted(consumed)) if consumed else None
        plans, steps = plan_tables(scenario, out.plan_rows, out.node_rows, routes, out.duration_s, queues)
        derived["plans"] = TABLES["plans"].deferred(plans)
        derived["plan_steps"] = TABLES["plan_steps"].deferred(steps)
        for row in plans:
            for column in ("duration_s", "extra_cost_usd_total", "peak_pods", "peak_nodes", "p95_ms"):
                summary[f"plan.{row[0]}.{column}"] = float(row[TABLES["plans"].index(column)])
        targets += plan_checks(scenario, plans)
    checks = Deferred(checks_frame, (targets,))
    if scenario.dr is not None:  # adds the DR figures to the summary, after the checks above
        checks = Deferred(_checks_with_dr, (targets, _dr_checks(scenario, seed, summary)))
    usage = _Usage(scenario, out)
    if burstable_pools(scenario):  # CPU credits: a table, and a missed check when a bank runs dry
        checks = Deferred(_checks_with_credits, (checks, usage))
        derived["cpu_credits"] = Deferred(_credits_frame, (usage,))
    cost_table = Deferred(cost_frame, (cost,))
    derived |= {
        "faults": Deferred(_fault_frame, (out.fault_rows, restore)),
        "cost": cost_table,
        "cpu_credits": derived.get("cpu_credits", TABLES["cpu_credits"].empty()),
        "cost_allocation": Deferred(_allocation_frame, (scenario, usage, cost_table)),
        "checks": checks,
        "plans": derived.get("plans", TABLES["plans"].empty()),
        "plan_steps": derived.get("plan_steps", TABLES["plan_steps"].empty()),
    }
    tables: dict[str, Any] = {name: _table(spec, out, derived) for name, spec in TABLES.items()}
    result = RunResult(
        scenario=scenario,
        seed=seed,
        scenario_hash=sha,
        version=__version__,
        duration_s=out.duration_s,
        summary=summary,
        **tables,
    )
    if not all(c.passed for c in targets):  # say why (reads the tables: only when something missed)
        result.checks = explain(result)
    return result
