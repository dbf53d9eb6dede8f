"""Which coming syncs of an HPA provably repeat its last decision, so its loop can sleep past them.

The HPA syncs every 15 s, and in a month of a steady platform nearly every sync keeps the count
(345,600 syncs for two HPAs; a few dozen change anything). After a sync that kept the count and
left the controller *settled* (`hpa_steady.settled`, or `repeats`: with a `behavior`, any sync whose
metrics propose the current count keeps it), the loop asks `QuietSyncs.plan` for the
coming syncs whose metrics propose the same count again: their metric inputs are known in advance
while nothing in the cluster changes (per-pod CPU from the precomputed load, the queue depth from
the traffic model's look-ahead), and `hpa_steady.steady_replicas` turns them into proposals.
The loop then sleeps until the first sync that may differ, or until the engine reports a change
(`Engine.changed`) to something this HPA reads (`QuietSyncs.inputs`: a change to another
workload leaves every forecast sync as it was, so the loop sleeps on), whichever comes first, and
records the skipped syncs' recommendations.

Sync times are generated exactly as the 15 s timer would (repeated float addition), and the loop
wakes at exactly the next one, so every decision, its time and every table of the run are
identical with and without skipping (tests/test_hpa_quiet.py runs both). One difference that no
table shows: a change at the very same float instant as a skipped sync is seen by that sync.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from simkit.control.hpa import HPAControllerConfig, HPADecision, HPASpec, HPAState, MetricsResult
from simkit.control.hpa.compute import tolerances_for
from simkit.control.hpa.steady import repeats, steady_replicas, steady_supported
from simkit.engine.cluster import Engine
from simkit.engine.metrics import ObjectRate, ObserveCache
from simkit.engine.traffic import LOOKAHEAD_TICKS, TrafficModel

VECTOR_QUEUE_SERIES = True  # read a queue's forecast in numpy (`queue_messages_at`); tests turn it off
FIRST_BLOCK = 64  # syncs looked at first (16 min); each further block is 4x longer ...
LONG_BLOCK = 2880  # ... up to 12 h at once; a full sync re-plans after that


class QuietSyncs:
    """The steady-case forecaster of one HPA's metric proposals over its coming syncs."""

    def __init__(
        self,
        engine: Engine,
        workload: str,
        spec: HPASpec,
        config: HPAControllerConfig,
        cache: ObserveCache,
        resolution_s: float,
    ) -> None:
        self.engine, self.workload, self.spec, self.config, self.cache = engine, workload, spec, config, cache
        self.resolution_s = resolution_s  # metrics-server's scrape interval
        self.enabled = steady_supported(spec)
        self.tol = tolerances_for(spec, config)
        w = engine.workloads[workload]
        traffic = engine.traffic
        total = np.zeros(traffic.t_s.size)
        for stream in traffic.by_workload.get(workload, []):  # the order arrival_rate() sums in
            total = total + stream.lam_rps
        self.lam_total = total
        self.base_cpu = w.serving.base_cpu
        self.cpu_per_request = w.serving.cpu_per_request
        self.requests = dict(cache.requests)
        queues = [traffic.queues[q] for _, q in cache.externals if q in traffic.queues]
        self.reads = {workload, *(st.workload for st in queues), *(st.gate for st in queues if st.gate)}
        self._plan_starts: list[float] | None = None

    def next_plan_start(self, now: float) -> float:
        """When the next deployment plan that may touch what this HPA reads starts (inf: none).

        A rollout of the HPA's workload (or of its queues' consumers) changes its pods from its
        start on, so a forecast past it is wasted work; a plan on anything but a workload (a node
        pool) may move any pod. Stopping the forecast there changes no sync: the loop syncs in
        full at the last forecast sync and forecasts again.
        """
        if self._plan_starts is None:
            workloads = self.engine.workloads
            self._plan_starts = sorted(
                r.start_s
                for r in self.engine.out.plan_rows
                if r.plan.target in self.reads or r.plan.target not in workloads
            )
        return next((t for t in self._plan_starts if t > now), math.inf)

    def plan(
        self, now: float, state: HPAState, decision: HPADecision, metrics: MetricsResult, current: int
    ) -> tuple[list[float], float] | None:
        """(times of the coming quiet syncs, time of the first sync that may differ), or None.

        None when the last sync is not a settled keep-the-count decision in the steady case; the
        loop then just syncs again in one period. `decision` is the sync just taken at `now`.
        """
        proposal = metrics.replicas
        spec = self.spec
        if (
            not self.enabled
            or proposal is None
            or decision.desired_replicas != current
            or not 1 <= spec.min_replicas <= current <= spec.max_replicas
            or any(p.replicas is None for p in metrics.proposals)
            or not repeats(spec, decision.state, proposal, current, now, self.config)
        ):
            return None
        quiet: list[float] = []
        start, block = now, FIRST_BLOCK
        cut = self.next_plan_start(now)
        while True:
            times = self._times(start, block)
            proposals = self._proposals(times, current)
            if proposals is None or (start == now and proposals[0] != proposal):
                return None  # the steady form disagrees with the sync itself: do not trust it
            differ = np.flatnonzero(proposals[1:] != proposal)
            if differ.size:
                j = int(differ[0]) + 1
                quiet.extend(times[1:j].tolist())
                return quiet, float(times[j])
            quiet.extend(times[1:].tolist())
            last = float(times[-1])
            if last >= self.engine.duration_s or last >= cut or block == LONG_BLOCK:
                return quiet[:-1], last  # the last one syncs in full and plans again
            start, block = last, min(4 * block, LONG_BLOCK, _syncs_to(cut - last, self.config.sync_period_s))

    def inputs(self) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """What the forecast of `plan` read of the cluster: (values, objects compared by identity).

        The values: the replica count, the ready count, and each pod's name, phase and bind and
        ready times. The objects: the serving history (`segments`) of each queue an External
        metric reads, which the traffic model replaces at every change of the queue's consumers or
        broker. The rest of the forecast's inputs (arrivals, load) are fixed for the run. Equal
        inputs after a change mean every sync of the plan would propose the same count.
        """
        engine, name = self.engine, self.workload
        pods = tuple((p.name, p.phase, p.bound_s, p.ready_s) for p in engine.state.pods_of(name))
        queues = engine.traffic.queues
        segments = tuple(queues[q].segments for _, q in self.cache.externals if q in queues)
        return (engine.desired[name], engine.ready_count[name], pods), segments

    def _times(self, start: float, count: int) -> np.ndarray:
        """`start` and the next `count` sync times, by the timer's own repeated float addition."""
        steps = np.full(count + 1, self.config.sync_period_s)
        steps[0] = start
        return np.cumsum(steps)  # sequential, so times[i] == times[i-1] + period exactly

    def _proposals(self, times: np.ndarray, current: int) -> np.ndarray | None:
        """What the metrics propose at each sync time, with the cluster as it is now."""
        engine, cache = self.engine, self.cache
        pods = len(engine.state.pods_of(self.workload))
        sample_t = times - np.fmod(times, self.resolution_s)  # as observe() samples
        traffic = engine.traffic
        tick = np.minimum(traffic.t_s.size - 1, np.floor_divide(sample_t, traffic.dt)).astype(np.int64)
        ready = max(1, engine.ready_count[self.workload])
        per_pod_rps = self.lam_total[tick] / ready  # as observe() divides arrival_rate()
        cpu = self.base_cpu + (per_pod_rps * self.cpu_per_request * 1000)
        limit = cache.cpu_limit
        cpu_milli = np.trunc(np.minimum(cpu, limit) if limit else cpu).astype(np.int64)
        usage = {"cpu": cpu_milli, "memory": np.full(times.size, cache.memory, dtype=np.int64)}
        values: dict[tuple[str, str], np.ndarray] = {}
        for name in cache.pods_metrics:  # every pod serves: its share of the requests
            values[("Pods", name)] = np.round(per_pod_rps * 1000).astype(np.int64)
        for name, rate in cache.objects:  # one look-up per distinct sample time
            values[("Object", name)] = _per_run(sample_t, partial(_milli_at, rate, engine))
        for name, queue in cache.externals:
            if queue not in traffic.queues:
                return None
            values[("External", name)] = self._queue_series(queue, times)
        return steady_replicas(self.spec, self.tol, current, pods, usage, self.requests, values)

    def _queue_series(self, queue: str, times: np.ndarray) -> np.ndarray:
        """The External metric's value (milli) at each sync, as `traffic.queue_messages` reports it.

        The traffic model computes a queue ahead as its readers reach uncomputed ticks; the look-ups
        here reach them in the same order as the syncs would (so the look-ahead computes the same
        chunks), and every value between two such steps is read from the computed arrays at once
        (`queue_messages_at`, the same IEEE arithmetic as the per-tick look-up).
        """
        traffic = self.engine.traffic
        ticks = np.clip(np.ceil(times / traffic.dt - 1e-9), 0, traffic.t_s.size)  # tick_index, vectorised
        if not VECTOR_QUEUE_SERIES:  # the reference path: one look-up per tick (tests compare both)
            return _per_run(ticks, lambda t: int(round(traffic.queue_messages(queue, t) * 1000)), at=times)
        return queue_messages_at(traffic, queue, ticks.astype(np.int64))


def queue_messages_at(traffic: TrafficModel, queue: str, ticks: np.ndarray) -> np.ndarray:
    """`round(traffic.queue_messages(queue, t) * 1000)` for non-decreasing tick indices `ticks`.

    What the per-tick look-up does, vectorised between look-ahead steps: when a tick lies beyond
    what the queue has computed, the queue is advanced exactly as `queue_messages` would advance it
    (to `LOOKAHEAD_TICKS` past that tick); the values of all the ticks computed by then are
    `backlog + waiting + busy` of the tick before, in the same float operations. Values that are
    not finite go through the per-tick path (which raises as a sync would).
    """
    st = traffic.queues[queue]
    out = np.zeros(ticks.size, dtype=np.int64)
    a = st.arrays
    start = 0
    while start < ticks.size:
        k = int(ticks[start])
        traffic.reach(st, k, min(traffic.n_ticks, k + LOOKAHEAD_TICKS), defer=start + 1 == ticks.size)
        stop = int(np.searchsorted(ticks, st.computed_to, side="right"))
        stop = max(stop, start + 1)
        ks = ticks[start:stop]
        i = np.maximum(ks - 1, 0)
        busy = a["utilization"][i] * a["servers"][i]
        waiting = a["p_wait"][i] * st.lam_rps[i] / np.maximum(a["wait_rate_per_s"][i], 1e-12)
        waiting = np.where(a["band"][i] != 0, 0.0, waiting)
        value = np.where(ks == 0, 0.0, a["backlog"][i] + waiting + busy) * 1000
        if not np.isfinite(value).all():
            at = (ks * traffic.dt).tolist()
            out[start:stop] = [int(round(traffic.queue_messages(queue, t) * 1000)) for t in at]
        else:
            out[start:stop] = np.rint(value).astype(np.int64)
        start = stop
    return out


def _syncs_to(span_s: float, period_s: float) -> int:
    """Syncs that reach `span_s` ahead (at least one; a generous count, the loop checks the times)."""
    return max(1, math.ceil(span_s / period_s) + 1) if math.isfinite(span_s) else LONG_BLOCK


def _milli_at(rate: ObjectRate, engine: Engine, t: float) -> int:
    """An Object metric's value at time t in milli-units, as `observe` reports it."""
    return round(rate(engine, t) * 1000)


def _per_run(keys: np.ndarray, value: Callable[[float], int], at: np.ndarray | None = None) -> np.ndarray:
    """`value` at the first element of each run of equal `keys`, repeated over the run.

    It is called with that element of `at` (default: of `keys`), in order, once per run.
    """
    where = keys if at is None else at
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    values = [value(float(where[i])) for i in first]
    return np.repeat(np.asarray(values, dtype=np.int64), np.diff(np.r_[first, keys.size]))


def same_inputs(
    a: tuple[tuple[object, ...], tuple[object, ...]], b: tuple[tuple[object, ...], tuple[object, ...]]
) -> bool:
    """Whether two `QuietSyncs.inputs` are the same (values equal, objects identical)."""
    return a[0] == b[0] and len(a[1]) == len(b[1]) and all(x is y for x, y in zip(a[1], b[1], strict=True))


def delay_to(now: float, target: float) -> float | None:
    """A delay d with now + d == target exactly in float arithmetic (a timeout lands on `target`)."""
    d = target - now
    for _ in range(8):
        reached = now + d
        if reached == target:
            return d
        d = math.nextafter(d, math.inf if reached < target else -math.inf)
    return None
