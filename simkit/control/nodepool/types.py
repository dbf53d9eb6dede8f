"""What the node-pool upgrade machines read (an observation of the pool) and decide (node actions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simkit.control.deployment.intstr import IntOrStr, scaled_value

# Outcomes, as result.plans will show them.
COMPLETE = "Complete"
POD_EVICTION_FAILURE = "PodEvictionFailure"
DRAIN_TIMEOUT = "DrainTimeout"
ABORTED = "Aborted"

# Phases.
SETUP, SCALE_UP, UPGRADE, SOAK, SCALE_DOWN, DONE, FAILED = (
    "Setup",
    "ScaleUp",
    "Upgrade",
    "Soak",
    "ScaleDown",
    "Done",
    "Failed",
)

# Action kinds the engine applies.
LAUNCH = "launch"  # a new (upgraded) node in `zone`; the engine adds it at once with Ready=False
CORDON = "cordon"
UNCORDON = "uncordon"
DRAIN = "drain"  # start a drain (control/drain.py) of `node`; the machine enforces `limit_s`
FORCE_DRAIN = "force_drain"  # delete the node's remaining pods without the eviction API
TERMINATE = "terminate"  # delete the node (its pods are gone or deleted with it)
REIMAGE = "reimage"  # AKS: the drained node comes back upgraded (Ready=False while it boots)
LABEL = "label"


@dataclass(frozen=True)
class PoolNode:
    """One node of the pool: upgraded (new image/version) or not, Ready, cordoned, pods left."""

    name: str
    zone: str
    upgraded: bool
    ready: bool = True
    unschedulable: bool = False
    pods: int = 0


@dataclass(frozen=True)
class DrainReport:
    """How the engine's drain of a node stands: done, or the last eviction 429 (names the PDB)."""

    done: bool = False
    blocked_by: str = ""
    pdb: str | None = None


@dataclass(frozen=True)
class PoolObservation:
    nodes: tuple[PoolNode, ...]
    drains: Mapping[str, DrainReport] = field(default_factory=dict)

    def node(self, name: str) -> PoolNode | None:
        return next((n for n in self.nodes if n.name == name), None)


@dataclass(frozen=True)
class NodeAction:
    kind: str
    node: str | None = None
    zone: str | None = None
    reason: str = ""
    message: str = ""
    limit_s: float | None = None


@dataclass(frozen=True)
class UpgradeState:
    """A machine's memory between steps; `settings` is the provider's settings dataclass."""

    settings: Any
    phase: str = SETUP
    started_at: float | None = None
    original: tuple[str, ...] = ()  # the old nodes at the start
    zones: tuple[str, ...] = ()
    size: int = 0  # node count before the upgrade
    surge: int = 0
    parallel: int = 0
    drain_started: Mapping[str, float] = field(default_factory=dict)
    drained_at: Mapping[str, float] = field(default_factory=dict)
    finished: frozenset[str] = frozenset()  # old nodes terminated, reimaged or given up on
    blocked: tuple[str, ...] = ()  # nodes that could not be drained (AKS)
    surplus: tuple[str, ...] = ()  # nodes being removed at the end
    phase_since: float | None = None
    outcome: str | None = None
    reason: str = ""
    message: str = ""


StepResult = tuple[tuple[NodeAction, ...], UpgradeState, str]


def finish(
    state: UpgradeState, actions: Sequence[NodeAction], outcome: str, reason: str, msg: str
) -> StepResult:
    """End the machine with an outcome; Complete is phase Done, anything else Failed."""
    phase = DONE if outcome == COMPLETE else FAILED
    new = replace(state, phase=phase, outcome=outcome, reason=reason, message=msg)
    return tuple(actions), new, reason


def old_nodes(obs: PoolObservation) -> list[PoolNode]:
    """The pool's nodes still on the old version, by name (the order every machine walks them)."""
    return sorted((n for n in obs.nodes if not n.upgraded), key=lambda n: n.name)


def begin(
    state: UpgradeState, old: Sequence[PoolNode], now: float, *, surge: int, parallel: int, phase: str
) -> UpgradeState:
    """Leave Setup: remember the old nodes, their zones and size, and the surge/parallelism chosen."""
    return replace(
        state,
        started_at=now,
        original=tuple(n.name for n in old),
        zones=tuple(sorted({n.zone for n in old})),
        size=len(old),
        surge=surge,
        parallel=parallel,
        phase=phase,
        phase_since=now,
    )


def count_of(value: IntOrStr, total: int, round_up: bool) -> int:
    """An int or "N%" of `total` nodes (kubernetes' IntOrString rules)."""
    return scaled_value(value, total, round_up)


def spread(count: int, zones: Sequence[str], start: int = 0) -> list[str]:
    """`count` zones round-robin (new nodes in the zones of the nodes they replace)."""
    zs = list(zones) or ["default"]
    return [zs[(start + i) % len(zs)] for i in range(count)]


def fewest_pods(nodes: Sequence[PoolNode], k: int) -> list[PoolNode]:
    """The k nodes with the fewest pods (ties: last name first), for removing surplus nodes."""
    return sorted(nodes, key=lambda n: (n.pods, [-ord(c) for c in n.name]))[:k]


def drain_progress(
    state: UpgradeState, obs: PoolObservation, now: float, limit_s: float | None
) -> tuple[list[str], list[str]]:
    """Nodes whose drain finished since the last step, and nodes past the per-node drain limit."""
    drained, overdue = [], []
    for name, t0 in sorted(state.drain_started.items()):
        if name in state.drained_at or name in state.finished:
            continue
        rep = obs.drains.get(name, DrainReport())
        node = obs.node(name)
        if rep.done or node is None:
            drained.append(name)
        elif limit_s is not None and now - t0 >= limit_s:
            overdue.append(name)
    return drained, overdue


def blocked_message(obs: PoolObservation, node: str) -> str:
    rep = obs.drains.get(node, DrainReport())
    pdb = f" (PDB {rep.pdb})" if rep.pdb else ""
    last = f": {rep.blocked_by}" if rep.blocked_by else ""
    return f"node {node}{pdb}{last}"
