"""`simkit.karpenter.dry_run`: what Karpenter's disruption controller would do on the cluster at a
time, and why not for every node it would leave alone.

Users ask upstream for exactly this (kubernetes-sigs/karpenter#711, #1962 "Can't replace with a
cheaper node", aws/karpenter-provider-aws#3732). The run is simulated up to `at` with the scenario's
seed; the cluster is then read as the disruption controller reads it (engine/karpenter_loop.py
`Karpenter.cluster`) and passed through the pure functions of control/karpenter (kubernetes-sigs/
karpenter 2266468, v1.14.0-20-g2266468: disruption/controller.go, helpers.go, types.go): the command
the reconcile would start, then per node the answer of every method, with Karpenter's own text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simkit.api import as_loaded
from simkit.control import karpenter as k
from simkit.control.karpenter.controller import METHOD_REASON, get_candidates
from simkit.engine.cluster import Engine
from simkit.engine.karpenter_loop import EPOCH, karpenter_of
from simkit.engine.simulation import run_engine
from simkit.errors import SimkitError
from simkit.results import RunResult
from simkit.scenario.loader import LoadedScenario
from simkit.scenario.model import Scenario
from simkit.units import parse_duration

__all__ = ["DryRun", "dry_run", "explain_cluster"]

_COLUMNS = ["node", "nodepool", "method", "decision", "reason", "message"]
_BUDGET_TEXT = "No allowed disruptions for disruption reason {reason} due to blocking budget"  # events.go


@dataclass(frozen=True)
class DryRun:
    """The command Karpenter would compute at `at_s` (None: nothing) and, per node and method, why.

    `why` has one row per (node, method): decision `delete`/`replace` for the command's candidates,
    `noop` with Karpenter's text (`Unconsolidatable`, `DisruptionBlocked`, budget) for the others.
    """

    at_s: float
    command: k.Command | None
    why: pd.DataFrame
    events: tuple[str, ...] = ()
    allowed_disruptions: dict[str, dict[str, int]] = field(default_factory=dict)

    def __str__(self) -> str:
        head = f"Karpenter dry run at t={self.at_s:g}s: "
        if self.command is None:
            head += "no disruption command"
        else:
            c = self.command
            head += f"{c.method} {c.decision} ({c.reason}) of {', '.join(c.candidate_names)}"
            if c.replacements:
                types = ", ".join(c.replacements[0].instance_types[:5])
                head += f" with {len(c.replacements)} replacement(s) from [{types}]"
        lines = [head, *(f"  event: {e}" for e in self.events)]
        for row in self.why.itertuples():
            lines.append(f"  {row.node} [{row.method}] {row.decision}: {row.reason} {row.message}".rstrip())
        return "\n".join(lines)


_UNPLACEABLE = "pod {pod} would not schedule elsewhere (scheduler filters: spread, affinity, taints)"


def explain_cluster(cluster: k.Cluster, check: Callable[[k.Command], str] | None = None) -> DryRun:
    """The reconcile's command on a frozen cluster and every non-decision with its reason (pure).

    `check(command)` names a pod the full scheduler could not place elsewhere ("" if none): the
    engine's stricter test after Karpenter's simplified simulation (engine/karpenter_loop.py)."""
    result = k.reconcile(cluster)
    command, events = result.command, tuple(result.events)
    veto = check(command) if command is not None and check is not None else ""
    if command is not None and veto:
        events += (
            f"Unconsolidatable {command.method} {command.decision} of {', '.join(command.candidate_names)}: "
            + _UNPLACEABLE.format(pod=veto),
        )
        command = None
    rows: list[tuple[str, str, str, str, str, str]] = []
    pools = {n.name: n.nodepool or "" for n in cluster.nodes}
    for name, text in k.blocked_events(cluster):
        rows.append((name, pools[name], "all", "noop", "DisruptionBlocked", text))
    chosen = set(command.candidate_names) if command is not None else set()
    for method in cluster.options.method_order:
        if method == "static_drift":
            continue
        reason = METHOD_REASON[method]
        rejected: list[str] = []
        cands = get_candidates(cluster, method, rejected)
        for text in rejected:  # ShouldDisrupt rejections: "Unconsolidatable Node/<name>: <text>"
            kind, _, rest = text.partition(" Node/")
            name, _, message = rest.partition(": ")
            rows.append((name, pools.get(name, ""), method, "noop", kind, message))
        if not cands:
            continue
        budgets = k.budget_mapping(cluster, reason)
        for c in cands:
            pool = c.pool.name
            if command is not None and c.name in chosen and command.method == method:
                rows.append((c.name, pool, method, command.decision, f"Disrupting/{command.reason}", ""))
            elif budgets.mapping.get(pool, 0) <= 0:
                rows.append(
                    (c.name, pool, method, "noop", "DisruptionBlocked", _BUDGET_TEXT.format(reason=reason))
                )
            elif method == "single":
                rows.append(_single_row(cluster, c, check))
            elif method == "drift":
                rows.append((c.name, pool, method, "candidate", "Drifted", "waits for an earlier command"))
    for node in cluster.nodes:
        if node.managed and not any(r[0] == node.name for r in rows):
            rows.append(
                (node.name, pools[node.name], "all", "noop", "NotACandidate", _not_candidate(cluster, node))
            )
    why = pd.DataFrame(rows, columns=_COLUMNS).drop_duplicates(ignore_index=True)
    allowed = {r: dict(v) for r, v in result.allowed_disruptions.items()}
    return DryRun((cluster.now - EPOCH).total_seconds(), command, why, events, allowed)


def _single_row(
    cluster: k.Cluster, c: k.Candidate, check: Callable[[k.Command], str] | None
) -> tuple[str, str, str, str, str, str]:
    """Single-node consolidation of one candidate alone: its decision, or why not."""
    single = k.compute_consolidation(cluster, [c], "single")
    if single.decision == "noop":
        return (c.name, c.pool.name, "single", "noop", "Unconsolidatable", single.message)
    pod = check(single) if check is not None else ""
    if pod:
        return (c.name, c.pool.name, "single", "noop", "Unconsolidatable", _UNPLACEABLE.format(pod=pod))
    return (c.name, c.pool.name, "single", single.decision, "Candidate", "would consolidate on its own")


def _not_candidate(cluster: k.Cluster, node: k.Node) -> str:
    """Why a managed, disruptable node is no method's candidate (consolidateAfter, policy, drift)."""
    got = k.new_candidate(cluster, node, k.GRACEFUL)
    if got.candidate is None:
        return got.error or ""
    pool = got.candidate.pool
    if pool.consolidate_after is None:
        return f'NodePool "{pool.name}" has consolidation disabled'
    if not got.candidate.empty and pool.consolidation_policy == "WhenEmpty":
        return f'NodePool "{pool.name}" has non-empty consolidation disabled'
    return "not drifted, not empty, and no consolidation applies"


def dry_run(
    scenario_or_result: Scenario | LoadedScenario | RunResult | str | Path | None,
    at: float | str,
    seed: int | None = None,
) -> DryRun:
    """Simulate to `at` (seconds or "6h") on the result's or scenario's seed and explain the
    disruption reconcile Karpenter would run then. The scenario must use `node_provisioner: karpenter`."""
    if isinstance(scenario_or_result, RunResult):
        loaded = as_loaded(scenario_or_result.scenario)
        seed = scenario_or_result.seed if seed is None else seed
    else:
        loaded = as_loaded(scenario_or_result)
    sc = loaded.scenario
    if sc.cluster.node_provisioner != "karpenter":
        raise SimkitError(f"dry_run: scenario {sc.name!r} does not use cluster.node_provisioner: karpenter")
    at_s = parse_duration(at) if isinstance(at, str) else float(at)
    if not at_s > 0:
        raise SimkitError(f"dry_run: at must be positive, got {at!r}")
    seen: list[Engine] = []
    run_engine(sc, seed=seed, duration_s=at_s, base_dir=loaded.base_dir, progress=False, hook=seen.append)
    kp = karpenter_of(seen[0])
    if kp is None:
        raise SimkitError("dry_run: Karpenter did not start")
    return explain_cluster(kp.cluster(), kp.unplaceable)
