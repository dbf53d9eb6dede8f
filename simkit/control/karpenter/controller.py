"""The disruption controller's reconcile: methods in order, the first that finds a command wins.

Follows pkg/controllers/disruption of kubernetes-sigs/karpenter at
2266468104f36373ed002241afaee2d3bbc26078: controller.go (`Reconcile`, `disrupt`), emptiness.go,
drift.go, multinodeconsolidation.go (`firstNConsolidationOption`) and
singlenodeconsolidation.go (`ComputeCommands`, `shuffleCandidates`), with helpers.go
(`GetCandidates`, `BuildDisruptionBudgetMapping`) and sorting by savings ratio
(price / RescheduleDisruptionCost, descending).

Not modelled: StaticDrift, the 15 s command validation (the test suite's no-op validator is what
the vectors use), method timeouts, the orchestration queue's launch/drain steps, Balanced scoring
inside the methods (see `cost.score_move`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.karpenter.candidates import (
    EVENTUAL,
    GRACEFUL,
    Candidate,
    budget_mapping,
    consolidation_event,
    new_candidate,
    should_disrupt,
)
from simkit.control.karpenter.consolidation import (
    Command,
    Replacement,
    compute_consolidation,
    filter_out_same_instance_type,
)
from simkit.control.karpenter.scheduling import NewNodeClaim, simulate_scheduling
from simkit.control.karpenter.types import Cluster

__all__ = [
    "METHOD_REASON",
    "blocked_events",
    "MULTI_NODE_MAX_CANDIDATES",
    "MethodResult",
    "ReconcileResult",
    "get_candidates",
    "run_method",
    "reconcile",
    "start_command",
]

METHOD_REASON = {
    "emptiness": "Empty",
    "drift": "Drifted",
    "static_drift": "Drifted",
    "multi": "Underutilized",
    "single": "Underutilized",
}
MULTI_NODE_MAX_CANDIDATES = 100  # lo.Clamp(len(candidates), 0, 100) in multinodeconsolidation.go


@dataclass(frozen=True)
class MethodResult:
    """What one method computed: commands, the Unconsolidatable events, and whether it would mark the
    cluster consolidated (never when a candidate was held back only by a budget)."""

    commands: tuple[Command, ...] = ()
    events: tuple[str, ...] = ()
    marked_consolidated: bool = False


@dataclass(frozen=True)
class ReconcileResult:
    """One reconcile: the command started (if any), events, and the gauges Karpenter would set."""

    command: Command | None
    events: tuple[str, ...] = ()
    eligible_nodes: Mapping[str, int] = field(default_factory=dict)
    allowed_disruptions: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    nodes_consuming_budgets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def _savings_ratio(c: Candidate) -> float:
    return c.price / c.disruption_cost


def get_candidates(cluster: Cluster, method: str, events: list[str] | None = None) -> list[Candidate]:
    """`GetCandidates`: `NewCandidate` for the method's disruption class, then its `ShouldDisrupt`;
    consolidation's rejections are appended to `events` as Karpenter publishes them."""
    klass = EVENTUAL if method in ("drift", "static_drift") else GRACEFUL
    out = []
    for node in cluster.nodes:
        got = new_candidate(cluster, node, klass)
        if got.candidate is None:
            continue
        if should_disrupt(cluster, got.candidate, method):
            out.append(got.candidate)
        elif events is not None:
            text = consolidation_event(cluster, got.candidate, method)
            if text is not None:
                events.append(_event(got.candidate, text))
    return out


def blocked_events(cluster: Cluster) -> list[tuple[str, str]]:
    """(node, text) of every `DisruptionBlocked` event `NewCandidate` publishes (disruption/types.go:
    `pretty.Sentence(err.Error())` for Karpenter-managed nodes; a node already in the orchestration
    queue is skipped silently). Separate from `reconcile` so its events stay the vectors'."""
    out = []
    for node in cluster.nodes:
        if not node.managed or node.in_queue:
            continue
        got = new_candidate(cluster, node, GRACEFUL)
        if got.candidate is None and got.error:
            out.append((node.name, got.error[:1].upper() + got.error[1:]))
    return out


def _event(c: Candidate, message: str, kind: str = "Unconsolidatable") -> str:
    """An event as `<reason> Node/<name>: <message>` (Karpenter publishes it on the Node and NodeClaim)."""
    return f"{kind} Node/{c.name}: {message}"


def _emptiness(cands: Sequence[Candidate], mapping: dict[str, int]) -> MethodResult:
    """emptiness.go: every empty candidate the budgets allow, in one delete command."""
    taken: list[Candidate] = []
    constrained = False
    for c in sorted(cands, key=_savings_ratio, reverse=True):
        if not c.empty:
            continue
        if mapping.get(c.pool.name, 0) <= 0:
            constrained = True
            continue
        taken.append(c)
        mapping[c.pool.name] -= 1
    if not taken:
        return MethodResult(marked_consolidated=not constrained)
    return MethodResult((Command("emptiness", "delete", "Empty", tuple(taken)),))


def _drift(cluster: Cluster, cands: Sequence[Candidate], mapping: dict[str, int]) -> MethodResult:
    """drift.go: oldest drift first, nodes without reschedulable pods before the others; one candidate
    per command (so the budget is only checked), replacements without a price check."""
    ordered = sorted(cands, key=lambda c: (bool(c.reschedulable), c.node.drifted_at or cluster.now))
    events: list[str] = []
    for c in ordered:
        if mapping.get(c.pool.name, 0) <= 0:
            continue
        result = simulate_scheduling(cluster, [c], enforce_consolidate_after=False)
        if not result.all_non_pending_scheduled():
            events.append(_event(c, result.non_pending_errors_sentence(), "DisruptionBlocked"))
            continue
        reps = tuple(_claim_replacement(claim) for claim in result.new_claims)
        decision = "replace" if reps else "delete"
        return MethodResult((Command("drift", decision, "Drifted", (c,), reps),), tuple(events))
    return MethodResult(events=tuple(events))


def _claim_replacement(claim: NewNodeClaim) -> Replacement:
    return Replacement(claim.nodepool, tuple(claim.options), dict(claim.requirements))


def _multi(cluster: Cluster, cands: Sequence[Candidate], mapping: dict[str, int]) -> MethodResult:
    """multinodeconsolidation.go: budget-filter in savings order, then binary-search the longest prefix
    that consolidates (delete, or replace surviving `filterOutSameInstanceType`)."""
    usable: list[Candidate] = []
    constrained = False
    for c in sorted(cands, key=_savings_ratio, reverse=True):
        if mapping.get(c.pool.name, 0) <= 0:
            constrained = True
            continue
        usable.append(c)
        mapping[c.pool.name] -= 1
    best: Command | None = None
    if len(usable) >= 2:
        lo, hi = (
            1,
            (len(usable) - 1 if len(usable) <= MULTI_NODE_MAX_CANDIDATES else MULTI_NODE_MAX_CANDIDATES),
        )
        while lo <= hi:
            mid = (lo + hi) // 2
            cmd = filter_out_same_instance_type(
                cluster, compute_consolidation(cluster, usable[: mid + 1], "multi")
            )
            if cmd.decision != "noop":
                best, lo = cmd, mid + 1
            else:
                hi = mid - 1
    if best is None:
        return MethodResult(marked_consolidated=not constrained)
    return MethodResult((best,))


def _single(cluster: Cluster, cands: Sequence[Candidate], mapping: Mapping[str, int]) -> MethodResult:
    """singlenodeconsolidation.go: savings order interleaved across NodePools; the first candidate
    that consolidates wins. Budgets are checked, not decremented."""
    by_pool: dict[str, list[Candidate]] = {}
    for c in sorted(cands, key=_savings_ratio, reverse=True):
        by_pool.setdefault(c.pool.name, []).append(c)
    order = [
        group[i]
        for i in range(max(map(len, by_pool.values()), default=0))
        for group in by_pool.values()
        if i < len(group)
    ]
    events: list[str] = []
    constrained = False
    for c in order:
        if mapping.get(c.pool.name, 0) <= 0:
            constrained = True
            continue
        cmd = compute_consolidation(cluster, [c], "single")
        if cmd.decision != "noop":
            return MethodResult((cmd,), tuple(events))
        events.append(_event(c, cmd.message))
    return MethodResult(events=tuple(events), marked_consolidated=not constrained)


def run_method(
    cluster: Cluster, method: str, cands: Sequence[Candidate], mapping: Mapping[str, int]
) -> MethodResult:
    """One method's `ComputeCommands` over its candidates and the budget mapping for its reason."""
    left = dict(mapping)
    if method == "emptiness":
        return _emptiness(cands, left)
    if method == "drift":
        return _drift(cluster, cands, left)
    if method == "multi":
        return _multi(cluster, cands, left)
    if method == "single":
        return _single(cluster, cands, left)
    return MethodResult()  # static_drift is not modelled


def reconcile(cluster: Cluster) -> ReconcileResult:
    """One disruption reconcile: try the methods in `cluster.options.method_order`; the first command wins."""
    events: list[str] = []
    eligible: dict[str, int] = {}
    allowed: dict[str, dict[str, int]] = {}
    consuming: dict[str, dict[str, int]] = {}
    for method in cluster.options.method_order:
        if method == "static_drift":
            continue
        reason = METHOD_REASON[method]
        cands = get_candidates(cluster, method, events)
        eligible[reason] = len(cands)
        if not cands:
            continue
        budgets = budget_mapping(cluster, reason)
        allowed[reason] = dict(budgets.allowed_metric)
        consuming[reason] = dict(budgets.consuming_metric)
        result = run_method(cluster, method, cands, budgets.mapping)
        events.extend(result.events)
        if result.commands:
            return ReconcileResult(result.commands[0], _unique(events), eligible, allowed, consuming)
    return ReconcileResult(None, _unique(events), eligible, allowed, consuming)


def _unique(events: Sequence[str]) -> tuple[str, ...]:
    """Events in order, each once (multi- and single-node both publish ShouldDisrupt's rejections)."""
    return tuple(dict.fromkeys(events))


def start_command(cluster: Cluster, cmd: Command) -> Cluster:
    """The cluster after a command starts: its candidates are queued and marked for deletion."""
    names = set(cmd.candidate_names)
    nodes = tuple(
        replace(n, marked_for_deletion=True, in_queue=True) if n.name in names else n for n in cluster.nodes
    )
    return replace(cluster, nodes=nodes)
