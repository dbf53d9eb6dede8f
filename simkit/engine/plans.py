"""Deployment plans in the engine: at a plan's start, a new revision; then its controller until it ends.

One runner per plan kind (`RUNNERS`): `rollout` drives the pure Deployment controller
(`control/deployment.sync`), `statefulset-update` the pure StatefulSet update step
(`control/statefulset.update_step`). A runner is a thin loop — observe the ReplicaSets' (or the
pods') replicas, ready and available from the cluster, call the controller, apply its scale actions
through the cluster's ReplicaSet reconcile (`Engine.rs_replicas` + `Engine.reconcile`), record —
that wakes when a pod of its workload changes readiness or terminates or the HPA changes replicas
(`Engine.watch`), after the plan's `controller_latency`, and at the controller's `requeue_after`
(the progress deadline) or the next `minReadySeconds` availability. A `node-pool-upgrade` or `drain`
plan is one more entry in `RUNNERS` with the same `PlanRecord` bookkeeping.

Pods carry their ReplicaSet's template hash (`Pod.revision`). The HPA keeps scaling the
Deployment (`Engine.desired`): mid-rollout that is a scaling event the controller spreads
proportionally; the cluster autoscaler sees surge pods pending like any other; faults keep running.

The new version's serving: the traffic model (engine/traffic.py) takes one server count per
workload, so a version that serves differently is modelled by capacity: a ready pod of version v
counts as `capacity_weight[v]` = its throughput (servers per pod / service time) over the current
version's (`Engine.serving_capacity`). Its latency is then the old version's service time on fewer
equivalent servers (queueing, not the longer service itself), and its `error_rate` counts in the
plan's `errors` by its share of ready capacity (not in the run's availability). What traffic.py
would need for the real thing: per-version server groups per workload (count, service time, cv,
concurrency, error rate), split by ready share as the Service load-balances.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simkit.catalog.provisioning import provision_time_distribution
from simkit.control.deployment import Deployment, ReplicaSet, SyncResult, max_surge, sync
from simkit.control.deployment.sync import COMPLETE, DEADLINE_EXCEEDED
from simkit.control.deployment.types import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    Condition,
    DeploymentStatus,
    evolve,
)
from simkit.control.disruption import LabelSelector, OwnerReference, PodDisruptionBudget, pdb_status
from simkit.control.disruption import Pod as K8sPod
from simkit.control.disruption import Workload as K8sWorkload
from simkit.control.drain import DONE as DRAIN_DONE
from simkit.control.drain import DRAIN_TIMEOUT as DRAIN_TIMEOUT_REASON
from simkit.control.drain import DRAINED, DrainAction, DrainOptions, DrainState, NodePod, drain_step
from simkit.control.drain import FAILED as DRAIN_FAILED
from simkit.control.nodepool.defaults import POLL_S
from simkit.control.nodepool.types import (
    CORDON,
    DRAIN,
    FORCE_DRAIN,
    LABEL,
    LAUNCH,
    REIMAGE,
    TERMINATE,
    UNCORDON,
)
from simkit.control.nodepool_upgrade import (
    ABORTED,
    DRAIN_TIMEOUT,
    AKSSettings,
    DrainReport,
    EKSSettings,
    GKESettings,
    NodeAction,
    PoolNode,
    PoolObservation,
    StepResult,
    UpgradeState,
    aks_start,
    aks_step,
    eks_start,
    eks_step,
    gke_start,
    gke_step,
)
from simkit.control.progressive.analysis import FAILED as ANALYSIS_FAILED
from simkit.control.progressive.analysis import (
    RUNNING,
    AnalysisRun,
    Thresholds,
    canary_p95_s,
    measure,
    split_p95_s,
)
from simkit.control.progressive.argo import COMPLETE as ARGO_COMPLETE
from simkit.control.progressive.argo import DEADLINE_EXCEEDED as ARGO_DEADLINE
from simkit.control.progressive.argo import PAUSED_INDEFINITELY as ARGO_PAUSED_INDEFINITELY
from simkit.control.progressive.argo import PREVIEW as BG_PREVIEW
from simkit.control.progressive.argo import SCALING as ARGO_SCALING
from simkit.control.progressive.argo import (
    BlueGreenSpec,
    BlueGreenState,
    CanarySpec,
    CanaryState,
    CanaryStep,
    Observation,
    Side,
    blue_green_sync,
    canary_sync,
)
from simkit.control.progressive.argo_counts import SetCanaryScale
from simkit.control.progressive.flagger import FAILED as FLAGGER_FAILED
from simkit.control.progressive.flagger import SUCCEEDED as FLAGGER_SUCCEEDED
from simkit.control.progressive.flagger import (
    FlaggerObservation,
    FlaggerSpec,
    FlaggerState,
    analysis_runs,
    flagger_tick,
    primary_rolling_counts,
)
from simkit.control.statefulset import StatefulPod, StatefulSetSpec, update_step
from simkit.engine.cluster import REVISION_LABEL, WARM_START_S, Engine
from simkit.engine.state import Node, Pod, PodPhase
from simkit.engine.traffic import servers_per_pod
from simkit.scenario.model import NodePool, Serving, Startup, TaskQueue, Workload
from simkit.scenario.plans import Plan

__all__ = ["RUNNERS", "PlanRecord", "start_plans"]

UNFINISHED = "Unfinished"  # the run ended first
NOT_STARTED = "NotStarted"  # it would start after the run ends (a shorter --duration)


@dataclass
class PlanRecord:
    """What a runner records about one plan; `EngineOutput.plan_rows` holds one per plan."""

    plan: Plan
    start_s: float
    end_s: float | None = None
    outcome: str = UNFINISHED
    peak_pods: int = 0
    min_available: int = 10**9
    prices: dict[str, float] = field(default_factory=dict)  # pool -> USD per node-hour
    new_share: list[tuple[float, float]] = field(default_factory=list)  # (t, new version's share of capacity)
    steps: list[list[Any]] = field(default_factory=list)  # see `_Steps` (`_NodeSteps` for node plans)
    min_nodes_available: int = 10**9  # node plans: fewest Ready schedulable nodes of the target
    message: str = ""  # how it ended, when the controller says (a node upgrade's failure)
    split: list[tuple[float, float, float, float]] = field(default_factory=list)  # progressive plans:
    # (t, canary's traffic share, stable ready pods, canary ready pods), see `_record_split`
    split_model: Any = None  # progressive plans: a `SplitModel`

    def finish(self, now: float, outcome: str) -> None:
        if self.end_s is None:
            self.end_s, self.outcome = now, outcome


Runner = Callable[[Engine, Plan, PlanRecord, str], Generator[Any, Any, None]]


def start_plans(engine: Engine) -> None:
    """Start each plan's runner at its start time (`peak`: the tick of the run's highest load)."""
    plans = engine.scenario.plans
    if not plans:
        return
    peak = float(engine.traffic.t_s[int(engine.traffic.load_rps.argmax())])
    prices = {p.name: engine.pool_shape(p).usd_hour for p in engine.scenario.cluster.node_pools}
    for i, plan in enumerate(plans):
        start = peak if plan.start_s is None else plan.start_s
        record = PlanRecord(plan, start, prices=prices)
        engine.out.plan_rows.append(record)
        if start >= engine.duration_s:
            record.finish(engine.duration_s, NOT_STARTED)
            continue
        engine.env.process(_delayed(engine, RUNNERS[plan.kind], plan, record, f"p{i + 1}", start))


def _delayed(engine: Engine, runner: Runner, plan: Plan, record: PlanRecord, rev: str, at: float) -> Any:
    yield engine.env.timeout(at)
    engine.event("Plan", plan.name, "PlanStarted", f"{plan.kind} of {plan.target}")
    yield from runner(engine, plan, record, rev)
    engine.event("Plan", plan.name, record.outcome, f"{plan.kind} of {plan.target}")


# ------------------------------------------------------------------------------- new version
def new_version(workload: Workload, plan: Plan) -> Workload:
    """The workload as the plan's new version runs it (its `serving`, `startup`, `readinessProbe`)."""
    serving = plan.serving.model_dump(exclude={"error_rate"}, exclude_none=True)
    startup = plan.startup.model_dump(exclude_none=True)
    if not serving and not startup and plan.readinessProbe is None:
        return workload  # the same template under a new revision (a copy would equal it)
    update: dict[str, Any] = {
        "serving": Serving(**{**workload.serving.model_dump(), **serving}),
        "startup": Startup(**{**workload.startup.model_dump(), **startup}),
    }
    if plan.readinessProbe is not None:
        update["readinessProbe"] = plan.readinessProbe
        update["startupProbe"] = None
    return workload.model_copy(update=update)


def capacity_weight(old: Workload, new: Workload) -> float:
    """A new pod's throughput over an old one's: servers per pod / service time."""
    rate = servers_per_pod(new, new.serving.service_time) / new.serving.service_time
    return rate / (servers_per_pod(old, old.serving.service_time) / old.serving.service_time)


def _install(engine: Engine, plan: Plan, rev: str) -> tuple[str, Workload]:
    """Register the new revision's template; returns the current revision and the new version."""
    target = plan.target
    current = engine.revision.get(target, "")
    old = engine.template(target, current)
    new = new_version(old, plan)
    engine.templates.setdefault(target, {})[rev] = new
    if plan.never_ready:
        engine.never_ready.add((target, rev))
    weight = capacity_weight(engine.workloads[target], new)
    if weight != 1.0 or engine.capacity_weight.get(target):
        engine.capacity_weight.setdefault(target, {})[rev] = weight
    return current, new


# ---------------------------------------------------------------------------------- observing
def _active(pods: list[Pod]) -> list[Pod]:
    return [p for p in pods if p.phase not in (PodPhase.TERMINATING, PodPhase.GONE)]


def _available(pod: Pod, now: float, min_ready_s: float) -> bool:
    return pod.phase is PodPhase.READY and pod.ready_s is not None and pod.ready_s + min_ready_s <= now


def _observe(engine: Engine, record: PlanRecord, new_rev: str, min_ready_s: float) -> list[Pod]:
    """The workload's active pods; updates the plan's peak pods, min available and new-version share."""
    return _observe_available(engine, record, new_rev, min_ready_s)[0]


def _observe_available(
    engine: Engine, record: PlanRecord, new_rev: str, min_ready_s: float
) -> tuple[list[Pod], int]:
    """`_observe`, and how many of the pods are available."""
    now = engine.env.now
    pods = _active(engine.state.pods_of(record.plan.target))
    record.peak_pods = max(record.peak_pods, len(pods))
    ready = [p for p in pods if p.phase is PodPhase.READY]  # available: `_available` of each
    available = sum(1 for p in ready if p.ready_s is not None and p.ready_s + min_ready_s <= now)
    record.min_available = min(record.min_available, available)
    weights = engine.capacity_weight.get(record.plan.target)
    if weights:
        total = sum(weights.get(p.revision, 1.0) for p in ready)
        new = sum(weights.get(p.revision, 1.0) for p in ready if p.revision == new_rev)
    else:  # every weight 1.0: the sums are the counts, exactly
        total, new = float(len(ready)), float(sum(1 for p in ready if p.revision == new_rev))
    share = new / total if total else 0.0
    if not record.new_share or record.new_share[-1][1] != share:
        record.new_share.append((now, share))
    return pods, available


def _blocker(engine: Engine, pods: list[Pod], new_rev: str, need: int, now: float, min_ready_s: float) -> str:
    """Why the plan waits: a pending pod's scheduler message, or the pods still to become available."""
    for pod in pods:
        if pod.phase is PodPhase.PENDING and pod.last_unschedulable_msg:
            return f"pending: {pod.last_unschedulable_msg}"
    new = [p for p in pods if p.revision == new_rev]
    missing = max(0, need - sum(1 for p in new if _available(p, now, min_ready_s)))
    if missing:
        return f"waiting for {missing} available"
    return "waiting for old pods to terminate"


def _next_available(pods: list[Pod], now: float, min_ready_s: float) -> float | None:
    """When the next ready pod becomes available (minReadySeconds after Ready)."""
    times = [
        p.ready_s + min_ready_s
        for p in pods
        if p.phase is PodPhase.READY and p.ready_s is not None and p.ready_s + min_ready_s > now
    ]
    return min(times) - now if times else None


class _Steps:
    """The plan's steps: one per scale action, open until the next, with why it waited."""

    def __init__(self, record: PlanRecord) -> None:
        self.record = record

    def open(
        self, now: float, rs: str, before: int, after: int, reason: str, desired: int, pods: int, avail: int
    ) -> None:
        self.close(now)
        self.record.steps.append([now, None, rs, before, after, reason, desired, pods, avail, ""])

    def wait(self, why: str) -> None:
        if self.record.steps and self.record.steps[-1][1] is None:
            self.record.steps[-1][9] = why

    def close(self, now: float) -> None:
        if self.record.steps and self.record.steps[-1][1] is None:
            self.record.steps[-1][1] = now


def _wait(engine: Engine, target: str, latency: float, requeue: float | None) -> Any:
    """Sleep until the workload's next pod or replicas change (plus the controller latency), or `requeue`."""
    watch = engine.watch(target)
    if requeue is None:
        yield watch
    else:
        yield watch | engine.env.timeout(max(requeue, 0.0))
    if watch.triggered and latency > 0:
        yield engine.env.timeout(latency)


# ------------------------------------------------------------------------------------ rollout
def _deployment(engine: Engine, plan: Plan, new_rev: str) -> Deployment:
    strategy = plan.strategy
    rolling = strategy.rollingUpdate if strategy is not None else None
    replicas = engine.desired[plan.target]
    d = Deployment(
        name=plan.target,
        replicas=replicas,
        strategy=strategy.type if strategy is not None else "RollingUpdate",
        max_surge=rolling.maxSurge if rolling is not None and rolling.maxSurge is not None else "25%",
        max_unavailable=(
            rolling.maxUnavailable if rolling is not None and rolling.maxUnavailable is not None else "25%"
        ),
        generation=2,
        progress_deadline_seconds=plan.progressDeadlineSeconds,
        revision_history_limit=plan.revisionHistoryLimit,
        min_ready_seconds=plan.minReadySeconds,
        template_hash=new_rev,
    )
    done = (
        Condition("Available", "True", "MinimumReplicasAvailable", "", -WARM_START_S, -WARM_START_S),
        Condition("Progressing", "True", "NewReplicaSetAvailable", "", -WARM_START_S, -WARM_START_S),
    )
    return evolve(d, status=DeploymentStatus(replicas, replicas, replicas, replicas, 0, 1, done))


def _replica_sets(
    engine: Engine,
    d: Deployment,
    current: str,
    rss: list[ReplicaSet],
    min_ready_s: float,
    pods: list[Pod] | None = None,
) -> list[ReplicaSet]:
    """The ReplicaSets with the status the ReplicaSet controller reports from the pods now
    (`pods`: the workload's active pods now, if the caller has them)."""
    now = engine.env.now
    if pods is None:
        pods = _active(engine.state.pods_of(d.name))
    if not rss:  # the current revision's RS, complete
        n = engine.desired[d.name]
        rss = [
            ReplicaSet(
                name=f"{d.name}-{current or 'r0'}",
                replicas=n,
                created=-WARM_START_S,
                template_hash=current,
                generation=1,
                annotations={
                    REVISION_ANNOTATION: "1",
                    DESIRED_REPLICAS_ANNOTATION: str(n),
                    MAX_REPLICAS_ANNOTATION: str(n + max_surge(d)),
                },
            )
        ]
    out = []
    for rs in rss:
        mine = ready = available = 0  # its pods, Ready ones, and available ones (`_available`)
        for p in pods:
            if p.revision == rs.template_hash:
                mine += 1
                if p.phase is PodPhase.READY:
                    ready += 1
                    available += p.ready_s is not None and p.ready_s + min_ready_s <= now
        status = (mine, ready, available, rs.generation)
        if status != (rs.status_replicas, rs.ready_replicas, rs.available_replicas, rs.observed_generation):
            rs = evolve(
                rs,
                status_replicas=status[0],
                ready_replicas=status[1],
                available_replicas=status[2],
                observed_generation=status[3],
            )
        out.append(rs)  # unchanged: the same (immutable) ReplicaSet
    return out


def _new_replicas(rss: list[ReplicaSet], rev: str) -> int:
    return next((rs.replicas for rs in rss if rs.template_hash == rev), 0)


def run_rollout(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """A Deployment rolling update (or Recreate) of `plan.target` to the new revision `rev`."""
    target, min_ready = plan.target, float(plan.minReadySeconds)
    current, _ = _install(engine, plan, rev)
    d = _deployment(engine, plan, rev)
    rss = _replica_sets(engine, d, current, [], min_ready)
    engine.rs_replicas[target] = {rs.template_hash: rs.replicas for rs in rss}
    steps = _Steps(record)
    while True:
        result: SyncResult | None = None
        pods, _ = _observe_available(engine, record, rev, min_ready)  # as woken
        for _ in range(50):  # the informer requeues a Deployment its own sync changed
            if d.replicas != engine.desired[target]:
                d = evolve(d, replicas=engine.desired[target])
            rss = _replica_sets(engine, d, current, rss, min_ready, pods)
            result = sync(d, rss, engine.env.now)
            d, rss = result.deployment, list(result.replica_sets)
            engine.rs_replicas[target] = {rs.template_hash: rs.replicas for rs in rss}
            engine.reconcile(target)
            pods, available = _observe_available(engine, record, rev, min_ready)  # also the next pass's view
            if result.created is not None:
                made = next(rs for rs in rss if rs.name == result.created)
                steps.open(
                    engine.env.now,
                    made.name,
                    0,
                    made.replicas,
                    "NewReplicaSetCreated",
                    d.replicas,
                    len(pods),
                    available,
                )
            for action in result.actions:
                steps.open(
                    engine.env.now,
                    action.replica_set,
                    action.from_replicas,
                    action.to_replicas,
                    result.reason,
                    d.replicas,
                    len(pods),
                    available,
                )
                engine.event(
                    "ReplicaSet",
                    action.replica_set,
                    "ScalingReplicaSet",
                    f"{action.from_replicas} -> {action.to_replicas} ({action.reason})",
                )
            if not result.changed:
                break
        assert result is not None
        now = engine.env.now
        if result.reason == COMPLETE:
            steps.close(now)
            record.finish(now, COMPLETE)
            engine.revision[target] = rev  # one ReplicaSet again: the plain reconcile takes over
            del engine.rs_replicas[target]
            engine.reconcile(target)
            return
        if result.reason == DEADLINE_EXCEEDED and record.end_s is None:
            steps.wait(_blocker(engine, pods, rev, _new_replicas(rss, rev), now, min_ready))
            steps.close(now)
            record.finish(now, DEADLINE_EXCEEDED)  # no rollback: the controller keeps going
            engine.event(
                "Deployment",
                target,
                DEADLINE_EXCEEDED,
                f"ReplicaSet of {plan.name} has timed out progressing",
            )
        elif record.end_s is None:
            steps.wait(_blocker(engine, pods, rev, _new_replicas(rss, rev), now, min_ready))
        wakes = [] if result.requeue_after is None else [max(result.requeue_after, 1.0)]  # as upstream: +1 s
        nxt = _next_available(pods, now, min_ready)
        wakes += [] if nxt is None else [nxt]
        yield from _wait(engine, target, plan.controller_latency, min(wakes, default=None))


# ------------------------------------------------------------------------- statefulset update
def _ordinal(pod: Pod) -> int:
    return int(pod.name.rsplit("-", 1)[1])


def run_statefulset_update(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """A StatefulSet update: the highest ordinal at or above `partition` first, one at a time (or up to
    maxUnavailable), each deleted pod recreated at the new revision by the StatefulSet controller.

    Ordinals are the pods' ranks by name (the engine names a replacement afresh, so a pod's rank
    stands for its ordinal). OnDelete: no pod is replaced; the plan ends at once.
    """
    target = plan.target
    current, _ = _install(engine, plan, rev)
    engine.revision[target] = rev  # the controller recreates deleted pods at the update revision
    strategy = plan.updateStrategy
    rolling = strategy.rollingUpdate if strategy is not None else None
    steps = _Steps(record)
    while True:
        now = engine.env.now
        pods = sorted(engine.state.pods_of(target), key=_ordinal)
        _observe(engine, record, rev, 0.0)
        spec = StatefulSetSpec(
            replicas=engine.desired[target],
            pod_management_policy=plan.podManagementPolicy,
            update_strategy=strategy.type if strategy is not None else "RollingUpdate",
            partition=rolling.partition if rolling is not None else 0,
            max_unavailable=rolling.maxUnavailable if rolling is not None else None,
            max_unavailable_gate=rolling is not None and rolling.maxUnavailable is not None,
        )
        view = [
            StatefulPod(i, p.revision, p.phase is PodPhase.READY, p.phase is PodPhase.TERMINATING)
            for i, p in enumerate(pods)
        ]
        decision = update_step(spec, view, current, rev)
        for ordinal in decision.delete:
            pod = pods[ordinal]
            steps.open(
                now,
                pod.name,
                1,
                0,
                decision.reason,
                spec.replicas,
                len(_active(pods)),
                sum(1 for p in pods if p.phase is PodPhase.READY),
            )
            engine.delete_pod(pod, "UpdatePods")
        if decision.reason in ("UpdateComplete", "OnDelete"):
            steps.close(now)
            record.finish(now, "Complete")
            return
        if not decision.delete:
            steps.wait(_blocker(engine, pods, rev, spec.replicas - spec.partition, now, 0.0))
        yield from _wait(engine, target, plan.controller_latency, None)


# ------------------------------------------------------------------------------- node plans
def _k8s_pod(engine: Engine, pod: Pod) -> K8sPod:
    """A pod as the eviction API and the drain filters read it: labels, readiness, its controller."""
    if pod.daemonset:
        ds = engine.daemonsets[pod.workload]
        ns, labels = ds.namespace, ds.pod_labels
        owner = OwnerReference("apps/v1", "DaemonSet", ds.name, f"uid-ds-{ds.name}", controller=True)
    else:
        w = engine.workloads[pod.workload]
        ns, labels = w.namespace, w.pod_labels
        if w.kind == "StatefulSet":
            owner = OwnerReference("apps/v1", "StatefulSet", w.name, f"uid-{w.name}", controller=True)
        else:
            owner = OwnerReference(
                "apps/v1", "ReplicaSet", f"{w.name}-rs", f"uid-rs-{w.name}", controller=True
            )
    return K8sPod(
        pod.name,
        ns,
        labels,
        phase="Running" if pod.node is not None else "Pending",
        ready=pod.phase is PodPhase.READY,
        deletion_timestamp=pod.deleted_s if pod.phase is PodPhase.TERMINATING else None,
        owner_references=(owner,),
    )


def _k8s_workloads(engine: Engine) -> list[K8sWorkload]:
    """The controllers the PDBs' expected-pod count reads (Deployment <- ReplicaSet, StatefulSet)."""
    out = []
    for w in engine.scenario.workloads:
        n = engine.desired[w.name]
        if w.kind == "StatefulSet":
            out.append(K8sWorkload("StatefulSet", w.name, f"uid-{w.name}", n, w.namespace))
            continue
        dep = OwnerReference("apps/v1", "Deployment", w.name, f"uid-{w.name}", controller=True)
        out.append(K8sWorkload("Deployment", w.name, f"uid-{w.name}", n, w.namespace))
        out.append(K8sWorkload("ReplicaSet", f"{w.name}-rs", f"uid-rs-{w.name}", n, w.namespace, (dep,)))
    return out


def _k8s_pdbs(engine: Engine) -> tuple[PodDisruptionBudget, ...]:
    """The scenario's PDBs, named `<workload>-pdb` as the cluster autoscaler's view names them."""
    return tuple(
        PodDisruptionBudget(
            f"{w.name}-pdb",
            w.namespace,
            min_available=w.pdb.minAvailable,
            max_unavailable=w.pdb.maxUnavailable,
            selector=LabelSelector(w.pod_labels),
        )
        for w in engine.scenario.workloads
        if w.pdb is not None
    )


def _pods_on(engine: Engine, node: str) -> list[Pod]:
    """Workload pods bound to `node` and not gone (terminating ones included)."""
    n = engine.state.nodes.get(node)
    if n is None:
        return []
    return [p for p in (engine.state.pods.get(name) for name in sorted(n.pods)) if p is not None]


class _Drains:
    """The engine's `kubectl drain` of some nodes: control/drain.py's step over the cluster's pods
    and PDBs (their status from control/disruption.py, disruptedPods carried between steps), its
    actions applied: cordon, evict (deleted with their grace period; controllers recreate them),
    and the last 429 per node kept for the plan's steps and the upgrade machines."""

    def __init__(self, engine: Engine, opts: DrainOptions) -> None:
        self.engine, self.opts = engine, opts
        self.states: dict[str, DrainState] = {}
        self.blocks: dict[str, tuple[str, str | None]] = {}  # node -> (last 429 message, its PDB)
        self.wake: dict[str, float | None] = {}
        self.pdbs = _k8s_pdbs(engine)

    def start(self, node: str) -> None:
        self.states[node] = DrainState(node)
        self.wake[node] = self.engine.env.now

    def stop(self, node: str) -> None:
        self.states.pop(node, None)
        self.wake.pop(node, None)

    def active(self) -> bool:
        return any(s.phase not in (DRAIN_DONE, DRAIN_FAILED) for s in self.states.values())

    def next_wake(self) -> float | None:
        wakes = [w for n, w in self.wake.items() if w is not None and n in self.states]
        return min(wakes, default=None)

    def step(self) -> None:
        """One pass over every drain in flight (the ones whose time has come)."""
        engine, now = self.engine, self.engine.env.now
        due = [
            n
            for n, st in self.states.items()
            if st.phase not in (DRAIN_DONE, DRAIN_FAILED) and (self.wake.get(n) or 0.0) <= now + 1e-9
        ]
        if not due:
            return
        pods = [p for p in engine.state.pods.values() if p.phase is not PodPhase.GONE]
        k8s = {p.name: _k8s_pod(engine, p) for p in pods}
        workloads = _k8s_workloads(engine)
        pdbs = tuple(pdb_status(pdb, list(k8s.values()), workloads, now=now).pdb for pdb in self.pdbs)
        for node in due:
            mine = _pods_on(engine, node)
            n = engine.state.nodes.get(node)
            daemon = engine.state.daemon_pods_on(n) if n is not None and n.alive else []
            view = [NodePod(k8s.get(p.name) or _k8s_pod(engine, p), node) for p in mine]
            view += [NodePod(_k8s_pod(engine, p), node) for p in daemon]
            step = drain_step(self.states[node], view, pdbs, now, self.opts)
            pdbs = step.pdbs
            self.states[node] = step.state
            self.wake[node] = step.wake_at
            for action in step.actions:
                self._apply(node, action)
        self.pdbs = pdbs

    def _apply(self, node: str, action: DrainAction) -> None:
        engine = self.engine
        if action.kind == "cordon":
            n = engine.state.nodes.get(node)
            if n is not None and n.alive and not n.cordoned:
                n.cordon()
                engine.state.touch()
                engine.event("Node", node, "NodeNotSchedulable", action.message)
        elif action.kind in ("evict", "delete"):
            pod = engine.state.pods.get(action.target.split("/", 1)[1])
            if pod is not None:
                grace = None if action.grace_period_s is None else float(action.grace_period_s)
                engine.evict(pod, "Evicted" if action.kind == "evict" else "Deleted", grace)
        elif action.kind == "blocked":
            self.blocks[node] = (action.message, action.pdb)
            engine.event("Pod", action.target.split("/", 1)[1], action.reason, action.message[:300])
        elif action.kind in ("fail", "done"):
            engine.event("Node", node, action.reason, action.message[:300])

    def report(self, node: str) -> DrainReport:
        st = self.states.get(node)
        message, pdb = self.blocks.get(node, ("", None))
        return DrainReport(st is not None and st.phase == DRAIN_DONE, message, pdb)

    def waited(self, node: str) -> str:
        """Why the drain of `node` waits: an eviction 429 and its PDB, a pending pod, or deletions."""
        engine = self.engine
        pending = next((p.last_unschedulable_msg for p in engine.pending_pods()), "")
        st = self.states.get(node)
        blocked = st is not None and any(k not in st.evicted for k in st.last_block)
        if blocked:
            pdb = self.blocks.get(node, ("", None))[1]
            why = f"eviction 429 (PDB {pdb})" if pdb else "eviction 429"
            return f"{why}; pending: {pending}" if pending else why
        if pending:
            return f"pending: {pending}"
        left = len(_pods_on(engine, node))
        return f"waiting for {left} pod(s) to terminate" if left else ""


class _NodeSteps:
    """plan_steps rows of a node plan: one per node drained (start of its drain to its end, or
    terminate/reimage), one per phase of the pool (ScaleUp, ScaleDown). Columns: replica_set = the
    node (or the pool for a phase), from/to = its pods before and after (the pool's size for a
    phase), desired = the pool's size at the start, pods/available = the pool's nodes and its Ready
    schedulable nodes at the step."""

    def __init__(self, record: PlanRecord) -> None:
        self.record = record
        self.open_rows: dict[str, list[Any]] = {}

    def open(
        self, now: float, key: str, before: int, after: int, reason: str, size: int, nodes: tuple[int, int]
    ) -> None:
        self.close(now, key)
        row = [now, None, key, before, after, reason, size, nodes[0], nodes[1], ""]
        self.record.steps.append(row)
        self.open_rows[key] = row

    def wait(self, key: str, why: str) -> None:
        """Set why the step waits; an eviction 429 stays until another 429 or a pending pod replaces it."""
        row = self.open_rows.get(key)
        if row is None or not why:
            return
        if str(row[9]).startswith("eviction 429") and not why.startswith(("eviction 429", "pending")):
            return
        row[9] = why

    def close(self, now: float, key: str, reason: str | None = None, why: str | None = None) -> None:
        row = self.open_rows.pop(key, None)
        if row is not None:
            row[1] = now
            if reason is not None:
                row[5] = reason
            if why is not None:
                row[9] = why

    def close_all(self, now: float) -> None:
        for key in list(self.open_rows):
            self.close(now, key)


def _pool_nodes(engine: Engine, pools: set[str]) -> list[Node]:
    return [n for n in engine.state.alive_nodes() if n.pool in pools]


def _node_counts(engine: Engine, pools: set[str], booting: dict[str, float] | None = None) -> tuple[int, int]:
    """(nodes alive, of which Ready and schedulable) in `pools`."""
    now = engine.env.now
    nodes = _pool_nodes(engine, pools)
    ready = sum(1 for n in nodes if n.ready and not n.cordoned and (booting or {}).get(n.name, 0.0) <= now)
    return len(nodes), ready


def _observe_nodes(
    engine: Engine, record: PlanRecord, pools: set[str], booting: dict[str, float] | None = None
) -> None:
    """The plan's peak pods and fewest ready pods on its nodes, and fewest available nodes."""
    pods = [
        p
        for n in _pool_nodes(engine, pools)
        for p in _pods_on(engine, n.name)
        if p.phase is not PodPhase.TERMINATING
    ]
    record.peak_pods = max(record.peak_pods, len(pods))
    record.min_available = min(record.min_available, sum(1 for p in pods if p.phase is PodPhase.READY))
    record.min_nodes_available = min(record.min_nodes_available, _node_counts(engine, pools, booting)[1])


def _drain_targets(engine: Engine, plan: Plan) -> list[Node]:
    """The nodes a drain selects: a pool's, or those whose labels match the selector."""
    selector = plan.node_selector()
    nodes = engine.state.alive_nodes()
    if selector is None:
        return sorted((n for n in nodes if n.pool == plan.target), key=lambda n: n.name)
    return sorted(
        (n for n in nodes if all(n.labels.get(k) == v for k, v in selector.items())), key=lambda n: n.name
    )


def run_drain(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """`kubectl drain` of a pool's nodes (or a selector's), with its flags: every selected node is
    cordoned first, then drained one after another (pkg/cmd/drain/drain.go RunDrain); a node that
    fails (`--timeout`: DrainTimeout; a refused or failed eviction: Aborted) does not stop the
    others, and the plan ends with the first failure's outcome. The nodes stay cordoned."""
    opts = DrainOptions(
        force=plan.force,
        ignore_daemonsets=plan.ignoreDaemonsets,
        delete_emptydir_data=plan.deleteEmptydirData,
        grace_period_s=plan.gracePeriod,
        timeout_s=float(plan.timeout),
        disable_eviction=plan.disableEviction,
    )
    nodes = _drain_targets(engine, plan)
    pools = {n.pool for n in nodes}
    size = len(nodes)
    for n in nodes:
        if not n.cordoned:
            n.cordon()
            engine.event("Node", n.name, "NodeNotSchedulable", f"node/{n.name} cordoned")
    engine.state.touch()
    drains = _Drains(engine, opts)
    steps = _NodeSteps(record)
    outcome = COMPLETE
    for node in nodes:
        _observe_nodes(engine, record, pools)
        steps.open(
            engine.env.now,
            node.name,
            len(_pods_on(engine, node.name)),
            0,
            "Drain",
            size,
            _node_counts(engine, pools),
        )
        drains.start(node.name)
        while True:
            drains.step()
            _observe_nodes(engine, record, pools)
            st = drains.states[node.name]
            if st.phase == DRAIN_DONE:
                steps.close(engine.env.now, node.name, DRAINED)
                break
            if st.phase == DRAIN_FAILED:
                why = drains.waited(node.name) or st.message
                steps.close(engine.env.now, node.name, st.reason, f"{why}: {st.message}"[:500])
                if outcome == COMPLETE:
                    outcome = DRAIN_TIMEOUT if st.reason == DRAIN_TIMEOUT_REASON else ABORTED
                break
            steps.wait(node.name, drains.waited(node.name))
            wake = drains.next_wake()
            yield engine.env.timeout(
                max((wake if wake is not None else engine.env.now + 1.0) - engine.env.now, 0.1)
            )
    steps.close_all(engine.env.now)
    record.finish(engine.env.now, outcome)


def _machine(engine: Engine, plan: Plan) -> tuple[Callable[..., StepResult], UpgradeState]:
    """The provider's upgrade machine and its start state, from the plan's provider settings."""
    provider = engine.scenario.cluster.provider
    us = plan.upgradeSettings
    if provider == "aws":
        uc = plan.updateConfig
        eks = EKSSettings(
            max_unavailable=uc.maxUnavailable if uc is not None else None,
            max_unavailable_percentage=uc.maxUnavailablePercentage if uc is not None else None,
            update_strategy=uc.updateStrategy if uc is not None else "DEFAULT",
            force=plan.force,
        )
        return eks_step, eks_start(eks)
    if provider == "gcp":
        gke = GKESettings()
        if us is not None:
            policy = us.blueGreenSettings.standardRolloutPolicy if us.blueGreenSettings else None
            soak = us.blueGreenSettings.nodePoolSoakDuration if us.blueGreenSettings else None
            gke = GKESettings(
                strategy=us.strategy or gke.strategy,
                max_surge=int(us.maxSurge) if us.maxSurge is not None else gke.max_surge,
                max_unavailable=int(us.maxUnavailable)
                if us.maxUnavailable is not None
                else gke.max_unavailable,
                batch_node_count=policy.batchNodeCount if policy else None,
                batch_percentage=policy.batchPercentage if policy else None,
                batch_soak_s=float(policy.batchSoakDuration)
                if policy and policy.batchSoakDuration is not None
                else gke.batch_soak_s,
                node_pool_soak_s=float(soak) if soak is not None else gke.node_pool_soak_s,
            )
        return gke_step, gke_start(gke)
    aks = AKSSettings()
    if us is not None:
        aks = AKSSettings(
            max_surge=us.maxSurge if us.maxSurge is not None else aks.max_surge,
            max_unavailable=us.maxUnavailable if us.maxUnavailable is not None else aks.max_unavailable,
            drain_timeout_s=60.0 * us.drainTimeoutInMinutes
            if us.drainTimeoutInMinutes
            else aks.drain_timeout_s,
            node_soak_s=60.0 * us.nodeSoakDurationInMinutes
            if us.nodeSoakDurationInMinutes is not None
            else aks.node_soak_s,
            undrainable_node_behavior=us.undrainableNodeBehavior or aks.undrainable_node_behavior,
        )
    return aks_step, aks_start(aks)


def _observe_pool(
    engine: Engine, pool: str, rev: str, drains: _Drains, booting: dict[str, float]
) -> PoolObservation:
    """The pool as the upgrade machine reads it: its nodes (upgraded = the plan's REVISION_LABEL),
    launches not yet joined (upgraded, not Ready), and the drains' reports."""
    now = engine.env.now
    nodes = [
        PoolNode(
            n.name,
            n.zone,
            n.labels.get(REVISION_LABEL) == rev,
            n.ready and booting.get(n.name, 0.0) <= now,
            n.cordoned and booting.get(n.name, 0.0) <= now,
            sum(1 for p in _pods_on(engine, n.name) if p.phase is not PodPhase.TERMINATING),
        )
        for n in _pool_nodes(engine, {pool})
    ]
    cloud = engine.cloud
    nodes += [PoolNode(t, cloud.ticket_zone.get(t, ""), True, False) for t in cloud.provisioning[pool]]
    return PoolObservation(
        tuple(sorted(nodes, key=lambda n: n.name)), {n: drains.report(n) for n in drains.states}
    )


def run_node_pool_upgrade(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """A managed node-pool upgrade (EKS, GKE surge/blue-green, AKS by the cluster's provider): the
    provider's pure machine (control/nodepool_upgrade.py, whose docstring is the design) called every
    `POLL_S` and whenever a drain has something to do; its actions applied through the engine (new
    nodes through the cloud seam carry the pool's new REVISION_LABEL; drains through `_Drains`;
    terminations through `Engine.remove_node`). The cluster autoscaler leaves the pool's nodes alone
    while the plan runs (scale-down-disabled); faults keep running."""
    pool = engine.scenario.pool(plan.target)
    step_fn, state = _machine(engine, plan)
    engine.pool_revision[pool.name] = rev
    engine.upgrading_pools.add(pool.name)
    engine.state.touch()
    drains = _Drains(engine, DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True, force=True))
    steps = _NodeSteps(record)
    booting: dict[str, float] = {}
    pools = {pool.name}
    size = len(_pool_nodes(engine, pools))
    provision = provision_time_distribution("node-group")
    reason = ""
    while True:
        now = engine.env.now
        drains.step()
        acts, state, reason = step_fn(state, _observe_pool(engine, pool.name, rev, drains, booting), now)
        for action in acts:
            _apply_node_action(engine, pool, action, drains, steps, booting, size, provision)
        if any(a.kind == DRAIN for a in acts):
            drains.step()
        _observe_nodes(engine, record, pools, booting)
        if state.phase in ("Done", "Failed"):
            break
        for key in steps.open_rows:
            steps.wait(key, _why(engine, pool.name, rev, key, drains, reason))
        wake = min(now + POLL_S, drains.next_wake() or now + POLL_S)
        yield engine.env.timeout(max(wake - now, 0.1))
    now = engine.env.now
    if state.outcome != COMPLETE:
        blocked = next((k for k in steps.open_rows if k in drains.states), None)
        if blocked is not None:
            steps.close(now, blocked, state.outcome, state.message[:500])
        engine.event("Plan", plan.name, state.outcome or ABORTED, state.message[:500])
    steps.close_all(now)
    record.message = state.message
    record.finish(now, state.outcome or ABORTED)
    engine.upgrading_pools.discard(pool.name)
    engine.state.touch()


def _why(engine: Engine, pool: str, rev: str, key: str, drains: _Drains, reason: str) -> str:
    """Why an open step of an upgrade waits: its drain's, surge nodes not Ready yet, or the machine's."""
    if key in drains.states:
        st = drains.states[key]
        if st.phase == DRAIN_DONE:
            return "drained; waiting before terminate"
        return drains.waited(key)
    if key in _PHASE_ROWS:
        new = [n for n in _pool_nodes(engine, {pool}) if n.labels.get(REVISION_LABEL) == rev]
        ready = sum(1 for n in new if n.ready)
        total = len(new) + len(engine.cloud.provisioning[pool])
        return f"waiting for surge nodes Ready ({ready}/{total})"
    return reason


_PHASE_ROWS = ("ScaleUp", "CreateGreenPool", "SurgeNode")


def _apply_node_action(
    engine: Engine,
    pool: NodePool,
    action: NodeAction,
    drains: _Drains,
    steps: _NodeSteps,
    booting: dict[str, float],
    size: int,
    provision: Any,
) -> None:
    """One upgrade-machine action through the engine (see control/nodepool_upgrade.py)."""
    now = engine.env.now
    node = engine.state.nodes.get(action.node) if action.node else None
    alive = node is not None and node.alive
    counts = _node_counts(engine, {pool.name}, booting)
    if action.message or action.kind not in (CORDON, LABEL):
        engine.event("NodePool", action.node or pool.name, action.reason, action.message or action.kind)
    if action.kind == LAUNCH:
        zones = pool.zones or engine.scenario.cluster.zones
        zone = action.zone if action.zone in zones else engine.cloud.launch_zone(pool)
        engine.cloud.launch(pool, zone, provision.sample(engine.rng["provisioning"]), keep_trying=True)
        if action.reason in _PHASE_ROWS and action.reason not in steps.open_rows:
            steps.open(now, action.reason, size, size, action.reason, size, counts)
        if action.reason in steps.open_rows:
            steps.open_rows[action.reason][4] += 1
    elif action.kind == CORDON and alive:
        assert node is not None
        if not node.cordoned:
            node.cordon()
            engine.state.touch()
    elif action.kind == UNCORDON and alive:
        assert node is not None
        node.cordoned, node.view_cache = False, None
        engine.state.touch()
        engine.wake_scheduler()
    elif action.kind == LABEL and alive and "=" in action.message:
        assert node is not None
        key, value = action.message.split("=", 1)
        node.labels = {**node.labels, key: value}
        node.view_cache = None
    elif action.kind == DRAIN:
        for phase in _PHASE_ROWS:
            steps.close(now, phase)
        if alive:
            steps.open(
                now,
                action.node or "",
                len(_pods_on(engine, action.node or "")),
                0,
                action.reason,
                size,
                counts,
            )
            drains.start(action.node or "")
        elif action.node in engine.cloud.provisioning[pool.name]:  # not joined yet: the launch is cancelled
            engine.cloud.cancel_ticket(pool.name, action.node)
    elif action.kind == FORCE_DRAIN and alive:
        for pod in _pods_on(engine, action.node or ""):
            engine.evict(pod, "ForceDrain")
        drains.stop(action.node or "")
    elif action.kind == TERMINATE:
        steps.close(now, action.node or "", why=action.message or None)
        drains.stop(action.node or "")
        if alive:
            assert node is not None
            engine.remove_node(node, "NodePoolUpgrade", deadline_s=0.0)
    elif action.kind == REIMAGE and alive:
        assert node is not None
        steps.close(now, node.name)
        drains.stop(node.name)
        delay = provision.sample(engine.rng["provisioning"])
        booting[node.name] = now + delay
        for pod in _pods_on(engine, node.name):
            engine.evict(pod, "Reimage", 0.0)
        node.cordon()
        node.labels = {**node.labels, REVISION_LABEL: engine.pool_revision[pool.name]}
        engine.state.touch()
        engine.env.process(_reimaged(engine, node, delay))


def _reimaged(engine: Engine, node: Node, delay: float) -> Any:
    """AKS: the reimaged node boots the new image and is schedulable again."""
    yield engine.env.timeout(delay)
    if node.alive:
        node.cordoned, node.view_cache = False, None
        engine.state.touch()
        engine.event("Node", node.name, "NodeReady", "reimaged")
        engine.wake_scheduler()


# ------------------------------------------------------------------------- progressive delivery
@dataclass
class SplitModel:
    """What the plan analysis needs to weigh the route latency by the traffic split: the target's
    arrival rate per tick and each version's serving (servers per pod, mean service s, cv)."""

    lam_rps: Any  # numpy array, one value per tick of the run
    dt_s: float
    stable: tuple[float, float, float]
    canary: tuple[float, float, float]
    queue_consumer: bool = False


def _serving_of(w: Workload) -> tuple[float, float, float]:
    s = w.serving
    return servers_per_pod(w, s.service_time), float(s.service_time), float(s.service_time_cv)


def _sides(pods: list[Pod], rev: str, now: float) -> tuple[Side, Side, int, int]:
    """(canary side, stable side, ready canary pods, ready stable pods) from the workload's pods."""
    new = [p for p in pods if p.revision == rev]
    old = [p for p in pods if p.revision != rev]
    ready_new = sum(1 for p in new if p.phase is PodPhase.READY)
    ready_old = sum(1 for p in old if p.phase is PodPhase.READY)
    return (
        Side(len(new), sum(1 for p in new if _available(p, now, 0.0))),
        Side(len(old), sum(1 for p in old if _available(p, now, 0.0))),
        ready_new,
        ready_old,
    )


def _record_split(record: PlanRecord, now: float, weight: float, ready_new: int, ready_old: int) -> None:
    """The canary's share of the traffic (`new_share`, read by the plan's error count) and the
    split timeline (t, weight, stable ready pods, canary ready pods) for its P95."""
    if not record.new_share or record.new_share[-1][1] != weight:
        record.new_share.append((now, weight))
    row = (now, weight, float(ready_old), float(ready_new))
    if not record.split or record.split[-1][1:] != row[1:]:
        record.split.append(row)


def _pod_share(ready_new: int, ready_old: int, model: SplitModel) -> float:
    """The share a Service's round robin (or the queue's competing consumers) gives the canary:
    its ready pods' throughput over all ready pods' throughput."""
    new = ready_new * model.canary[0] / model.canary[1]
    old = ready_old * model.stable[0] / model.stable[1]
    return new / (new + old) if new + old > 0 else 0.0


class _Metrics:
    """The plan's analysis: measurements of the canary version every `metrics.interval`
    (control/progressive/analysis.py), its runs' phases and the events they leave."""

    def __init__(self, engine: Engine, plan: Plan, record: PlanRecord, model: SplitModel) -> None:
        self.engine, self.plan, self.record, self.model = engine, plan, record, model
        m = plan.metrics
        self.thresholds = Thresholds(
            m.successRate if m is not None else None, float(m.p95) if m is not None and m.p95 else None
        )
        self.interval = float(m.interval) if m is not None else 60.0
        self.count = m.count if m is not None else None
        self.failure_limit = m.failureLimit if m is not None else 0
        self.run: AnalysisRun | None = None
        self.background: AnalysisRun | None = None

    def sample(self, weight: float, ready_new: int) -> tuple[float, float]:
        """(success rate, P95 s) of the canary version now, as its metrics would report them."""
        now = self.engine.env.now
        i = min(len(self.model.lam_rps) - 1, int(now // self.model.dt_s))
        lam = float(self.model.lam_rps[i]) * weight
        servers, service_s, cv = self.model.canary
        p95 = canary_p95_s(lam, ready_new * servers, service_s, cv)
        success = (1.0 - self.plan.serving.error_rate) if p95 != float("inf") else 0.0
        return success, p95

    def _measure(
        self, run: AnalysisRun, count: int | None, weight: float, ready_new: int, what: str
    ) -> AnalysisRun:
        success, p95 = self.sample(weight, ready_new)
        data = ready_new > 0 and weight > 0  # no canary requests: no data (control/progressive/analysis.py)
        ok = self.thresholds.passes(success, p95) if data else None
        run = measure(run, self.thresholds, count, self.failure_limit, ok, self.engine.env.now)
        self.engine.event(
            "AnalysisRun",
            self.plan.name,
            {True: "MeasurementPassed", False: "MeasurementFailed", None: "MeasurementError"}[ok],
            f"{what}: success rate {100 * success:.2f} %, P95 {1000 * p95:.0f} ms -> {run.phase}"
            if data
            else f"{what}: no data, the canary version receives no requests "
            f"({run.errors} in a row) -> {run.phase}",
        )
        return run

    def due(self, run: AnalysisRun | None) -> float | None:
        if run is None or run.phase != RUNNING:
            return None
        return run.started_s if run.last_s is None else run.last_s + self.interval

    def step(self, weight: float, ready_new: int) -> None:
        """Take the measurements that are due (a step's run and the background run)."""
        now = self.engine.env.now
        if self.run is not None and (self.due(self.run) or 0.0) <= now + 1e-9 and self.run.phase == RUNNING:
            self.run = self._measure(self.run, self.count or 1, weight, ready_new, "analysis step")
        bg = self.background
        if bg is not None and bg.phase == RUNNING and (self.due(bg) or 0.0) <= now + 1e-9:
            self.background = self._measure(bg, None, weight, ready_new, "background analysis")

    def phase(self) -> str:
        if self.background is not None and self.background.phase == ANALYSIS_FAILED:
            return ANALYSIS_FAILED
        return self.run.phase if self.run is not None else ""

    def next_due(self) -> float | None:
        return min(
            (t for t in (self.due(self.run), self.due(self.background)) if t is not None), default=None
        )


def _argo_canary_spec(plan: Plan) -> CanarySpec:
    c = plan.canary
    assert c is not None
    steps = []
    for s in c.steps:
        if s.setWeight is not None:
            steps.append(CanaryStep(set_weight=s.setWeight))
        elif s.pause is not None:
            steps.append(
                CanaryStep(pause=True, pause_s=None if s.pause.duration is None else float(s.pause.duration))
            )
        elif s.setCanaryScale is not None:
            x = s.setCanaryScale
            steps.append(CanaryStep(scale=SetCanaryScale(x.replicas, x.weight, x.matchTrafficWeight)))
        else:
            steps.append(CanaryStep(analysis=True))
    abort_delay = c.abortScaleDownDelaySeconds
    return CanarySpec(
        tuple(steps),
        max_surge=c.maxSurge,
        max_unavailable=c.maxUnavailable,
        traffic_routing=c.trafficRouting is not None,
        dynamic_stable_scale=c.dynamicStableScale,
        min_pods_per_rs=c.minPodsPerReplicaSet,
        scale_down_delay_s=float(c.scaleDownDelaySeconds if c.scaleDownDelaySeconds is not None else 30),
        abort_scale_down_delay_s=None
        if abort_delay == 0
        else float(abort_delay if abort_delay is not None else 30),
        progress_deadline_s=float(plan.progressDeadlineSeconds),
    )


def _split_model(engine: Engine, plan: Plan, old: Workload, new: Workload) -> SplitModel:
    streams = engine.traffic.by_workload.get(plan.target, [])
    lam = sum((st.lam_rps for st in streams), start=np.zeros(engine.traffic.n_ticks))
    queues = [q for q in engine.scenario.traffic.queues if q.consumer == plan.target]
    if queues:  # its tasks: served for the queue's task time (traffic.py `_queue_stream`), not a request's
        return SplitModel(lam, float(engine.traffic.dt), *_task_serving(old, new, queues[0]), True)
    return SplitModel(lam, float(engine.traffic.dt), _serving_of(old), _serving_of(new), False)


def _task_serving(
    old: Workload, new: Workload, queue: TaskQueue
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Each version's serving of a queue's task (servers per pod, mean s, cv): the queue's task time
    and cv, the new version's task longer by its service time over the current one's (the capacity
    weight `capacity_weight` gives it) with its own service-time cv if the plan sets one. A consumer
    of several queues is weighed by its first (the split model has one serving per version)."""
    task = float(queue.task_time)
    ratio = float(new.serving.service_time) / float(old.serving.service_time)
    new_cv = (
        queue.task_time_cv
        if new.serving.service_time_cv == old.serving.service_time_cv
        else new.serving.service_time_cv
    )
    stable = (servers_per_pod(old, task), task, float(queue.task_time_cv))
    canary = (servers_per_pod(new, task * ratio), task * ratio, float(new_cv))
    return stable, canary


def _apply_counts(engine: Engine, target: str, current: str, rev: str, stable: int, canary: int) -> bool:
    """Set both ReplicaSets' replicas (each reconciles its own pods); True when they changed."""
    want = {current: stable, rev: canary}
    if engine.rs_replicas.get(target) == want:
        return False
    engine.rs_replicas[target] = want
    engine.reconcile(target)
    return True


def _promote_time(plan: Plan, pause_start: float | None, now: float) -> tuple[bool, float | None]:
    """(promoted, when to wake for it): a human promotes `promote_after` into an indefinite pause."""
    if plan.promote_after is None or pause_start is None:
        return False, None
    at = pause_start + float(plan.promote_after)
    return now >= at, (at - now if now < at else None)


def _finish_progressive(engine: Engine, record: PlanRecord, target: str, rev: str, outcome: str) -> None:
    """Hand the workload back to the plain reconcile: at the new revision if it completed."""
    now = engine.env.now
    if outcome == COMPLETE:
        engine.revision[target] = rev
    engine.rs_replicas.pop(target, None)
    engine.reconcile(target)
    record.finish(now, outcome)


def run_canary(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """A canary: Argo Rollouts' step machine (`canary`) or Flagger's analysis loop (`analysis`)."""
    if plan.flagger:
        yield from _run_flagger(engine, plan, record, rev)
        return
    target = plan.target
    current, new = _install(engine, plan, rev)
    model = _split_model(engine, plan, engine.template(target, current), new)
    record.split_model = model
    spec = _argo_canary_spec(plan)
    routed = spec.traffic_routing and not model.queue_consumer
    metrics = _Metrics(engine, plan, record, model)
    c = plan.canary
    assert c is not None
    start_step = c.analysis.startingStep or 0 if c.analysis is not None else None
    n = engine.desired[target]
    st = CanaryState(canary_replicas=0, stable_replicas=n, last_progress_s=engine.env.now)
    _apply_counts(engine, target, current, rev, n, 0)
    steps = _Steps(record)
    last_reason = ""
    while True:
        now = engine.env.now
        pods, _ = _observe_available(engine, record, rev, 0.0)
        canary_side, stable_side, ready_new, ready_old = _sides(pods, rev, now)
        weight = st.weight / 100 if routed else _pod_share(ready_new, ready_old, model)
        if start_step is not None and metrics.background is None and st.step >= start_step:
            metrics.background = AnalysisRun(now)
        metrics.step(weight, ready_new)
        promoted, _ = _promote_time(plan, st.pause_start_s, now)
        obs = Observation(engine.desired[target], canary_side, stable_side, metrics.phase(), promoted)
        d = canary_sync(spec, st, obs, now)
        st = d.state
        if d.start_analysis:
            metrics.run = AnalysisRun(now)
            metrics.step(weight, ready_new)
            d = canary_sync(spec, st, replace(obs, analysis=metrics.phase()), now)
            st = d.state
        if _apply_counts(engine, target, current, rev, st.stable_replicas, st.canary_replicas) or (
            d.reason != last_reason
        ):
            pods = _observe(engine, record, rev, 0.0)
            steps.open(
                now,
                f"{target}-{rev}",
                canary_side.created,
                st.canary_replicas,
                d.reason,
                engine.desired[target],
                len(pods),
                canary_side.available + stable_side.available,
            )
            engine.event(
                "Rollout",
                target,
                d.reason,
                f"step {st.step}: canary {st.canary_replicas}, "
                f"stable {st.stable_replicas}, weight {st.weight}",
            )
            last_reason = d.reason
        pods = _active(engine.state.pods_of(target))
        _, _, ready_new, ready_old = _sides(pods, rev, now)
        weight = st.weight / 100 if routed else _pod_share(ready_new, ready_old, model)
        _record_split(record, now, weight, ready_new, ready_old)
        if st.done:
            steps.close(now)
            _finish_progressive(
                engine, record, target, rev, COMPLETE if st.done == ARGO_COMPLETE else ABORTED
            )
            if st.done != ARGO_COMPLETE:
                record.message = "analysis failed: traffic back to stable"
            return
        if d.reason == ARGO_DEADLINE and record.end_s is None:
            steps.wait(_blocker(engine, pods, rev, st.canary_replicas, now, 0.0))
            record.finish(now, DEADLINE_EXCEEDED)  # the Rollout keeps going (progressDeadlineAbort false)
        elif d.reason == ARGO_PAUSED_INDEFINITELY:
            steps.wait("paused: waiting for promote")
        elif d.reason == ARGO_SCALING:
            steps.wait(_blocker(engine, pods, rev, st.canary_replicas, now, 0.0))
        _, promote_in = _promote_time(plan, st.pause_start_s, engine.env.now)
        wakes = [x for x in (d.requeue_after_s, promote_in) if x is not None]
        due = metrics.next_due()
        if due is not None:
            wakes.append(max(due - now, 0.0))
        yield from _wait(engine, target, plan.controller_latency, min(wakes, default=None))


def run_blue_green(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """An Argo Rollouts blue-green update (control/progressive/argo.py blue_green_sync): the preview
    stack at full scale beside the active one (both counted in the plan's extra nodes and cost), the
    active Service switched at promotion (all traffic to the new version at once), the old stack
    scaled down scaleDownDelaySeconds later."""
    target = plan.target
    current, new = _install(engine, plan, rev)
    model = _split_model(engine, plan, engine.template(target, current), new)
    record.split_model = model
    bg = plan.blueGreen
    spec = BlueGreenSpec(
        auto_promotion_enabled=bg.autoPromotionEnabled if bg is not None else True,
        auto_promotion_s=float(bg.autoPromotionSeconds) if bg is not None else 0.0,
        scale_down_delay_s=float(bg.scaleDownDelaySeconds) if bg is not None else 30.0,
        preview_replica_count=bg.previewReplicaCount if bg is not None else None,
        progress_deadline_s=float(plan.progressDeadlineSeconds),
    )
    st = BlueGreenState(old_replicas=engine.desired[target], last_progress_s=engine.env.now)
    steps = _Steps(record)
    last_reason = ""
    while True:
        now = engine.env.now
        pods, _ = _observe_available(engine, record, rev, 0.0)
        canary_side, stable_side, ready_new, ready_old = _sides(pods, rev, now)
        promoted, _ = _promote_time(plan, st.pause_start_s, now)
        d = blue_green_sync(
            spec, st, Observation(engine.desired[target], canary_side, stable_side, "", promoted), now
        )
        st = d.state
        if (
            _apply_counts(engine, target, current, rev, st.old_replicas, st.new_replicas)
            or d.reason != last_reason
        ):
            pods = _observe(engine, record, rev, 0.0)
            steps.open(
                now,
                f"{target}-{rev}",
                canary_side.created,
                st.new_replicas,
                d.reason,
                engine.desired[target],
                len(pods),
                canary_side.available + stable_side.available,
            )
            engine.event("Rollout", target, d.reason, f"preview {st.new_replicas}, active {st.old_replicas}")
            last_reason = d.reason
        pods = _active(engine.state.pods_of(target))
        _, _, ready_new, ready_old = _sides(pods, rev, now)
        _record_split(record, now, 1.0 if st.active_new else 0.0, ready_new, ready_old)
        if st.done:
            steps.close(now)
            _finish_progressive(engine, record, target, rev, COMPLETE)
            return
        if d.reason == ARGO_DEADLINE and record.end_s is None:
            steps.wait(_blocker(engine, pods, rev, st.new_replicas, now, 0.0))
            record.finish(now, DEADLINE_EXCEEDED)
        elif d.reason == ARGO_PAUSED_INDEFINITELY:
            steps.wait("paused: waiting for promote")
        elif d.reason in (BG_PREVIEW, "Promoting"):
            steps.wait(_blocker(engine, pods, rev, st.new_replicas, now, 0.0))
        _, promote_in = _promote_time(plan, st.pause_start_s, engine.env.now)
        wakes = [x for x in (d.requeue_after_s, promote_in) if x is not None]
        yield from _wait(engine, target, plan.controller_latency, min(wakes, default=None))


def _flagger_spec(plan: Plan) -> FlaggerSpec:
    a = plan.analysis
    assert a is not None
    return FlaggerSpec(
        interval_s=float(a.interval),
        threshold=a.threshold,
        max_weight=a.maxWeight,
        step_weight=a.stepWeight or 0,
        step_weights=tuple(a.stepWeights or ()),
        iterations=a.iterations or 0,
        progress_deadline_s=float(plan.progressDeadlineSeconds),
    )


def _flagger_check(plan: Plan, metrics: _Metrics, weight: float, ready_new: int) -> bool:
    """Flagger's builtin metrics on the canary: request-success-rate (thresholdRange.min, %) and
    request-duration (thresholdRange.max, ms; Flagger's query is the P99)."""
    a = plan.analysis
    assert a is not None
    if not a.metrics:
        return True
    now = metrics.engine.env.now
    i = min(len(metrics.model.lam_rps) - 1, int(now // metrics.model.dt_s))
    lam = float(metrics.model.lam_rps[i]) * weight
    servers, service_s, cv = metrics.model.canary
    p99 = split_p95_s(lam, 1.0, (0.0, service_s, cv), (ready_new * servers, service_s, cv), q=0.99)
    success = 100 * (1 - plan.serving.error_rate) if p99 != float("inf") else 0.0
    ok = True
    for m in a.metrics:
        value = success if m.name == "request-success-rate" else 1000 * p99
        lo, hi = m.thresholdRange.min, m.thresholdRange.max
        ok = ok and (lo is None or value >= lo) and (hi is None or value <= hi)
    metrics.engine.event(
        "Canary",
        plan.name,
        "MetricsChecked" if ok else "MetricCheckFailed",
        f"success rate {success:.2f} %, P99 {1000 * p99:.0f} ms",
    )
    return ok


def _run_flagger(engine: Engine, plan: Plan, record: PlanRecord, rev: str) -> Any:
    """A Flagger canary (control/progressive/flagger.py): the canary Deployment scaled up beside the
    primary, which serves throughout; one analysis tick every `interval`; at promotion the primary
    itself rolls to the new version (`primary_rolling_counts`, under a second revision `rev`-primary
    of the same new template), then the canary is scaled to zero."""
    target = plan.target
    current, new = _install(engine, plan, rev)
    prim = f"{rev}-primary"
    engine.templates.setdefault(target, {})[prim] = new
    if plan.never_ready:
        engine.never_ready.add((target, prim))
    weights = engine.capacity_weight.get(target)
    if weights is not None and rev in weights:
        weights[prim] = weights[rev]
    model = _split_model(engine, plan, engine.template(target, current), new)
    record.split_model = model
    spec = _flagger_spec(plan)
    metrics = _Metrics(engine, plan, record, model)
    st = FlaggerState()
    steps = _Steps(record)
    old_primary, new_primary = engine.desired[target], 0
    last_tick = -1e18
    while True:
        now = engine.env.now
        n = engine.desired[target]
        pods, _ = _observe_available(engine, record, rev, 0.0)
        canary_pods = [p for p in pods if p.revision == rev]
        primary_new = [p for p in pods if p.revision == prim]
        canary_avail = sum(1 for p in canary_pods if _available(p, now, 0.0))
        prim_avail = sum(1 for p in primary_new if _available(p, now, 0.0))
        if st.primary_new and st.phase != FLAGGER_FAILED:
            old_primary, new_primary = primary_rolling_counts(n, old_primary, new_primary, prim_avail)
        elif not st.primary_new:
            old_primary = n
        if now >= last_tick + spec.interval - 1e-9:
            last_tick = now
            ready_new = sum(1 for p in canary_pods if p.phase is PodPhase.READY)
            share = _pod_share(ready_new, old_primary, model) if model.queue_consumer else st.weight / 100
            judged = analysis_runs(spec, st, canary_avail >= n)
            check = not judged or _flagger_check(plan, metrics, share, ready_new)
            obs = FlaggerObservation(
                canary_avail >= n, new_primary == n and prim_avail >= n and old_primary == 0, check
            )
            d = flagger_tick(spec, st, obs, now)
            if d.state != st or d.reason != (record.steps[-1][5] if record.steps else ""):
                steps.open(
                    now,
                    f"{target}-canary",
                    len(canary_pods),
                    n if d.state.canary_up else 0,
                    d.reason,
                    n,
                    len(pods),
                    canary_avail,
                )
                engine.event("Canary", plan.name, d.reason, f"phase {d.state.phase}, weight {d.state.weight}")
            st = d.state
            if st.primary_new and new_primary == 0 and st.phase != FLAGGER_FAILED:
                old_primary, new_primary = primary_rolling_counts(n, old_primary, new_primary, prim_avail)
        canary_n = n if st.canary_up else 0
        if st.phase == FLAGGER_FAILED:
            old_primary, new_primary = n, 0
        want = {current: old_primary, rev: canary_n, prim: new_primary}
        if engine.rs_replicas.get(target) != want:
            engine.rs_replicas[target] = want
            engine.reconcile(target)
        pods = _active(engine.state.pods_of(target))
        ready_new = sum(1 for p in pods if p.revision == rev and p.phase is PodPhase.READY)
        ready_prim = sum(1 for p in pods if p.revision == prim and p.phase is PodPhase.READY)
        ready_old = sum(1 for p in pods if p.revision == current and p.phase is PodPhase.READY)
        # traffic: `weight` to the canary; the primary's share split over its old and new pods
        if model.queue_consumer:  # competing consumers: the split is by capacity, not by routes
            new_w = _pod_share(ready_new + ready_prim, ready_old, model)
        else:
            prim_share = _pod_share(ready_prim, ready_old, model)
            canary_w = st.weight / 100
            new_w = canary_w + (1 - canary_w) * prim_share
        _record_split(record, now, new_w, ready_new + ready_prim, ready_old)
        if st.phase in (FLAGGER_SUCCEEDED, FLAGGER_FAILED):
            if st.phase == FLAGGER_FAILED or (not [p for p in pods if p.revision in (rev, current)]):
                steps.close(now)
                record.message = st.message
                engine.revision[target] = prim if st.phase == FLAGGER_SUCCEEDED else current
                engine.rs_replicas.pop(target, None)
                engine.reconcile(target)
                record.finish(now, COMPLETE if st.phase == FLAGGER_SUCCEEDED else ABORTED)
                return
        else:
            waiting_rev = prim if st.primary_new else rev
            have = sum(1 for p in pods if p.revision == waiting_rev and _available(p, now, 0.0))
            if have < (n if st.canary_up or st.primary_new else 0):
                steps.wait(_blocker(engine, pods, waiting_rev, n, now, 0.0))
        nxt = last_tick + spec.interval - now
        yield from _wait(engine, target, plan.controller_latency, max(nxt, 0.0))


RUNNERS: dict[str, Runner] = {
    "rollout": run_rollout,
    "statefulset-update": run_statefulset_update,
    "canary": run_canary,
    "blue-green": run_blue_green,
    "node-pool-upgrade": run_node_pool_upgrade,
    "drain": run_drain,
}
"""One runner per implemented plan kind (scenario/plans.py IMPLEMENTED_KINDS)."""
