"""Karpenter's disruption decisions as pure functions (kubernetes-sigs/karpenter v1, pinned commit
2266468104f36373ed002241afaee2d3bbc26078), mirroring `pkg/controllers/disruption`.

Frozen values in (`Cluster`, `NodePool`, `Node`, `Pod`, `PDB`, `InstanceType`, `Budget`), decisions
out with Karpenter's own reason and event text; `now` is passed in, nothing reads a clock.

Public API:
    budget_is_active / allowed_disruptions / allowed_disruptions_by_reason / must_allowed_disruptions
    budget_mapping(cluster, reason)           BuildDisruptionBudgetMapping
    eviction_cost / lifetime_remaining / score_move
    new_candidate / should_disrupt / consolidatable_condition
    compute_consolidation(cluster, candidates, method)
    reconcile(cluster) -> ReconcileResult     one disruption reconcile, methods in order
    start_command(cluster, command) -> Cluster

Modelled: budgets (int or percent rounded up, most restrictive wins, UTC cron windows, reasons, fail
closed on errors), candidate filtering (do-not-disrupt on nodes and pods, PDBs, terminationGrace-
Period for eventual methods, static pools), the Consolidatable condition, emptiness, drift,
multi-node (binary search over at most 100 budget-filtered candidates, filterOutSameInstanceType)
and single-node consolidation (strictly cheaper on the worst launch price, spot pinning,
spot-to-spot behind its gate with >= 15 cheaper types), over a simplified scheduling simulation.
Not modelled: see `scheduling` and `controller` module docstrings.
"""

from simkit.control.karpenter.budgets import (
    MAX_INT32,
    REASONS,
    Budget,
    BudgetResult,
    allowed_disruptions,
    allowed_disruptions_by_reason,
    budget_is_active,
    must_allowed_disruptions,
)
from simkit.control.karpenter.candidates import (
    EVENTUAL,
    GRACEFUL,
    BudgetMapping,
    Candidate,
    CandidateResult,
    ConsolidatableCondition,
    budget_mapping,
    consolidatable_condition,
    is_under_consolidate_after,
    new_candidate,
    reschedule_disruption_cost,
    should_disrupt,
)
from simkit.control.karpenter.consolidation import Command, Replacement, compute_consolidation
from simkit.control.karpenter.controller import (
    MethodResult,
    ReconcileResult,
    blocked_events,
    get_candidates,
    reconcile,
    run_method,
    start_command,
)
from simkit.control.karpenter.cost import (
    MoveScore,
    eviction_cost,
    lifetime_remaining,
    rescheduling_cost,
    score_move,
)
from simkit.control.karpenter.cron import CronError, parse_standard
from simkit.control.karpenter.drift import (
    NODEPOOL_DRIFTED,
    REQUIREMENTS_DRIFTED,
    drift_reason,
    expires_at,
    is_expired,
    template_hash,
)
from simkit.control.karpenter.types import (
    PDB,
    PRODUCTION_METHOD_ORDER,
    TEST_METHOD_ORDER,
    Cluster,
    InstanceType,
    Node,
    NodePool,
    Offering,
    Options,
    Pod,
    Requirement,
    milli,
)

__all__ = [
    "MAX_INT32",
    "REASONS",
    "Budget",
    "BudgetResult",
    "allowed_disruptions",
    "allowed_disruptions_by_reason",
    "budget_is_active",
    "must_allowed_disruptions",
    "EVENTUAL",
    "GRACEFUL",
    "BudgetMapping",
    "Candidate",
    "CandidateResult",
    "ConsolidatableCondition",
    "budget_mapping",
    "consolidatable_condition",
    "is_under_consolidate_after",
    "new_candidate",
    "reschedule_disruption_cost",
    "should_disrupt",
    "Command",
    "Replacement",
    "compute_consolidation",
    "MethodResult",
    "ReconcileResult",
    "blocked_events",
    "get_candidates",
    "reconcile",
    "run_method",
    "start_command",
    "MoveScore",
    "eviction_cost",
    "lifetime_remaining",
    "rescheduling_cost",
    "score_move",
    "CronError",
    "parse_standard",
    "NODEPOOL_DRIFTED",
    "REQUIREMENTS_DRIFTED",
    "drift_reason",
    "expires_at",
    "is_expired",
    "template_hash",
    "PDB",
    "PRODUCTION_METHOD_ORDER",
    "TEST_METHOD_ORDER",
    "Cluster",
    "InstanceType",
    "Node",
    "NodePool",
    "Offering",
    "Options",
    "Pod",
    "Requirement",
    "milli",
]
