"""The output tables of a run: one schema each (columns with units, what it holds, how it is built).

`TABLES` is the one registry of a run's tables. `RunResult` gets one attribute per entry, `write()`
writes one CSV per entry (in this order) and the report sections of the entries that have one, and
the HTML repr lists them. A new table is one new entry here: if the engine produces it, as row tuples
in a list of `EngineOutput` (`EngineRows("<field>")`); otherwise `simkit.api.build_result` builds it
(`Derived`) and the registry test asks for its builder.

Columns are declared against the tuples the engine emits today (`EngineOutput.*_rows`, in column
order), so the engine can switch to named tuples without changing anything here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd


@dataclass(frozen=True, eq=False)
class Deferred:
    """A table not built yet: `build()` calls `fn(*args)`, a module-level function, so it pickles.

    A run's tables are kept as the raw columns and rows the engine produced and turned into
    DataFrames on first read: most callers (sweeps, replications, the CLI's verdict) read only
    the summary and the checks, and building a dozen DataFrames costs more than a short run.
    """

    fn: Callable[..., pd.DataFrame]
    args: tuple[Any, ...] = ()

    def build(self) -> pd.DataFrame:
        return self.fn(*self.args)

    def __repr__(self) -> str:
        return f"<Deferred {getattr(self.fn, '__name__', self.fn)}>"


def rows_frame(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame from row tuples (what `Deferred` builds the engine's event-style tables with)."""
    return pd.DataFrame(rows, columns=list(columns))


class Column(NamedTuple):
    """One column: its name (units in it, as `t_s`), its unit, and what it holds when not obvious."""

    name: str
    unit: str = ""  # "" for labels and text
    what: str = ""
    agg: str = ""  # per-tick tables: how `downsample` merges ticks (mean, max, last, sum); "" = a key


@dataclass(frozen=True)
class EngineRows:
    """Row tuples the engine appends to `EngineOutput.<field>`, one per row, in the table's column order."""

    field: str

    def __str__(self) -> str:
        return f"the engine's rows (EngineOutput.{self.field})"


@dataclass(frozen=True)
class TrafficFrame:
    """A frame the traffic model builds (`EngineOutput.traffic[<table name>]`): a row per stream and tick."""

    def __str__(self) -> str:
        return "the traffic model (EngineOutput.traffic), one row per tick"


@dataclass(frozen=True)
class Derived:
    """Computed by `simkit.api.build_result` from the engine's output; `how` says from what."""

    how: str

    def __str__(self) -> str:
        return self.how


Source = EngineRows | TrafficFrame | Derived


class Report(NamedTuple):
    """A table's section in summary.md: its title, its place among the sections, the columns left out."""

    title: str
    rank: int
    omits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """The schema of one output table and how it is built."""

    name: str
    description: str  # one line
    columns: tuple[Column, ...]
    source: Source
    optional: bool = False  # a RunResult made without it has it empty (with these columns)
    report: Report | None = None  # its section in summary.md; None: CSV only

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def per_tick(self) -> bool:
        """A row per key and tick, each value column saying how ticks merge (`simkit.tablefiles`)."""
        return any(c.agg for c in self.columns)

    def index(self, column: str) -> int:
        """The position of `column` in a row tuple."""
        return self.names.index(column)

    def values(self, rows: Sequence[Sequence[Any]], column: str) -> list[Any]:
        """One column of row tuples, by name."""
        i = self.index(column)
        return [r[i] for r in rows]

    def deferred(self, rows: Sequence[tuple[Any, ...]]) -> Deferred:
        """The table of these row tuples, built when first read."""
        return Deferred(rows_frame, (rows, self.names))

    def empty(self) -> Deferred:
        """The table without rows (what a RunResult made without an optional table holds)."""
        return self.deferred(())


_T = Column("t_s", "s", "simulated time since the start")
_TICK = Column("t_s", "s", "start of the tick")


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "services",
            "Per service and tick: load, ready replicas, queueing and latency (the fast traffic model).",
            (
                _TICK,
                Column("service"),
                Column("load_rps", "req/s", "arrival rate", agg="mean"),
                Column("ready_replicas", "pods", "ready servers / concurrency per pod", agg="last"),
                Column("utilization", "1", "busy share of the servers", agg="mean"),
                Column("p_wait", "1", "probability a request waits for a server", agg="mean"),
                Column("wait_ms_mean", "ms", "mean wait for a server", agg="mean"),
                Column("latency_p50_ms", "ms", agg="max"),
                Column("latency_p95_ms", "ms", agg="max"),
                Column("latency_p99_ms", "ms", agg="max"),
                Column("arrivals", "requests", "in the tick", agg="sum"),
                Column("served", "requests", "in the tick", agg="sum"),
                Column("backlog", "requests", "waiting at the end of the tick", agg="max"),
                Column("timeouts", "requests", "timed out in the tick", agg="sum"),
            ),
            TrafficFrame(),
        ),
        Table(
            "routes",
            "Per route and tick: load, requests, errors and end-to-end latency percentiles.",
            (
                _TICK,
                Column("route"),
                Column("load_rps", "req/s", "the route's share of the load", agg="mean"),
                Column("requests", "requests", "offered in the tick", agg="sum"),
                Column("errors", "requests", "failed or timed out in the tick", agg="sum"),
                Column("p50_ms", "ms", agg="max"),
                Column("p95_ms", "ms", agg="max"),
                Column("p99_ms", "ms", agg="max"),
            ),
            TrafficFrame(),
        ),
        Table(
            "queues",
            "Per task queue and tick: arrivals, losses, consumers, backlog and task age.",
            (
                _TICK,
                Column("queue"),
                Column("arrivals", "tasks", "in the tick", agg="sum"),
                Column("lost", "tasks", "lost in the tick", agg="sum"),
                Column("completed", "tasks", "in the tick", agg="sum"),
                Column("backlog", "tasks", "waiting at the end of the tick", agg="max"),
                Column("consumers", "pods", "ready consumers", agg="last"),
                Column("utilization", "1", "busy share of the consumers", agg="mean"),
                Column("wait_p95_s", "s", "95th percentile of the wait", agg="max"),
                Column("oldest_s", "s", "age of the oldest task (99th percentile of the wait)", agg="max"),
            ),
            TrafficFrame(),
        ),
        Table(
            "slo_windows",
            "Per route and latency window: requests, errors, the P95 of all its requests, target met.",
            (
                Column("t_s", "s", "start of the window"),
                Column("route"),
                Column("window_s", "s", "length of the window (the last may be shorter)"),
                Column("requests", "requests", "offered in the window"),
                Column("errors", "requests", "failed in the window (counted at their timeout)"),
                Column("p95_ms", "ms", "P95 of all the window's requests; inf: past every timeout"),
                Column("met", "bool", "the P95 meets the route's target; empty: no target"),
            ),
            TrafficFrame(),
            optional=True,  # results made before it (or by hand) have it empty
        ),
        Table(
            "nodes",
            "Node count per pool and zone, a row each time it changes.",
            (
                _T,
                Column("pool"),
                Column("zone"),
                Column("nodes", "nodes", "in the pool and zone"),
                Column("ready_nodes", "nodes", "of which Ready"),
            ),
            EngineRows("node_rows"),
        ),
        Table(
            "replicas",
            "Desired and ready replicas per workload, a row each time either changes.",
            (_T, Column("workload"), Column("desired", "pods"), Column("ready", "pods")),
            EngineRows("replica_rows"),
        ),
        Table(
            "pending",
            "Pods waiting for a node, a row each time the count changes.",
            (_T, Column("pending_pods", "pods")),
            EngineRows("pending_rows"),
            optional=True,
        ),
        Table(
            "faults",
            "Each fault: when, what, and how long until every workload had its replicas back.",
            (
                _T,
                Column("kind", "", "node failure, spot interruption, zone outage, ..."),
                Column("target", "", "the node, zone or workload hit"),
                Column("detail"),
                Column(
                    "restore_s",
                    "s",
                    "until every workload was back at its desired ready replicas; inf: never",
                ),
            ),
            Derived(
                "the engine's fault rows (EngineOutput.fault_rows) and restore_s from its shortfall rows"
            ),
            optional=True,
        ),
        Table(
            "events",
            "Kubernetes-style events (scheduling, node and pod lifecycle, faults).",
            (
                _T,
                Column("kind", "", "the object's kind"),
                Column("object"),
                Column("reason", "", "Kubernetes' reason code"),
                Column("message"),
            ),
            EngineRows("event_rows"),
        ),
        Table(
            "decisions",
            "What each controller (HPA, cluster autoscaler) decided, from and to, and why.",
            (
                _T,
                Column("controller"),
                Column("object"),
                Column("from", "", "replicas or nodes before"),
                Column("to", "", "replicas or nodes after"),
                Column("reason", "", "Kubernetes' reason code"),
                Column("message"),
            ),
            EngineRows("decision_rows"),
        ),
        Table(
            "cost",
            "Monthly cost (730 h), one row per item: nodes per pool, control plane, storage, transfer, ...",
            (
                Column("component"),
                Column("category"),
                Column("monthly_usd", "USD/month"),
                Column("basis", "", "the quantity and price it comes from"),
                Column("source", "", "where the price comes from"),
            ),
            Derived("simkit.analysis.cost from the engine's node-seconds and the scenario's cost section"),
            report=Report("Cost (per month, 730 h)", 2),
        ),
        Table(
            "checks",
            "Each target (SLOs, cost, task age, RTO/RPO): threshold, value, margin and verdict.",
            (
                Column("target"),
                Column("threshold", "see unit"),
                Column("value", "see unit", "measured"),
                Column("unit", "", "the unit of threshold, value and margin"),
                Column("passed", "bool"),
                Column("margin", "see unit", "room left (> 0) or by how much it was missed (< 0)"),
                Column("reason", "", "why it was missed; empty when passed"),
                Column("cause", "", "what made it miss, one line (analysis/causes.py); empty when passed"),
                Column("whole_run", "see unit", "the value over the whole run (windowed targets)"),
                Column("worst_window", "see unit", "the value in the worst window"),
                Column("window_s", "s", "the target's window"),
                Column("compliance", "%", "share of the windows (by time) that met a latency target"),
                Column("compliance_target", "%", "the share required"),
                Column("time_over_s", "s", "time in windows that missed a latency target"),
                Column("error_budget", "requests", "errors the availability window allows"),
                Column("budget_used", "%", "share of that error budget used (worst window)"),
            ),
            Derived("simkit.analysis.slo from the summary, and simkit.dr when the scenario has a dr section"),
            report=Report(
                "Checks", 1, omits=("reason", "cause", "compliance_target", "error_budget")
            ),  # the reasons follow as a list
        ),
        Table(
            "allocation",
            "Each node at the end: allocatable vs what DaemonSet and workload pods request on it.",
            (
                Column("node"),
                Column("pool"),
                Column("zone"),
                Column("instance_type"),
                Column("capacity_type", "", "spot or on-demand"),
                Column("allocatable_cpu_m", "m"),
                Column("allocatable_memory_mib", "MiB"),
                Column("daemonset_cpu_m", "m", "requested by DaemonSet pods"),
                Column("daemonset_memory_mib", "MiB", "requested by DaemonSet pods"),
                Column("workload_cpu_m", "m", "requested by workload pods"),
                Column("workload_memory_mib", "MiB", "requested by workload pods"),
                Column("workload_pods", "pods"),
            ),
            EngineRows("allocation_rows"),
            optional=True,
        ),
        Table(
            "cpu_credits",
            "Each burstable pool (t3/t4g, B-series, e2 shared-core): its busiest node's CPU credit bank.",
            (
                Column("pool"),
                Column("instance_type"),
                Column("baseline_vcpu", "vCPU", "sustained without credits"),
                Column("credits_per_hour", "credits/h", "one credit = one vCPU at 100 % for a minute"),
                Column("credits_max", "credits", "the bank's cap"),
                Column("peak_vcpu", "vCPU", "estimated CPU use of the pool's busiest node"),
                Column("minutes_above_baseline", "min"),
                Column("min_balance", "credits", "lowest bank; it starts full"),
                Column("exhausted_at_s", "s", "when the bank first ran dry; NaN: never"),
                Column("minutes_capped", "min", "above the baseline with no credits: capped at it"),
                Column("surplus_vcpu_hours", "vCPU-h", "what AWS unlimited mode bills instead"),
                Column("mode", "", "unlimited (AWS T3/T3a/T4g default: bills, never throttles) or standard"),
                Column("surplus_usd_total", "USD", "that surplus at its price over the run (unlimited mode)"),
            ),
            Derived("simkit.analysis.burstable from the services, queues, replicas and nodes tables"),
            optional=True,
        ),
        Table(
            "cost_allocation",
            "Monthly node cost per workload (CPU, RAM; max of request and usage) and idle, as OpenCost.",
            (
                Column("namespace"),
                Column("workload", "", "__idle__: what the pool's nodes cost beyond all allocations"),
                Column("pool"),
                Column("cpu_cost_usd_month", "USD/month"),
                Column("memory_cost_usd_month", "USD/month"),
                Column("total_usd_month", "USD/month"),
                Column("share", "1", "of the worker-node cost"),
            ),
            Derived("simkit.analysis.allocation from the tables above and the cost table"),
            optional=True,
        ),
        Table(
            "plans",
            "Each deployment plan: window, outcome, pods, nodes, extra cost and the SLO during it.",
            (
                Column("plan"),
                Column("kind", "", "rollout, statefulset-update, node-pool-upgrade, drain"),
                Column("target", "", "the workload (node plans: the node pool or selector)"),
                Column("start_s", "s"),
                Column("end_s", "s", "when it completed or failed; the run's end if it did not end"),
                Column("duration_s", "s"),
                Column(
                    "outcome",
                    "",
                    "Complete | ProgressDeadlineExceeded | PodEvictionFailure | DrainTimeout | Aborted"
                    " | Unfinished | NotStarted",
                ),
                Column("peak_pods", "pods", "most pods of the target at once (terminating ones apart)"),
                Column("min_available", "pods", "fewest available pods of the target"),
                Column("peak_nodes", "nodes", "most nodes at once, all pools"),
                Column(
                    "extra_node_hours",
                    "node-h",
                    "per pool, node-hours above its count at the start (a share if concurrent_with)",
                ),
                Column("extra_cost_usd_total", "USD", "those node-hours at the pools' catalog prices"),
                Column(
                    "concurrent_with",
                    "",
                    "plans whose windows overlap this one: the overlap's node-hours are shared",
                ),
                Column("requests", "requests", "during the plan, of what `measured_on` names"),
                Column("errors", "requests", "of which failed (the new version's error_rate included)"),
                Column("availability", "1", "1 - errors / requests"),
                Column("p95_ms", "ms", "highest per-tick P95 of those (a queue: a task's time)"),
                Column("message", "", "why it did not complete: the last wait (PDB and node, pending pods)"),
                Column(
                    "measured_on",
                    "",
                    "what requests/errors/p95 are of: the queues the target consumes, the routes crossing"
                    " it, or all routes when none does (a node pool, a service off every route)",
                ),
                Column(
                    "new_requests",
                    "requests",
                    "canary/blue-green: the target's requests sent to the new version (its share of them)",
                ),
                Column("new_errors", "requests", "of which the new version failed (its error_rate)"),
                Column(
                    "new_p95_ms",
                    "ms",
                    "the new version's own P95 at the target (its pods, its share), worst tick it served",
                ),
                Column("old_requests", "requests", "the target's requests sent to the current version"),
                Column("old_errors", "requests", "of which the current version failed"),
                Column(
                    "old_p95_ms", "ms", "the current version's own P95 at the target, worst tick it served"
                ),
            ),
            Derived("simkit.analysis.plans from the engine's plan records, node rows and routes"),
            optional=True,
        ),
        Table(
            "plan_steps",
            "Each plan step: a ReplicaSet scale (or a pod replaced) until the next, and why it waited.",
            (
                Column("plan"),
                Column("start_s", "s"),
                Column("end_s", "s", "the next step, or the plan's end"),
                Column(
                    "replica_set",
                    "",
                    "the ReplicaSet scaled (StatefulSet: the pod replaced; node plans: the node drained,"
                    " or the surge phase)",
                ),
                Column("from_replicas", "pods"),
                Column("to_replicas", "pods"),
                Column("reason", "", "the controller's reason code"),
                Column("desired", "pods", "the Deployment's replicas (the HPA's) at the step"),
                Column("pods", "pods", "pods of the target after the step (terminating ones apart)"),
                Column("available", "pods", "available pods of the target after the step"),
                Column("waited", "", "why the next step waited: 'waiting for N available', 'pending: ...'"),
            ),
            Derived("simkit.analysis.plans from the engine's plan records"),
            optional=True,
        ),
    )
}
"""Every table of a run, in the order `RunResult.write` writes them."""


def reported() -> list[tuple[Table, Report]]:
    """The tables that have a section in summary.md, with it, in the order of the sections."""
    return sorted(((t, t.report) for t in TABLES.values() if t.report), key=lambda pair: pair[1].rank)


def schema() -> pd.DataFrame:
    """The registry as a table: one row per (table, column) with its unit and meaning."""
    return pd.DataFrame(
        [(t.name, c.name, c.unit, c.what) for t in TABLES.values() for c in t.columns],
        columns=["table", "column", "unit", "what"],
    )
