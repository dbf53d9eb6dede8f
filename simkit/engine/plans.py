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

from simkit.control.deployment import Deployment, ReplicaSet, SyncResult, max_surge, sync
from simkit.control.deployment.sync import COMPLETE, DEADLINE_EXCEEDED
from simkit.control.deployment.types import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    Condition,
    DeploymentStatus,
)
from simkit.control.statefulset import StatefulPod, StatefulSetSpec, update_step
from simkit.engine.cluster import WARM_START_S, Engine
from simkit.engine.state import Pod, PodPhase
from simkit.engine.traffic import servers_per_pod
from simkit.scenario.model import Serving, Startup, Workload
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
    steps: list[list[Any]] = field(default_factory=list)  # see `_Steps`

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
    available = sum(1 for p in pods if _available(p, now, min_ready_s))
    record.min_available = min(record.min_available, available)
    ready = [p for p in pods if p.phase is PodPhase.READY]
    weights = engine.capacity_weight.get(record.plan.target, {})
    total = sum(weights.get(p.revision, 1.0) for p in ready)
    new = sum(weights.get(p.revision, 1.0) for p in ready if p.revision == new_rev)
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
    return replace(d, status=DeploymentStatus(replicas, replicas, replicas, replicas, 0, 1, done))


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
        mine = [p for p in pods if p.revision == rs.template_hash]
        status = (
            len(mine),
            sum(1 for p in mine if p.phase is PodPhase.READY),
            sum(1 for p in mine if _available(p, now, min_ready_s)),
            rs.generation,
        )
        if status != (rs.status_replicas, rs.ready_replicas, rs.available_replicas, rs.observed_generation):
            rs = replace(
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
                d = replace(d, replicas=engine.desired[target])
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


RUNNERS: dict[str, Runner] = {"rollout": run_rollout, "statefulset-update": run_statefulset_update}
"""One runner per implemented plan kind (scenario/plans.py IMPLEMENTED_KINDS)."""
