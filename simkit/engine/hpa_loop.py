"""The HPA loop: one SimPy process per workload with an `hpa`, around the pure `control.hpa.decide`.

Each sync observes the workload the way the metrics APIs show it (`engine.metrics`), calls the
pure controller, applies the new replica count through the ReplicaSet/StatefulSet reconcile, and
records the decision with its reason. Syncs that provably repeat the decision are slept past
(`engine.hpa_quiet`); the tables are identical either way.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

from simkit.control.hpa import (
    HPAControllerConfig,
    HPAObservation,
    HPASpec,
    HPAState,
    MetricsResult,
    compute_replicas_for_metrics,
    decide,
    hpa_spec_from_k8s,
)
from simkit.control.hpa.steady import record_quiet_syncs, stabilization_reach_s
from simkit.engine.cluster import Engine
from simkit.engine.hpa_quiet import QuietSyncs, delay_to, same_inputs
from simkit.engine.metrics import METRIC_RESOLUTION_S, ObserveCache, external_values, observe
from simkit.engine.state import PodPhase
from simkit.scenario.model import Workload

__all__ = ["SKIP_QUIET_SYNCS", "start_hpa_loops"]

SKIP_QUIET_SYNCS = True  # sleep past syncs that provably repeat the decision (hpa_quiet); tests turn it off


def start_hpa_loops(engine: Engine) -> None:
    """One HPA loop per workload with an `hpa`, each on its own timer phase (drawn in workload order)."""
    config = engine.scenario.cluster.hpa_config  # parsed once, when the scenario was validated
    rng = engine.rng["controllers"]
    for workload in engine.scenario.workloads:
        if workload.hpa is not None:
            spec = hpa_spec_from_k8s(workload.hpa.model_dump(exclude_none=True))
            phase = float(rng.uniform(0.0, config.sync_period_s))  # each HPA runs on its own timer
            engine.env.process(_hpa_loop(engine, workload, spec, config, phase))


def _hpa_loop(
    engine: Engine, workload: Workload, spec: HPASpec, config: HPAControllerConfig, phase: float
) -> Any:
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
        if quiet is None or plan is None or delay is None:
            yield engine.env.timeout(config.sync_period_s)
        else:
            state = yield from _sleep_through(engine, quiet, plan, delay, state, metrics.replicas or 0, reach)


def _sleep_through(
    engine: Engine,
    quiet: QuietSyncs,
    plan: tuple[list[float], float],
    delay: float,
    state: HPAState,
    proposal: int,
    reach_s: float,
) -> Any:
    """Sleep past the quiet syncs of `plan` until the first sync that may differ or the first change
    to what the HPA reads (a change elsewhere leaves the plan valid: sleep on, on the same timer).

    Returns the HPA state with the skipped syncs' recommendations recorded; the loop resumes at
    exactly the next sync time the 15 s timer would have reached (hpa_quiet).
    """
    skipped, loud = plan
    before = quiet.inputs()
    timer = engine.env.timeout(delay)  # lands exactly on `loud`
    while True:
        yield timer | engine.changed()
        woke = engine.env.now
        if woke >= loud or not same_inputs(before, quiet.inputs()):
            break
    done = skipped[: bisect_left(skipped, woke)]  # the skipped times are increasing (the timer's sums)
    state = record_quiet_syncs(state, proposal, done, reach_s)
    upcoming = skipped[len(done)] if len(done) < len(skipped) else loud
    rest = delay_to(woke, upcoming)
    if rest is None:
        raise RuntimeError(f"cannot land on the HPA sync time {upcoming!r}")
    if rest > 0:
        yield engine.env.timeout(rest)
    return state


def _steady_key(
    engine: Engine, w: Workload, now: float, config: HPAControllerConfig, cache: ObserveCache
) -> Any:
    """A key that fixes what the metrics pipeline reports, or None when time alone could change it.

    When every pod of the workload is Ready, has a sample and is counted as ready for CPU, the
    metrics' result depends only on the pods (the state version), the load tick the sample falls
    in, the External values and the replica count: no timestamp is compared any more (hpa_pods
    `_cpu_unready`). A pod is counted past the CPU initialization period, and inside it once its
    sample covers a full window since it became Ready; both only ever become true as time goes
    on, so they hold at every later sync until the pods change. Within those bounds a sync may
    reuse the previous sync's computation, and the quiet-sync forecast applies.
    """
    sample_t = now - math.fmod(now, METRIC_RESOLUTION_S)
    pull, init = w.startup.image_pull, config.cpu_initialization_period_s
    old = now - init - pull
    for pod in engine.state.pods_of(w.name):
        if pod.phase is not PodPhase.READY or pod.bound_s is None:
            return None
        if pod.bound_s >= old and not _counted_in_init(pod.bound_s + pull, pod.ready_s, now, sample_t, init):
            return None
    sample_tick = int(sample_t // engine.traffic.dt)
    externals = tuple(sorted(external_values(engine, w, now, cache.externals).items()))
    return (engine.state.version, sample_tick, externals, engine.desired[w.name])  # Pods/Object: per tick


def _counted_in_init(started: float, ready_s: float | None, now: float, sample_t: float, init: float) -> bool:
    """Whether a Ready pod inside (or at the edge of) the CPU initialization period counts as ready.

    As `observe` and hpa_pods `_cpu_unready` decide it: it reports usage (running, and the sample
    is not older than its start) and, inside the period, its sample does not start before a full
    window after its readiness changed; after the period a Ready pod always counts.
    """
    if now < started or sample_t < started:
        return False  # no usage sample yet: missing, not steady
    if started + init > now:
        transition = started if ready_s is None else ready_s
        return not sample_t < transition + METRIC_RESOLUTION_S
    return True
