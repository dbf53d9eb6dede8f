"""Thin SimPy loops around the pure HPA and cluster-autoscaler controllers.

Each loop observes the engine's state the way the real controller's inputs show it, calls the pure
`decide`/`scale_up`/`scale_down`, applies the result, and records the decision with its reason.

Metrics pipeline (an assumption, stated): metrics-server scrapes every 15 s (its default
`--metric-resolution`), so the HPA sees per-pod CPU averaged over the last 15 s window, sampled at
the last scrape; a pod's CPU use is `base_cpu` plus its share of the workload's requests times
`cpu_per_request`, capped at its CPU limit. The External queue metric is RabbitMQ's `messages`
(ready plus unacknowledged) for the queue named by the metric's `queue` label or by its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from simkit.control.ca import (
    CAFlags,
    CANode,
    CAPod,
    CAState,
    NodeGroup,
    PodDisruptionBudget,
    provision_time_distribution,
    register_failed_scale_up,
    scale_down,
    scale_up,
)
from simkit.control.daemonset import DAEMON_POD_GRACE_S, place_daemon_pods
from simkit.control.hpa import (
    ContainerSample,
    HPAObservation,
    HPASpec,
    HPAState,
    MetricsResult,
    PodSample,
    compute_replicas_for_metrics,
    decide,
    hpa_spec_from_k8s,
)
from simkit.control.hpa.steady import record_quiet_syncs, stabilization_reach_s
from simkit.control.hpa.types import frozen_mapping
from simkit.control.types import HOSTNAME_LABEL, ZONE_LABEL, NodeView
from simkit.engine.hpa_quiet import QuietSyncs, delay_to
from simkit.engine.state import Pod, PodPhase
from simkit.scenario.model import NodePool, Scenario, Workload

if TYPE_CHECKING:
    from simkit.engine.simulation import Engine

METRIC_RESOLUTION_S = 15.0  # metrics-server --metric-resolution default
SKIP_QUIET_SYNCS = True  # sleep past syncs that provably repeat the decision (hpa_quiet); tests turn it off
MIB = 2**20


def start_autoscalers(engine: Engine) -> None:
    """Start one HPA loop per workload with an `hpa`, and the cluster autoscaler if configured."""
    config = engine.scenario.cluster.hpa_config  # parsed once, when the scenario was validated
    rng = engine.rng["controllers"]
    for workload in engine.scenario.workloads:
        if workload.hpa is not None:
            spec = hpa_spec_from_k8s(workload.hpa.model_dump(exclude_none=True))
            phase = float(rng.uniform(0.0, config.sync_period_s))  # each HPA runs on its own timer
            engine.env.process(_hpa_loop(engine, workload, spec, config, phase))
    flags = engine.scenario.cluster.ca_flags
    if flags is not None and any(_bounds(engine, p, flags) for p in engine.scenario.cluster.node_pools):
        engine.env.process(_ca_loop(engine, flags))


# --------------------------------------------------------------------------------------- HPA
def _hpa_loop(engine: Engine, workload: Workload, spec: HPASpec, config: Any, phase: float) -> Any:
    state = HPAState()
    last_reason = ""
    cache = ObserveCache(workload, engine.scenario)
    desired = engine.desired
    memo: tuple[Any, MetricsResult] | None = None
    quiet = (
        QuietSyncs(engine, workload.name, spec, config, cache, METRIC_RESOLUTION_S)
        if SKIP_QUIET_SYNCS
        else None
    )
    reach = stabilization_reach_s(spec, config)
    yield engine.env.timeout(phase)
    while True:
        now = engine.env.now
        current = desired[workload.name]
        key = _steady_key(engine, workload, now, config, cache)
        if key is not None and memo is not None and memo[0] == key:
            obs = HPAObservation(spec_replicas=current, status_replicas=current)  # pods not read
            metrics = memo[1]
        else:
            obs = observe(engine, workload, now, cache)
            metrics = compute_replicas_for_metrics(spec, obs, now, config)
            memo = (key, metrics) if key is not None else None
        decision = decide(spec, obs, state, now, config, metrics=metrics)
        state = decision.state
        if decision.desired_replicas != current or decision.reason != last_reason:
            engine.record_decision(
                "hpa", workload.name, current, decision.desired_replicas, decision.reason, decision.message
            )
            last_reason = decision.reason
        if decision.desired_replicas != current:
            engine.scale_workload(workload.name, decision.desired_replicas)
        plan = quiet.plan(now, state, decision, metrics, current) if quiet and key is not None else None
        delay = None if plan is None else delay_to(now, plan[1])
        if plan is None or delay is None:
            yield engine.env.timeout(config.sync_period_s)
        else:
            state = yield from _sleep_through(engine, plan, delay, state, metrics.replicas or 0, reach)


def _sleep_through(
    engine: Engine,
    plan: tuple[list[float], float],
    delay: float,
    state: HPAState,
    proposal: int,
    reach_s: float,
) -> Any:
    """Sleep past the quiet syncs of `plan` until the first sync that may differ or the first change.

    Returns the HPA state with the skipped syncs' recommendations recorded; the loop resumes at
    exactly the next sync time the 15 s timer would have reached (hpa_quiet).
    """
    skipped, loud = plan
    yield engine.env.timeout(delay) | engine.changed()  # delay lands exactly on `loud`
    woke = engine.env.now
    done = [t for t in skipped if t < woke]
    state = record_quiet_syncs(state, proposal, done, reach_s)
    upcoming = [*skipped[len(done) :], loud][0]
    rest = delay_to(woke, upcoming)
    if rest is None:
        raise RuntimeError(f"cannot land on the HPA sync time {upcoming!r}")
    if rest > 0:
        yield engine.env.timeout(rest)
    return state


def _steady_key(engine: Engine, w: Workload, now: float, config: Any, cache: ObserveCache) -> Any:
    """A key that fixes what the metrics pipeline reports, or None when time alone could change it.

    When every pod of the workload is Ready and past the CPU initialization period, the metrics'
    result depends only on the pods (the state version), the load tick the sample falls in, the
    External values and the replica count: no timestamp is compared any more (hpa_pods
    `_cpu_unready`). Within those bounds a sync may reuse the previous sync's computation.
    """
    old = now - config.cpu_initialization_period_s - w.startup.image_pull
    for pod in engine.state.pods_of(w.name):
        if pod.phase is not PodPhase.READY or pod.bound_s is None or pod.bound_s >= old:
            return None
    sample_tick = int((now - math.fmod(now, METRIC_RESOLUTION_S)) // engine.traffic.dt)
    externals = tuple(sorted(_external_values(engine, w, now, cache.externals).items()))
    return (engine.state.version, sample_tick, externals, engine.desired[w.name])  # Pods/Object: per tick


class ObserveCache:
    """What `observe` needs of one workload that never changes, and its container samples by usage.

    Container samples are immutable, so one per distinct (cpu, memory) usage is shared by every pod
    and sync that reports it; only the per-pod `PodSample` is built at each sync.
    """

    MAX_CONTAINERS = 4096  # distinct usages kept; the cache starts over beyond this

    def __init__(self, w: Workload, scenario: Scenario | None = None) -> None:
        self.requests = frozen_mapping(
            {"cpu": w.resources.requests.cpu, "memory": int(w.resources.requests.memory * MIB * 1000)}
        )
        self.pending = (ContainerSample("app", requests=self.requests),)
        limits = w.resources.limits
        self.cpu_limit = limits.cpu if limits is not None and limits.cpu else None
        self.memory = int(w.serving.base_memory * MIB * 1000)
        self.externals = _external_queues(w)
        self.pods_metrics, self.objects = _custom_metrics(w, scenario)
        self._containers: dict[tuple[int, int] | None, tuple[ContainerSample, ...]] = {}

    def containers(self, usage: tuple[int, int] | None) -> tuple[ContainerSample, ...]:
        """The container tuple of a pod with this (cpu, memory) usage, or no sample (None)."""
        got = self._containers.get(usage)
        if got is None:
            if len(self._containers) >= self.MAX_CONTAINERS:
                self._containers.clear()
            values = {} if usage is None else {"cpu": usage[0], "memory": usage[1]}
            got = self._containers[usage] = (ContainerSample("app", requests=self.requests, usage=values),)
        return got


def observe(
    engine: Engine, workload: Workload, now: float, cache: ObserveCache | None = None
) -> HPAObservation:
    """What the metrics APIs report for this workload's pods and its External metrics at `now`."""
    cache = cache or ObserveCache(workload)
    sample_t = now - math.fmod(now, METRIC_RESOLUTION_S)
    pods = [p for p in engine.state.pods_of(workload.name) if p.phase is not PodPhase.GONE]
    ready = max(1, engine.ready_count[workload.name])
    per_pod_rps = engine.traffic.arrival_rate(workload.name, sample_t) / ready
    samples = tuple([_pod_sample(engine, workload, p, per_pod_rps, sample_t, cache) for p in pods])
    return HPAObservation(
        spec_replicas=engine.desired[workload.name],
        status_replicas=sum(1 for p in pods if p.phase is not PodPhase.TERMINATING),
        pods=samples,
        object_values={name: _milli(rate(engine, sample_t)) for name, rate in cache.objects},
        external_values=_external_values(engine, workload, now, cache.externals),
    )


def _milli(value: float) -> int:
    """A metric value as the metrics APIs serve it: a quantity in milli-units, rounded."""
    return int(round(value * 1000))


ObjectRate = Callable[["Engine", float], float]


def _route_rate(engine: Engine, t: float, share: float) -> float:
    """Requests per second entering a route (an Ingress) at time t: its share of the load."""
    traffic = engine.traffic
    return float(traffic.load_rps[min(traffic.t_s.size - 1, int(t // traffic.dt))] * share)


def _workload_rate(engine: Engine, t: float, workload: str) -> float:
    """Requests (and tasks) per second arriving at a workload at time t."""
    return engine.traffic.arrival_rate(workload, t)


def _custom_metrics(
    w: Workload, scenario: Scenario | None
) -> tuple[tuple[str, ...], tuple[tuple[str, ObjectRate], ...]]:
    """The workload's HPA metrics served by the custom metrics API (`cluster.metrics_adapter`).

    Pods metrics: each pod's request rate (names). Object metrics: (name, the rate at a sample
    time) of the described workload (all its arrivals) or Ingress (its route's requests).
    """
    if w.hpa is None or scenario is None:
        return (), ()
    pods: list[str] = []
    objects: list[tuple[str, ObjectRate]] = []
    routes = {r.name: r for r in scenario.traffic.routes}
    for metric in w.hpa.metrics:
        source = metric.pods if metric.type == "Pods" else metric.object if metric.type == "Object" else None
        name = ((source or {}).get("metric") or {}).get("name")
        if not isinstance(name, str) or name not in scenario.cluster.metrics_adapter:
            continue  # no source: the HPA reports FailedGet... as a real one would
        if metric.type == "Pods":
            pods.append(name)
            continue
        described = (source or {}).get("describedObject") or {}
        target = described.get("name", "")
        if described.get("kind") == "Ingress" and target in routes:
            share = routes[target].share
            objects.append((name, partial(_route_rate, share=share)))
        else:
            objects.append((name, partial(_workload_rate, workload=target)))
    return tuple(pods), tuple(objects)


def _pod_sample(
    engine: Engine, w: Workload, pod: Pod, per_pod_rps: float, sample_t: float, cache: ObserveCache
) -> PodSample:
    phase = pod.phase
    if phase is PodPhase.PENDING or pod.bound_s is None:
        return PodSample(
            name=pod.name, start_time=None, phase="Pending", ready=False, containers=cache.pending
        )
    started = pod.bound_s + w.startup.image_pull
    running = engine.env.now >= started
    serving = phase is PodPhase.READY
    usage = None
    custom: dict[str, int] = {}
    if running and sample_t >= started:
        cpu = w.serving.base_cpu + (per_pod_rps * w.serving.cpu_per_request * 1000 if serving else 0.0)
        limit = cache.cpu_limit
        usage = (int(min(cpu, limit) if limit else cpu), cache.memory)
        if cache.pods_metrics:  # a pod that is not Ready receives no requests
            custom = dict.fromkeys(cache.pods_metrics, _milli(per_pod_rps) if serving else 0)
    return PodSample(
        name=pod.name,
        start_time=started if running else None,
        phase="Running" if running else "Pending",
        ready=serving,
        deleting=phase is PodPhase.TERMINATING,
        ready_transition_time=pod.ready_s if pod.ready_s is not None else started,
        containers=cache.containers(usage),
        metric_time=sample_t,
        metric_window_s=METRIC_RESOLUTION_S,
        **({"metrics": custom} if custom else {}),  # absent: the shared empty mapping, not a copy
    )


def _external_queues(workload: Workload) -> tuple[tuple[str, str], ...]:
    """(metric name, RabbitMQ queue) of each External metric of the workload's HPA."""
    out = []
    for metric in workload.hpa.metrics if workload.hpa else []:
        if metric.type != "External" or not metric.external:
            continue
        ident = metric.external.get("metric", {})
        name = ident.get("name", "")
        out.append((name, (ident.get("selector") or {}).get("matchLabels", {}).get("queue", name)))
    return tuple(out)


def _external_values(
    engine: Engine, workload: Workload, now: float, queues: tuple[tuple[str, str], ...] | None = None
) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for name, queue in _external_queues(workload) if queues is None else queues:
        if queue in engine.traffic.queues:
            out[name] = (int(round(engine.traffic.queue_messages(queue, now) * 1000)),)
    return out


# --------------------------------------------------------------------------- cluster autoscaler
def _bounds(engine: Engine, pool: NodePool, flags: CAFlags) -> tuple[int, int] | None:
    """(min, max) of an autoscaled pool: its `--nodes` entry, else the pool's own, if it autoscales."""
    declared = flags.bounds_for(pool.name)
    if declared is not None:
        return declared.min_size, declared.max_size
    return (pool.min_nodes, pool.max_nodes) if pool.autoscaling and not flags.nodes else None


def _ca_loop(engine: Engine, flags: CAFlags) -> Any:
    state = CAState()
    rng = engine.rng["provisioning"]
    provision = provision_time_distribution("node-group")
    pools = [p for p in engine.scenario.cluster.node_pools if _bounds(engine, p, flags)]
    last = ("", "")
    cache: dict[str, Any] = {"version": -1}
    quiet_version = -1  # state version at which the last loop found nothing to do and no timer running
    while True:
        yield engine.env.timeout(flags.scan_interval)
        if engine.state.version == quiet_version:
            # Nothing changed since a loop that found nothing to do: every new pending pod, launch
            # and launch failure changes the version; the same decision again.
            continue
        now = engine.env.now
        pending_pods = engine.pending_pods()
        for failed in engine.launch_failures:  # the cloud refused instances: back the group off
            if failed in {p.name for p in pools}:
                state = register_failed_scale_up(state, failed, now, flags)
                engine.record_decision(
                    "cluster-autoscaler",
                    failed,
                    0,
                    0,
                    "FailedToScaleUpGroup",
                    f"{failed}: instances could not be launched; backing off",
                )
        engine.launch_failures.clear()
        busy = pending_pods or any(engine.provisioning[p.name] for p in pools)
        if cache["version"] != engine.state.version:  # rebuild the views only after a change
            cache = _ca_inputs(engine, pools, flags)
        groups, nodes = cache["groups"], cache["nodes"]
        pods_by_node, pdbs = cache["pods_by_node"], cache["pdbs"]
        pending = [_ca_pod(engine, p) for p in pending_pods]
        upcoming = {p.name: len(engine.provisioning[p.name]) for p in pools}
        up = scale_up(pending, groups, nodes, upcoming, flags, state, now, engine.rng["controllers"])
        for pool_name, count in up.reverted.items():
            engine.cancel_provisioning(pool_name, count)
        for pool_name, count in up.increases.items():
            pool = engine.scenario.pool(pool_name)
            before = _group_size(engine, pool_name)
            for _ in range(count):
                engine.provision_node(pool, engine.launch_zone(pool), provision.sample(rng))
            engine.record_decision(
                "cluster-autoscaler", pool_name, before, before + count, up.reason, up.message
            )
        down = scale_down(nodes, pods_by_node, groups, flags, up.state, now, pdbs=pdbs)
        state = down.state
        for name in down.remove:
            node = engine.state.nodes[name]
            before = _group_size(engine, node.pool)
            engine.record_decision(
                "cluster-autoscaler",
                node.pool,
                before,
                before - 1,
                "ScaleDown",
                down.messages.get(name, f"removing {name}"),
            )
            evict_ds = (
                flags.daemonset_eviction_for_empty_nodes
                if name in down.empty
                else flags.daemonset_eviction_for_occupied_nodes
            )
            engine.remove_node(node, "ScaleDown", evict_daemon_pods=evict_ds)
        if (up.reason, down.status) != last and not up.increases and not down.remove:
            engine.record_decision(
                "cluster-autoscaler",
                "cluster",
                sum(g.target_size for g in groups),
                sum(g.target_size for g in groups),
                up.reason,
                up.message,
            )
        last = (up.reason, down.status)
        quiet = not (up.increases or up.reverted or down.remove or down.unneeded or busy)
        quiet_version = engine.state.version if quiet else -1


def _ca_inputs(engine: Engine, pools: list[NodePool], flags: CAFlags) -> dict[str, Any]:
    """The CA's view of the cluster; valid until the engine's state version changes."""
    pods_by_node = {
        n.name: [_ca_pod(engine, p) for p in engine.state.bound_pods(n)] for n in engine.state.alive_nodes()
    }
    return {
        "version": engine.state.version,
        "groups": [_group(engine, p, _bounds(engine, p, flags)) for p in pools],  # type: ignore[arg-type]
        "nodes": _ca_nodes(engine, {p.name for p in pools}),
        "pods_by_node": pods_by_node,
        "pdbs": _pdbs(engine),
    }


def _group_size(engine: Engine, pool: str) -> int:
    alive = sum(1 for n in engine.state.alive_nodes() if n.pool == pool and not n.cordoned)
    return alive + len(engine.provisioning[pool])


def _group(engine: Engine, pool: NodePool, bounds: tuple[int, int]) -> NodeGroup:
    """The pool as a node group; its template node carries the DaemonSet pods a new node would run."""
    shape = engine.pool_shape(pool)
    zone = engine.launch_zone(pool)
    labels = {**shape.labels, ZONE_LABEL: zone, HOSTNAME_LABEL: f"template-{pool.name}"}
    template = NodeView(
        name=f"template-{pool.name}",
        labels=labels,
        taints=shape.taints,
        alloc_cpu_m=shape.cpu_m,
        alloc_mem_mib=shape.mem_mib,
        alloc_pods=shape.max_pods,
    )
    template, _ = place_daemon_pods(engine.daemon_specs, template)
    return NodeGroup(
        name=pool.name,
        min_size=bounds[0],
        max_size=bounds[1],
        target_size=_group_size(engine, pool.name),
        template=template,
        price_per_hour=shape.usd_hour,
        zone=zone,
        labels=labels,
    )


def _ca_nodes(engine: Engine, autoscaled: set[str]) -> list[CANode]:
    return [
        CANode(
            view=engine.state.node_view(n),
            group=n.pool if n.pool in autoscaled else None,
            ready=n.ready,
            created_at=n.created_s,
            deletion="drain" if n.cordoned else None,
        )
        for n in engine.state.alive_nodes()
    ]


def _ca_pod(engine: Engine, pod: Pod) -> CAPod:
    if pod.daemonset:
        namespace, owner, grace = engine.daemonsets[pod.workload].namespace, "DaemonSet", DAEMON_POD_GRACE_S
    else:
        w = engine.workloads[pod.workload]
        namespace, grace = w.namespace, float(w.terminationGracePeriodSeconds)
        owner = "StatefulSet" if w.kind == "StatefulSet" else "ReplicaSet"
    return CAPod(
        spec=pod.spec,
        namespace=namespace,
        owner_kind=owner,
        created_at=pod.created_s,
        termination_grace_s=grace,
        phase="Pending" if pod.phase is PodPhase.PENDING else "Running",
        deletion_timestamp=pod.deleted_s if pod.phase is PodPhase.TERMINATING else None,
    )


def _pdbs(engine: Engine) -> list[PodDisruptionBudget]:
    out = []
    for w in engine.scenario.workloads:
        if w.pdb is None:
            continue
        healthy = engine.ready_count[w.name]
        out.append(
            PodDisruptionBudget(
                name=f"{w.name}-pdb",
                namespace=w.namespace,
                match_labels=w.pod_labels,
                disruptions_allowed=w.pdb.allowed_disruptions(engine.desired[w.name], healthy),
            )
        )
    return out
