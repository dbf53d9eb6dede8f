"""One consolidation decision: delete the candidates, replace them with one cheaper node, or nothing.

Follows pkg/controllers/disruption/consolidation.go of kubernetes-sigs/karpenter at
2266468104f36373ed002241afaee2d3bbc26078 (`computeConsolidation`, `computeSpotToSpotConsolidation`,
`filterByPrice`, `getCandidatePrices`) and multinodeconsolidation.go (`filterOutSameInstanceType`).
Every no-op carries Karpenter's `Unconsolidatable` text; events are published for single-candidate
decisions only, as upstream does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.karpenter.candidates import Candidate
from simkit.control.karpenter.requirements import (
    ValueSet,
    cheapest_price,
    compatible_offerings,
    min_values_prefix,
    worst_launch_price,
)
from simkit.control.karpenter.scheduling import NewNodeClaim, simulate_scheduling
from simkit.control.karpenter.types import CAPACITY_TYPE_LABEL, ON_DEMAND, SPOT, Cluster, InstanceType

__all__ = [
    "MIN_INSTANCE_TYPES_FOR_SPOT_TO_SPOT",
    "Replacement",
    "Command",
    "compute_consolidation",
    "filter_out_same_instance_type",
]

MIN_INSTANCE_TYPES_FOR_SPOT_TO_SPOT = 15
CANT_REPLACE_CHEAPER = "Can't replace with a cheaper node"
SPOT_TO_SPOT_DISABLED = "SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node"


@dataclass(frozen=True)
class Replacement:
    """A NodeClaim to launch: its pool, requirements and the instance types it may become."""

    nodepool: str
    options: tuple[InstanceType, ...]
    requirements: Mapping[str, ValueSet] = field(default_factory=dict)

    @property
    def instance_types(self) -> tuple[str, ...]:
        return tuple(it.name for it in self.options)

    @property
    def capacity_type(self) -> str | None:
        """The capacity type the launch is pinned to, if exactly one."""
        ct = self.requirements.get(CAPACITY_TYPE_LABEL)
        if ct is not None and not ct.complement and len(ct.values) == 1:
            return next(iter(ct.values))
        return None


@dataclass(frozen=True)
class Command:
    """A disruption decision (`disruption.Command`): delete | replace | noop, with the reason text."""

    method: str  # emptiness | drift | multi | single
    decision: str  # delete | replace | noop
    reason: str  # Empty | Underutilized | Drifted
    candidates: tuple[Candidate, ...] = ()
    replacements: tuple[Replacement, ...] = ()
    message: str = ""  # why nothing was done (Karpenter's Unconsolidatable text), if so

    @property
    def consolidation_type(self) -> str:
        return {"emptiness": "empty", "multi": "multi", "single": "single"}.get(self.method, "")

    @property
    def candidate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.candidates)


def _noop(method: str, message: str) -> Command:
    return Command(method, "noop", "Underutilized", message=message)


def _replacement(
    claim: NewNodeClaim, reqs: dict[str, ValueSet], options: Sequence[InstanceType]
) -> Replacement:
    return Replacement(claim.nodepool, tuple(options), dict(reqs))


def _filter_by_price(
    options: Sequence[InstanceType], reqs: dict[str, ValueSet], price: float
) -> tuple[list[InstanceType], str | None]:
    """`filterByPrice`: keep options whose worst launch price is strictly below `price`; minValues
    must still hold on what is left."""
    kept = [it for it in options if worst_launch_price(it, reqs) < price]
    _, unmet = min_values_prefix(reqs, kept)
    if unmet:
        return kept, f"minValues requirement is not met for label(s) (label(s)=[{' '.join(unmet)}])"
    return kept, None


def compute_consolidation(cluster: Cluster, cands: Sequence[Candidate], method: str) -> Command:
    """`computeConsolidation`: simulate the candidates away and decide delete, replace or noop."""
    cands = tuple(cands)
    result = simulate_scheduling(cluster, cands, enforce_consolidate_after=True)
    if not result.all_non_pending_scheduled():
        return _noop(method, result.non_pending_errors_sentence())
    if not result.new_claims:
        return Command(method, "delete", "Underutilized", cands)
    if len(result.new_claims) > 1:
        return _noop(method, f"Can't remove without creating {len(result.new_claims)} candidates")
    claim = result.new_claims[0]
    reqs = dict(claim.requirements)
    price = sum(c.price for c in cands)
    options = sorted(claim.options, key=lambda it: cheapest_price(it, reqs))
    ct = reqs.get(CAPACITY_TYPE_LABEL)
    if all(c.node.capacity_type == SPOT for c in cands) and (ct is None or ct.allows(SPOT)):
        return _spot_to_spot(cluster, cands, method, claim, reqs, options, price)
    kept, error = _filter_by_price(options, reqs, price)
    if error is not None:
        return _noop(method, f"Filtering by price: {error}")
    if not kept:
        return _noop(method, CANT_REPLACE_CHEAPER)
    if ct is None or (ct.allows(SPOT) and ct.allows(ON_DEMAND)):
        reqs[CAPACITY_TYPE_LABEL] = (ct or ValueSet(frozenset(), True)).intersect(ValueSet(frozenset({SPOT})))
    return Command(method, "replace", "Underutilized", cands, (_replacement(claim, reqs, kept),))


def _spot_to_spot(
    cluster: Cluster,
    cands: tuple[Candidate, ...],
    method: str,
    claim: NewNodeClaim,
    reqs: dict[str, ValueSet],
    options: list[InstanceType],
    price: float,
) -> Command:
    """`computeSpotToSpotConsolidation`: behind its feature gate; a single candidate needs at least 15
    cheaper spot options and launches with the 15 cheapest (or the minValues prefix, if longer)."""
    if not cluster.options.spot_to_spot_consolidation:
        return _noop(method, SPOT_TO_SPOT_DISABLED)
    spot = ValueSet(frozenset({SPOT}))
    reqs[CAPACITY_TYPE_LABEL] = (
        reqs[CAPACITY_TYPE_LABEL].intersect(spot) if CAPACITY_TYPE_LABEL in reqs else spot
    )
    options = [it for it in options if compatible_offerings(it, reqs)]
    kept, error = _filter_by_price(options, reqs, price)
    if error is not None:
        return _noop(method, f"Filtering by price: {error}")
    if not kept:
        return _noop(method, CANT_REPLACE_CHEAPER)
    if len(cands) > 1:
        return Command(method, "replace", "Underutilized", cands, (_replacement(claim, reqs, kept),))
    if len(kept) < MIN_INSTANCE_TYPES_FOR_SPOT_TO_SPOT:
        return _noop(
            method,
            f"SpotToSpotConsolidation requires {MIN_INSTANCE_TYPES_FOR_SPOT_TO_SPOT} cheaper instance type "
            f"options than the current candidate to consolidate, got {len(kept)}",
        )
    keep = MIN_INSTANCE_TYPES_FOR_SPOT_TO_SPOT
    if any(vs.min_values is not None for vs in reqs.values()):
        needed, _ = min_values_prefix(reqs, kept)
        keep = max(keep, needed)
    return Command(method, "replace", "Underutilized", cands, (_replacement(claim, reqs, kept[:keep]),))


def filter_out_same_instance_type(cluster: Cluster, cmd: Command) -> Command:
    """`filterOutSameInstanceType`: a multi-node replacement must be cheaper than the cheapest
    candidate of any type it could become again (prices from the candidates' own offerings,
    available or not); otherwise the merge is pointless and the command becomes a noop."""
    if cmd.decision != "replace":
        return cmd
    own: dict[str, float] = {}
    for c in cmd.candidates:
        if c.instance_type is None:
            continue
        for o in c.instance_type.offerings:
            if o.zone == c.node.zone and o.capacity_type == c.node.capacity_type:
                own[c.instance_type.name] = min(own.get(c.instance_type.name, o.price), o.price)
    rep = cmd.replacements[0]
    options = list(rep.options)
    max_price = min((own[it.name] for it in options if it.name in own), default=float("inf"))
    reqs = dict(rep.requirements)
    kept, error = _filter_by_price(options, reqs, max_price)
    if error is not None or not kept:
        return _noop(cmd.method, error or CANT_REPLACE_CHEAPER)
    return replace(cmd, replacements=(replace(rep, options=tuple(kept)),))
