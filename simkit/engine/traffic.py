"""Request traffic in the hybrid time model: per-tick queueing, computed lazily in vectorised chunks.

The load (req/s per tick) is known up front. A service's ticks can be computed as soon as its
number of ready servers is known for them, and that number is constant between two engine events.
So each service (and each task queue) keeps `computed_to`: when its ready count is about to change,
the ticks since then are computed in one numpy call with the old count. Route latencies, which
combine several services, are computed once at the end over all ticks.

A change of ready servers takes effect at its exact time, not at a tick boundary: the tick it falls
in is computed stretch by stretch (old servers, then new), its backlog carried across, and merged
into one row (`TrafficModel._split_tick`), so a fault, a failover or a pod start shorter than a tick
counts for its own duration and the error count does not depend on `simulation.resolution`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simkit.engine.columns import PagedColumn, PagePool
from simkit.engine.content_memo import ContentMemo
from simkit.results import Deferred
from simkit.scenario.model import Route, RouteStep, Scenario, TaskQueue, Workload
from simkit.scenario.slos import Objective, latency_objective
from simkit.traffic.critical_band import wait_shape
from simkit.traffic.load import (
    arrival_dispersion,
    rate_series,
    replay_multiplier,
    thinned_dispersion,
    trace_events,
)
from simkit.traffic.queueing import Component, gives_up_within_tick, service_ticks, sojourn_cdf
from simkit.traffic.queueing_latency import RouteLatency
from simkit.traffic.windows import (
    availability_budget,
    pool,
    time_quantile,
    window_bins,
)

QUANTILES = (0.5, 0.95, 0.99)
POOL_CHUNK = 4096  # ticks per sojourn-CDF block when pooling a whole run (bounds memory)
POOL_GRID = 1024
WORST_WINDOW_S = 300.0  # `p95_worst_5m_ms`, and the windows of a route without a latency target
QUEUE_TTL_S = 1e9  # tasks never expire (RabbitMQ has no message TTL unless one is set); finite for the math
LOOKAHEAD_TICKS = 360  # ticks a queue is computed ahead of its readers (rewound if its consumers change)
DEFER_LOOKAHEAD = True  # `TrafficModel.reach` defers the look-ahead after a split tick; tests turn it off
DEFER_FIRST_TICK = True  # ... and after the first tick of a chunk read alone (`reach`); tests turn it off
_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_NCOL = 6  # per service: P(wait), wait rate, fluid delay, and the fluid delay's ramp (start, growth, spread)
_LatencyKey = tuple[tuple[tuple[str, int], ...], float]
"""A route's latency inputs: its (service, calls) path and network overhead per hop."""
_TICK_FIELDS = (
    "utilization",
    "p_wait",
    "wait_rate_per_s",
    "fluid_wait_s",
    "mean_wait_s",
    "served",
    "timed_out",
    "band",
    "backlog_var",
    "fluid_start_s",
    "fluid_slope_s",
    "fluid_sd_s",
)
"""The per-tick results of `queueing.service_ticks` a stream keeps as they are."""
_LATENCY_FIELDS = (
    "p_wait",
    "wait_rate_per_s",
    "fluid_wait_s",
    "fluid_start_s",
    "fluid_slope_s",
    "fluid_sd_s",
)
"""What `tick_columns` reads of a stream (with its timeout)."""
_FIELDS = (
    "servers",
    "utilization",
    "p_wait",
    "wait_rate_per_s",
    "fluid_wait_s",
    "mean_wait_s",
    "backlog",
    "served",
    "timed_out",
    "lost",
    "band",
    "backlog_var",
    "fluid_start_s",
    "fluid_slope_s",
    "fluid_sd_s",
)


_Segment = tuple[float, int, bool]
"""Within a tick: from this offset (s), this many servers, and whether the stream's broker accepts tasks."""


@dataclass
class _Stream:
    """One queueing station over the run: a synchronous service or a task queue's consumers."""

    name: str
    workload: str
    lam_rps: np.ndarray
    concurrency: int  # servers per ready pod (see `pod_servers`)
    mean_service_s: float  # per server: the request's service time, stretched if the pod's CPU is short
    service_cv: float
    timeout_s: float
    arrays: dict[str, Any] = field(default_factory=dict)  # allocated by `TrafficModel._allocate`
    """Per field of `_FIELDS`: an array, or for a twin a `PagedColumn` until `finish_all` (then an array)."""
    gate: str | None = None  # the broker a task queue lives in: while it has no quorum, tasks are lost
    computed_to: int = 0  # ticks [0, computed_to) are computed with the servers known so far
    backlog: float = 0.0  # backlog at the end of tick computed_to - 1
    backlog_var: float = 0.0  # and its variance (near-critical ticks only; see queueing.service_ticks)
    split_tick: int = -1  # the tick in which the servers changed at `segments`' offsets (see `_Segment`)
    segments: list[_Segment] = field(default_factory=list)
    split_fail: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    """Per split tick: (offset s, share of that stretch's arrivals timed out), for routes' errors."""
    twin: bool = False  # another stream has the same inputs: its columns are paged, shared by content


class TrafficModel:
    """Arrivals per service and queue, and their per-tick queueing given the ready pods."""

    def __init__(
        self, scenario: Scenario, duration_s: float, rng: np.random.Generator, base_dir: Path | None = None
    ) -> None:
        self.scenario = scenario
        self.dt = scenario.simulation.resolution
        n = max(1, math.ceil(duration_s / self.dt - 1e-9))
        self.t_s = np.arange(n) * self.dt
        self.n_ticks = n
        self.tick_s = np.minimum(self.dt, duration_s - self.t_s)  # the last tick may be shorter
        self.load_rps = rate_series(scenario.traffic.load, self.t_s, rng, base_dir, tick_s=self.dt)
        self.arrival_scv = _trace_dispersion(scenario, self.t_s, self.tick_s, self.load_rps, base_dir)
        workloads = {w.name: w for w in scenario.workloads}
        self.services = self._sync_streams(workloads)
        self.queues = {q.name: self._queue_stream(q, workloads[q.consumer]) for q in scenario.traffic.queues}
        self.by_workload: dict[str, list[_Stream]] = {}
        for stream in [*self.services.values(), *self.queues.values()]:
            self.by_workload.setdefault(stream.workload, []).append(stream)
        for data in scenario.faults.data_layer:
            for queue in data.broker_for:
                self.queues[queue].gate = data.workload
                self.by_workload.setdefault(data.workload, []).append(self.queues[queue])
        self.ready = dict.fromkeys(workloads, 0)
        self._pool = PagePool(n)  # the streams' pages and the finished arrays, shared by content
        self._allocate()
        self._deferred: dict[int, int] = {}  # id(stream): end of its chunk deferred by `reach`
        self._restart: dict[int, tuple[int, float, float]] = {}
        """id(stream): (start, backlog, variance before it) of a deferred chunk whose first tick was
        computed alone (`reach`): the chunk is computed whole from there when read."""
        self._tick_columns: dict[tuple[Any, ...], tuple[tuple[np.ndarray, ...], _Columns]] = {}
        """`tick_columns` per distinct service input (`_columns`), during `finish`."""
        self._window_parts: list[tuple[str, RouteWindows]] = []  # per route, during `finish`

    def _allocate(self) -> None:
        """Each stream's columns: plain arrays, or pages shared by content (`columns.PagedColumn`) for
        streams whose inputs (arrival rates, service, timeout, broker) another stream shares: copies of
        a service in a generated platform compute the same bits. Only a memory matter: no paging cost
        where nothing is shared (the seed platform, a Monte Carlo run). Allocated once the twins are
        known: arrays allocated and dropped would leave the heap grown (glibc's mmap threshold)."""
        groups: dict[tuple[Any, ...], list[_Stream]] = {}
        for st in [*self.services.values(), *self.queues.values()]:
            st.lam_rps = self._pool.intern(st.lam_rps)
            key = (id(st.lam_rps), st.concurrency, st.mean_service_s, st.service_cv, st.timeout_s, st.gate)
            groups.setdefault(key, []).append(st)
        for group in groups.values():
            for st in group:
                st.twin = len(group) > 1
                st.arrays = {
                    k: PagedColumn(self.n_ticks) if st.twin else np.zeros(self.n_ticks) for k in _FIELDS
                }

    def _sync_streams(self, workloads: dict[str, Workload]) -> dict[str, _Stream]:
        lam: dict[str, np.ndarray] = {}
        for route in self.scenario.traffic.routes:
            for step in route.path:
                lam[step.service] = lam.get(step.service, 0.0) + route.share * step.calls * self.load_rps
        out = {}
        for name, rate in lam.items():
            w = workloads[name]
            s = w.serving
            slots, mean_s = pod_servers(w, s.service_time)
            out[name] = _Stream(
                name, name, np.asarray(rate, dtype=float), slots, mean_s, s.service_time_cv, s.timeout
            )
        return out

    def _queue_stream(self, queue: TaskQueue, consumer: Workload) -> _Stream:
        slots, mean_s = pod_servers(consumer, queue.task_time)
        return _Stream(
            queue.name,
            consumer.name,
            queue.tasks_per_request * self.load_rps,
            slots,
            mean_s,
            queue.task_time_cv,
            QUEUE_TTL_S,
        )

    # ------------------------------------------------------------------------- stepping
    def tick_index(self, t: float) -> int:
        """Number of ticks that started before `t` (those whose servers are already decided)."""
        return min(self.n_ticks, max(0, math.ceil(t / self.dt - 1e-9)))

    def set_ready(self, workload: str, ready: int, now: float) -> None:
        """The workload's ready pods change at `now`: settle its streams' ticks so far, then switch.

        The change takes effect at `now` exactly: the tick it falls in is served by the old servers
        up to `now` and by the new ones after (`_Stream.segments`), so a fault or a failover shorter
        than a tick costs its own duration, not a whole tick. Ticks computed ahead with the old
        count (see `queue_messages`) are discarded.
        """
        x = now / self.dt
        k = min(self.n_ticks, max(0, math.floor(x + 1e-9)))
        offset = max(0.0, now - k * self.dt)
        streams = self.by_workload.get(workload, [])
        self._advance(streams, k)
        for st in streams:
            self._deferred.pop(id(st), None)  # a chunk still deferred lies wholly past k: discarded
            self._restart.pop(id(st), None)  # (its first tick, computed alone, is kept if before k)
            if st.computed_to > k:
                st.computed_to = k
                st.backlog = float(st.arrays["backlog"][k - 1]) if k > 0 else 0.0
                st.backlog_var = float(st.arrays["backlog_var"][k - 1]) if k > 0 else 0.0
            for tick in [t for t in st.split_fail if t >= k]:
                del st.split_fail[tick]
            if st.split_tick != k:
                st.split_tick, st.segments = k, [(0.0, *self._serving(st))]
        self.ready[workload] = ready
        for st in streams:
            segments = [seg for seg in st.segments if seg[0] < offset - 1e-9 * self.dt]
            st.segments = [*segments, (offset if segments else 0.0, *self._serving(st))]

    def _serving(self, st: _Stream) -> tuple[int, bool]:
        """The stream's servers now, and whether its broker (if any) accepts tasks."""
        return self.ready[st.workload] * st.concurrency, st.gate is None or self.ready[st.gate] != 0

    def reach(self, st: _Stream, needed: int, until: int, defer: bool = True) -> None:
        """Have ticks [0, needed) of `st` computed, as if by `_advance([st], until)` when not yet.

        After a tick whose servers changed within it, only that tick is computed when it is all
        `needed`; the chunk after it, up to `until`, is deferred (`_deferred`) and computed whole
        when first read, or dropped if the servers change before (a rollout changes them every few
        seconds). Every chunk that is kept starts where it would have and ends where it would have
        or earlier, so every tick is the same (ticks do not depend on where a chunk ends).

        Likewise when only the first tick of a chunk is `needed` (`DEFER_FIRST_TICK`; `defer`
        False: the caller reads on at once): that tick is computed as a chunk of one, which gives
        it the same bits as the whole chunk's first tick (`service_ticks` is causal: a tick does
        not depend on the ticks after it; tests/test_queueing_chunks.py), and when the chunk is
        read further it is computed whole from its start (`_restart`), so every later tick is the
        one the whole chunk gives. During a rollout the HPA reads a queue's first tick after each
        change of its consumers, and the next change comes before the rest is read.
        """
        planned = self._deferred.get(id(st), st.computed_to)  # computed_to without the deferral
        if needed <= st.computed_to:
            return
        target = until if needed > planned else planned
        a = st.computed_to
        split = st.split_tick == a and len(st.segments) > 1  # `_advance` computes tick a on its own
        if DEFER_LOOKAHEAD and split and planned == a and needed == a + 1 < target:
            self._advance([st], needed)
            self._deferred[id(st)] = target
            return
        if DEFER_FIRST_TICK and defer and not split and planned == a and needed == a + 1 < target:
            restart = (a, st.backlog, st.backlog_var)
            self._advance([st], needed)
            self._deferred[id(st)], self._restart[id(st)] = target, restart
            return
        self._advance([st], target)

    def _advance(self, streams: list[_Stream], until: int) -> None:
        for st in streams:
            if until <= st.computed_to:
                continue
            planned = self._deferred.pop(id(st), until)  # a chunk deferred by `reach` is computed whole
            restart = self._restart.pop(id(st), None)
            if restart is not None:  # ... from its start, its first tick again (the same bits)
                st.computed_to, st.backlog, st.backlog_var = restart
            if planned < until:
                self._advance([st], planned)
            a, b = st.computed_to, max(until, planned)
            if st.split_tick == a and len(st.segments) > 1:
                self._split_tick(st, a)
                a += 1
                if a == b:
                    continue
            servers, open_ = self._serving(st)
            lam = st.lam_rps[a:b]
            if not open_:
                st.arrays["lost"][a:b] = lam * self.tick_s[a:b]
                lam = np.zeros_like(lam)
            ticks = service_ticks(
                lam,
                servers,
                st.mean_service_s,
                st.service_cv,
                self.dt,
                st.timeout_s,
                st.backlog,
                st.backlog_var,
                **self._scv(st, a, b),
            )
            arr = st.arrays
            arr["servers"][a:b] = servers
            for key in _TICK_FIELDS:
                arr[key][a:b] = getattr(ticks, key)
            arr["backlog"][a:b] = ticks.backlog_end
            st.backlog = float(ticks.backlog_end[-1])
            st.backlog_var = float(ticks.backlog_var[-1])
            st.computed_to = b
        self._seal(streams)

    def _seal(self, streams: list[_Stream]) -> None:
        """Share the finished pages of streams that may have a twin (`columns.PagePool`)."""
        for st in streams:
            if st.twin:
                for column in st.arrays.values():
                    if column.private:
                        self._pool.seal(column, st.computed_to)

    def _split_tick(self, st: _Stream, i: int) -> None:
        """Tick `i` of `st`, whose servers change within it: each constant stretch in turn, then merged.

        The backlog is carried from stretch to stretch; counts add up, levels (servers, utilization)
        are time-weighted, and the latency parameters are those of the mixture of the stretches'
        waits, weighted by the requests each served (`_merge_waits`).
        """
        lam_i = float(st.lam_rps[i])
        offsets = [seg[0] for seg in st.segments]
        ends = [*offsets[1:], self.dt]
        parts, lengths, servers, lost = [], [], [], 0.0
        fails: list[tuple[float, float]] = []
        for (offset, c, open_), end in zip(st.segments, ends, strict=True):
            length = end - offset
            if length <= 0:
                continue
            lam = lam_i if open_ else 0.0
            lost += 0.0 if open_ else lam_i * length * float(self.tick_s[i]) / self.dt
            ticks = service_ticks(
                np.array([lam]),
                c,
                st.mean_service_s,
                st.service_cv,
                length,
                st.timeout_s,
                st.backlog,
                st.backlog_var,
                **self._scv(st, i, i + 1),
            )
            st.backlog, st.backlog_var = float(ticks.backlog_end[-1]), float(ticks.backlog_var[-1])
            parts.append(ticks)
            fails.append((offset, float(ticks.timed_out[0]) / (lam * length) if lam > 0 else 0.0))
            lengths.append(length)
            servers.append(c)
        arr, w = st.arrays, np.asarray(lengths) / sum(lengths)
        col = {k: np.array([float(getattr(p, k)[0]) for p in parts]) for k in _TICK_FIELDS}
        arr["servers"][i] = float(w @ np.asarray(servers, dtype=float))
        arr["utilization"][i] = float(w @ col["utilization"])
        arr["served"][i] = float(col["served"].sum())
        arr["timed_out"][i] = float(col["timed_out"].sum())
        arr["band"][i] = float(col["band"].any())
        arr["backlog_var"][i] = st.backlog_var
        arr["backlog"][i] = st.backlog
        arr["lost"][i] = lost
        p, rate, fluid, mean = _merge_waits(col, col["served"] if col["served"].sum() > 0 else w)
        arr["p_wait"][i], arr["wait_rate_per_s"][i], arr["fluid_wait_s"][i], arr["mean_wait_s"][i] = (
            p,
            rate,
            fluid,
            mean,
        )
        arr["fluid_start_s"][i], arr["fluid_slope_s"][i] = fluid, 0.0  # merged: one delay, no ramp
        arr["fluid_sd_s"][i] = 0.0
        st.split_fail[i] = fails
        st.computed_to = i + 1

    def _scv(self, st: _Stream, a: int, b: int) -> dict[str, np.ndarray]:
        """`arrival_scv` for ticks [a, b) of a service under an events trace, when `service_ticks` takes it.

        The trace's index of dispersion (`traffic.load.arrival_dispersion`) thinned to the share of the
        load that reaches the service; nothing (Poisson, unchanged results) without an events trace.
        """
        if self.arrival_scv is None or not _TAKES_SCV or self.services.get(st.name) is not st:
            return {}
        reach = sum(
            r.share for r in self.scenario.traffic.routes if any(p.service == st.name for p in r.path)
        )
        return {"arrival_scv": thinned_dispersion(self.arrival_scv[a:b], reach)}

    def finish_all(self) -> None:
        """Settle every stream up to the end of the run; a twin's paged columns become read-only arrays
        (the same array for columns of the same content, `columns.PagePool.join`)."""
        streams = [*self.services.values(), *self.queues.values()]
        for st in streams:  # one at a time: each one's pages are shared before the next is computed
            self._advance([st], self.n_ticks)
        for st in streams:
            if isinstance(st.arrays["servers"], PagedColumn):
                st.arrays = {k: self._pool.join(column) for k, column in st.arrays.items()}

    # --------------------------------------------------------------------------- metrics
    def arrival_rate(self, workload: str, t: float) -> float:
        """Requests or tasks per second arriving at `workload` at time t."""
        i = min(self.n_ticks - 1, int(t // self.dt))
        return float(sum(st.lam_rps[i] for st in self.by_workload.get(workload, [])))

    def queue_messages(self, queue: str, now: float) -> float:
        """RabbitMQ's `messages` (ready + unacknowledged) at `now`: backlog plus tasks in service.

        The stationary queue (Little: λ·P(wait)/rate) is added to the fluid backlog, except in
        near-critical ticks, whose backlog is the diffusion's mean queue already.
        """
        st = self.queues[queue]
        k = self.tick_index(now)
        self.reach(st, k, min(self.n_ticks, k + LOOKAHEAD_TICKS))  # ahead with today's consumers
        if k == 0:
            return 0.0
        i, a = k - 1, st.arrays  # Python floats: the same IEEE arithmetic, without numpy scalars
        busy = a["utilization"].item(i) * a["servers"].item(i)
        waiting = a["p_wait"].item(i) * st.lam_rps.item(i) / max(a["wait_rate_per_s"].item(i), 1e-12)
        if a["band"].item(i):
            waiting = 0.0
        return float(a["backlog"].item(i) + waiting + busy)

    # ---------------------------------------------------------------------------- results
    def finish(self) -> TrafficTables:
        """The run summary and the per-tick tables (built into DataFrames when first read)."""
        self.finish_all()
        self._tick_columns = {}  # the services' latency parameters, shared by their routes
        latency: dict[_LatencyKey, np.ndarray] = {}
        routes, route_summary = self._routes(latency)
        services = self._service_frame(latency)
        queues, queue_summary = self._queues()
        summary = {**route_summary, **queue_summary}
        windows = Deferred(_slo_window_table, (self._window_parts,))
        self._tick_columns = {}  # the tables hold what they need; these were only the routes' inputs
        return TrafficTables(
            services=services, routes=routes, queues=queues, slo_windows=windows, summary=summary
        )

    def _service_frame(self, latency: dict[_LatencyKey, np.ndarray]) -> Deferred:
        """Each service's table, with its latency as a one-visit route (a route's, if it is one)."""
        parts = []
        latency_of = ContentMemo(route_latency, share=True)  # once per distinct (service, capacity) content
        for st in self.services.values():
            q = latency.get((((st.name, 1),), 0.0))
            if q is None:
                q = latency_of(_local_queue_keys([self._component(st, 1)]), 0.0, [self._columns(st)])
            a = st.arrays
            columns = ("servers", "utilization", "p_wait", "mean_wait_s", "served", "backlog", "timed_out")
            parts.append((st.name, st.lam_rps, st.concurrency, {k: a[k] for k in columns}, q))
        return Deferred(_service_table, (self.t_s, self.tick_s, parts))

    def _columns(self, st: _Stream) -> _Columns:
        """`tick_columns` of a service, computed once per `finish` per distinct input (the streams'
        arrays are shared by content after `finish_all`, so copies of a service are one entry)."""
        inputs = tuple(st.arrays[k] for k in _LATENCY_FIELDS)
        key = (*map(id, inputs), np.float64(st.timeout_s).tobytes())
        hit = self._tick_columns.get(key)
        if hit is None or any(x is not y for x, y in zip(hit[0], inputs, strict=True)):
            columns = tick_columns(self._component(st, 1))
            p, rate, fluid, start, slope, sd = (self._pool.intern(c) for c in columns)
            hit = self._tick_columns[key] = (inputs, (p, rate, fluid, start, slope, sd))
        return hit[1]

    def _component(self, st: _Stream, calls: int) -> Component:
        a = st.arrays
        return Component(
            p_wait=a["p_wait"],
            wait_rate_per_s=a["wait_rate_per_s"],
            mean_service_s=st.mean_service_s,
            fluid_delay_s=a["fluid_wait_s"],
            service_cv=st.service_cv,
            calls=calls,
            utilization=a["utilization"],
            queue=st.name,
            fluid_start_s=a["fluid_start_s"],
            fluid_slope_s=a["fluid_slope_s"],
            fluid_sd_s=a["fluid_sd_s"],
            fluid_cap_s=st.timeout_s,
            wait_cap_s=st.timeout_s if gives_up_within_tick(st.timeout_s, self.dt) else math.inf,
        )

    def _routes(self, latency: dict[_LatencyKey, np.ndarray]) -> tuple[Deferred, dict[str, float]]:
        """Each route's table and summary; `latency` collects the per-tick quantiles by path."""
        parts, summary, window_parts = [], {}, []
        total_req = total_err = 0.0
        req_t, err_t = np.zeros(self.n_ticks), np.zeros(self.n_ticks)
        windows_of = ContentMemo(route_windows, share=True)  # once per distinct (path, capacity) content
        for route in self.scenario.traffic.routes:
            offered = self._pool.intern(route.share * self.load_rps * self.tick_s)
            ok = np.ones_like(offered)
            comps, columns = [], []
            for step in route.path:
                st = self.services[step.service]
                arrivals = st.lam_rps * self.tick_s
                with np.errstate(divide="ignore", invalid="ignore"):
                    fail = np.where(arrivals > 0, st.arrays["timed_out"] / arrivals, 0.0)
                ok *= (1.0 - np.clip(fail, 0.0, 1.0)) ** step.calls
                comps.append(self._component(st, step.calls))
                columns.append(self._columns(st))
            comps = _local_queue_keys(comps)
            self._split_ok(route.path, ok)
            errors = self._pool.intern(offered * (1.0 - ok))
            objective = latency_objective(self.scenario.slos, route)
            q, windows, stats = windows_of(
                comps,
                columns,
                route.network_overhead,
                self._window_ticks(objective),
                objective,
                offered,
                errors,
                _fail_at(route, self.services),
            )
            path = tuple((step.service, step.calls) for step in route.path)
            latency[path, float(route.network_overhead)] = q
            parts.append((route.name, route.share, offered, errors, q))
            window_parts.append((route.name, windows))
            req, err = float(offered.sum()), float(errors.sum())
            total_req, total_err = total_req + req, total_err + err
            req_t, err_t = req_t + offered, err_t + errors
            summary.update({f"{k}.{route.name}": v for k, v in stats.items()})
            if objective is not None:
                summary[f"p95_breach_s.{route.name}"] = float(
                    self.tick_s[~(q[:, 1] <= objective.target_s)].sum()
                )
            summary[f"availability.{route.name}"] = 1.0 - err / req if req else 1.0
        summary["requests"] = total_req
        summary["errors"] = total_err
        summary["availability"] = 1.0 - total_err / total_req if total_req else 1.0
        slos = self.scenario.slos
        budget = availability_budget(
            self.t_s, self.tick_s, req_t, err_t, slos.availability, slos.availability_window
        )
        summary["availability_window"] = budget.availability
        summary["error_budget"] = budget.error_budget
        summary["error_budget_used"] = budget.used
        self._window_parts = window_parts
        return Deferred(_route_table, (self.t_s, self.load_rps, parts)), summary

    def _window_ticks(self, objective: Objective | None) -> _WindowTicks:
        """The ticks' times and lengths, and the window of each (the objective's, else 5 minutes)."""
        return _WindowTicks(self.t_s, self.tick_s, objective.window_s if objective else WORST_WINDOW_S)

    def _split_ok(self, path: list[RouteStep], ok: np.ndarray) -> None:
        """Share of a route's requests that succeed, redone for ticks where a service changed servers.

        Elsewhere a tick's failures are spread over it, and the visits' successes multiply; in a
        split tick they are concentrated in part of it (a 35 s failover in a 60 s tick fails every
        request of those 35 s, once, however many calls it makes), so the product is taken at each
        instant and averaged over the tick.
        """
        split = sorted({i for step in path for i in self.services[step.service].split_fail})
        for i in split:
            cuts = sorted(
                {0.0, *(o for step in path for o, _ in self.services[step.service].split_fail.get(i, []))}
            )
            edges = np.array([*cuts, self.dt])
            share = np.ones(len(cuts))
            for step in path:
                st = self.services[step.service]
                a = st.lam_rps[i] * self.tick_s[i]
                if i in st.split_fail:
                    offs, fail = zip(*st.split_fail[i], strict=True)
                    at = np.searchsorted(np.array(offs), edges[:-1], side="right") - 1
                    f = np.asarray(fail)[at]
                else:
                    f = np.full(len(cuts), st.arrays["timed_out"][i] / a if a > 0 else 0.0)
                share *= (1.0 - np.clip(f, 0.0, 1.0)) ** step.calls
            ok[i] = float(np.diff(edges) @ share) / self.dt

    def _queues(self) -> tuple[Deferred, dict[str, float]]:
        parts, summary = [], {}
        for st in self.queues.values():
            a = st.arrays
            wait = self._pool.intern(np.stack([_wait_quantile(a, 0.95), _wait_quantile(a, 0.99)], axis=1))
            arrivals = self._pool.intern(st.lam_rps * self.tick_s)
            columns = ("lost", "served", "backlog", "servers", "utilization")
            parts.append((st.name, arrivals, st.concurrency, {k: a[k] for k in columns}, wait))
            summary[f"tasks.{st.name}"] = float(arrivals.sum())
            summary[f"tasks_lost.{st.name}"] = float(a["lost"].sum())
            summary[f"max_task_age_s.{st.name}"] = float(wait[:, 1].max()) if wait.size else 0.0
        return Deferred(_queue_table, (self.t_s, parts)), summary


class TrafficTables(dict[str, Any]):
    """What `TrafficModel.finish` returns: "summary", and the "services", "routes", "queues" tables.

    The tables are kept as `Deferred` and built into DataFrames when first read with `[]` or
    `get`; `raw(name)` hands a table over as it is (`simkit.api.build_result` passes it on
    unbuilt). Iterating over values or items gives them as stored.
    """

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, Deferred):
            value = value.build()
            self[key] = value
        return value

    def get(self, key: str, default: Any = None, /) -> Any:
        if key not in self:
            return default
        return self[key]

    def raw(self, key: str) -> Any:
        """The entry without building it: a `Deferred` table, or what `[]` already built."""
        return super().__getitem__(key)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


_StreamPart = tuple[str, np.ndarray, float, dict[str, np.ndarray], np.ndarray]
"""A stream's table inputs: name, rate or arrivals, servers per pod, per-tick arrays, quantiles."""


def _stacked(
    label: str, parts: list[Any], n: int, specs: dict[str, Any], columns: Sequence[str] | None
) -> pd.DataFrame:
    """A per-tick table of several parts (services, queues), built column by column: each column one
    concatenation of the parts' arrays (no frame per part and a concat of them: one copy, not two).
    `specs`: column -> function of a part (None for the `label` column, the part's name first);
    `columns`: only these (in the table's order), e.g. the few the CPU-use estimates read."""
    if not parts:
        return pd.DataFrame()
    data: dict[str, np.ndarray] = {}
    for column, value in specs.items():
        if columns is not None and column not in columns:
            continue
        if value is None:
            data[column] = np.repeat(np.array([part[0] for part in parts], dtype=object), n)
        else:
            data[column] = np.concatenate([np.broadcast_to(value(part), (n,)) for part in parts])
    return pd.DataFrame(data, copy=False)  # the columns are fresh concatenations: no copy of a copy


def _service_table(
    t_s: np.ndarray, tick_s: np.ndarray, parts: list[_StreamPart], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The services table: one row per service and tick (only `columns`, if given)."""
    specs: dict[str, Any] = {
        "t_s": lambda p: t_s,
        "service": None,
        "load_rps": lambda p: p[1],
        "ready_replicas": lambda p: p[3]["servers"] / p[2],
        "utilization": lambda p: p[3]["utilization"],
        "p_wait": lambda p: p[3]["p_wait"],
        "wait_ms_mean": lambda p: 1000 * p[3]["mean_wait_s"],
        "latency_p50_ms": lambda p: 1000 * p[4][:, 0],
        "latency_p95_ms": lambda p: 1000 * p[4][:, 1],
        "latency_p99_ms": lambda p: 1000 * p[4][:, 2],
        "arrivals": lambda p: p[1] * tick_s,
        "served": lambda p: p[3]["served"],
        "backlog": lambda p: p[3]["backlog"],
        "timeouts": lambda p: p[3]["timed_out"],
    }
    return _stacked("service", parts, t_s.size, specs, columns)


USAGE_COLUMNS = {
    "services": ("t_s", "service", "ready_replicas", "served"),
    "queues": ("t_s", "queue", "completed", "consumers"),
}
"""What the CPU-use estimates (`analysis.burstable.workload_cpu_use`, cost allocation) read of the
services and queues tables: `usage_table` builds only these."""


def usage_columns(
    services: Any, queues: Any
) -> (
    tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]], dict[str, tuple[np.ndarray, np.ndarray]]]
    | None
):
    """What `analysis.burstable.cpu_use` reads, straight from the unbuilt services and queues tables:
    the ticks, and per service (queue) its ready replicas (consumers) and served (completed) per tick,
    the same arrays the tables' columns hold. None when a table is built already (read it instead)."""
    if not all(isinstance(t, Deferred) for t in (services, queues)):
        return None
    if services.fn is not _service_table or queues.fn is not _queue_table:
        return None
    t_s, _, service_parts = services.args
    _, queue_parts = queues.args
    if not service_parts:
        return None  # no services: the tables' path (an empty table) decides

    def per_part(parts: list[_StreamPart]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {p[0]: (p[3]["servers"] / p[2], p[3]["served"]) for p in parts}

    return t_s, per_part(service_parts), per_part(queue_parts)


def usage_table(table: Any, name: str) -> pd.DataFrame:
    """The services or queues table as the CPU-use estimates read it: a deferred one built with only
    `USAGE_COLUMNS` (the same values as in the whole table), a built one as it is."""
    if isinstance(table, Deferred) and table.fn in (_service_table, _queue_table):
        return table.fn(*table.args, columns=USAGE_COLUMNS[name])
    return table.build() if isinstance(table, Deferred) else table


RouteColumns = tuple[str, np.ndarray, np.ndarray, np.ndarray]
"""One route's (name, requests, errors, P95 seconds) per tick."""


def deferred_route_parts(table: Any) -> tuple[np.ndarray, list[RouteColumns]] | None:
    """A routes table not built yet as (tick times, per route (name, requests, errors, P95 s)), the
    arrays its `requests`, `errors` and `p95_ms` (= 1000 x P95 s) columns are made of; None when the
    table is built (or is not a routes table)."""
    if not isinstance(table, Deferred) or table.fn is not _route_table:
        return None
    t_s, _load, parts = table.args
    return t_s, [(name, offered, errors, q[:, 1]) for name, _share, offered, errors, q in parts]


def _route_table(
    t_s: np.ndarray, load_rps: np.ndarray, parts: list[tuple[str, float, np.ndarray, np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The routes table: one row per route and tick."""
    frames = []
    for name, share, offered, errors, q in parts:
        frames.append(
            pd.DataFrame(
                {
                    "t_s": t_s,
                    "route": name,
                    "load_rps": share * load_rps,
                    "requests": offered,
                    "errors": errors,
                    "p50_ms": 1000 * q[:, 0],
                    "p95_ms": 1000 * q[:, 1],
                    "p99_ms": 1000 * q[:, 2],
                }
            )
        )
    return _concat(frames)


PLAN_QUEUE_COLUMNS = ("t_s", "queue", "arrivals", "lost", "wait_p95_s")  # what a plan's window reads


def queue_rows(table: Any, names: Sequence[str]) -> pd.DataFrame:
    """The rows of the queues `names` in the queue table, with the columns a plan's window reads:
    built from those queues' arrays alone when the table is not built yet (a month is ~10^5 rows)."""
    if isinstance(table, Deferred) and table.fn is _queue_table:
        t_s, parts = table.args
        return _queue_table(t_s, [p for p in parts if p[0] in names], PLAN_QUEUE_COLUMNS)
    built = table.build() if isinstance(table, Deferred) else table
    if built.empty:
        return built
    return built.loc[built["queue"].isin(names), list(PLAN_QUEUE_COLUMNS)].reset_index(drop=True)


def _queue_table(
    t_s: np.ndarray, parts: list[_StreamPart], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The task-queue table: one row per queue and tick (only `columns`, if given)."""
    specs: dict[str, Any] = {
        "t_s": lambda p: t_s,
        "queue": None,
        "arrivals": lambda p: p[1],
        "lost": lambda p: p[3]["lost"],
        "completed": lambda p: p[3]["served"],
        "backlog": lambda p: p[3]["backlog"],
        "consumers": lambda p: p[3]["servers"] / p[2],
        "utilization": lambda p: p[3]["utilization"],
        "wait_p95_s": lambda p: p[4][:, 0],
        "oldest_s": lambda p: p[4][:, 1],
    }
    return _stacked("queue", parts, t_s.size, specs, columns)


def _local_queue_keys(comps: list[Component]) -> list[Component]:
    """The components with their queue keys renamed by first visit ("q0", "q1", ...).

    A queue key only says which visits of one route share a queue (their waits are correlated);
    the service's own name adds nothing to the latency, and it would make copies of one service
    chain on one capacity timeline differ in content, so `ContentMemo` could not reuse them.
    """
    local: dict[str, str] = {}
    return [
        dataclasses.replace(c, queue=local.setdefault(c.queue, f"q{len(local)}")) if c.queue else c
        for c in comps
    ]


def pod_servers(workload: Workload, service_time_s: float) -> tuple[int, float]:
    """A pod as queueing servers: (servers per ready pod, mean service time of each), no capacity lost.

    A pod whose CPU allows p = `servers_per_pod` requests at once (p not a whole number, e.g. 0.25
    with a 100m limit) has ceil(p) servers, each served at p / ceil(p) of full speed: CFS bandwidth
    control gives the pod `p` requests' worth of CPU per period, shared by what is in progress, so
    each request's service time is stretched by ceil(p) / p and the pod still completes p / service
    time requests per second. A whole p is p full-speed servers, as before.
    """
    p = servers_per_pod(workload, service_time_s)
    whole = round(p)
    if whole >= 1 and abs(p - whole) <= 1e-9 * whole:
        return int(whole), service_time_s
    slots = max(1, math.ceil(p))
    return slots, service_time_s * slots / p


def servers_per_pod(workload: Workload, service_time_s: float) -> float:
    """How many requests a pod serves at once: its concurrency, unless its CPU runs out first.

    A request holds a server for `service_time_s`, of which `cpu_per_request` is CPU time; a pod
    with `cpu` cores (its limit, else its request) can keep at most cpu x service_time / cpu_time
    requests in progress before requests queue for CPU rather than for a worker.
    """
    s = workload.serving
    if s.cpu_per_request <= 0:
        return float(s.concurrency)
    res = workload.resources
    cores = (res.limits.cpu if res.limits is not None and res.limits.cpu else res.requests.cpu) / 1000
    if cores <= 0:
        return float(s.concurrency)
    return min(float(s.concurrency), cores * service_time_s / s.cpu_per_request)


def _merge_waits(col: dict[str, np.ndarray], weights: np.ndarray) -> tuple[float, float, float, float]:
    """(P(wait), wait rate, fluid delay, mean wait) of a tick made of stretches with these waits.

    Each stretch's wait is fluid + Bernoulli(p)·Exp(rate); the tick's is their mixture, weighted by
    the requests each stretch served. When the stretches agree it is theirs exactly; otherwise the
    mixture's first two moments are matched (`critical_band.wait_shape`, as for band ticks).
    """
    p, rate, fluid = col["p_wait"], col["wait_rate_per_s"], col["fluid_wait_s"]
    keep = weights > 0
    w = weights[keep] / weights[keep].sum()
    mean = float(w @ col["mean_wait_s"][keep])
    p, rate, fluid = p[keep], rate[keep], fluid[keep]
    if np.all(p == p[0]) and np.all(rate == rate[0]) and np.all(fluid == fluid[0]):
        return float(p[0]), float(rate[0]), float(fluid[0]), mean
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(p > 0, p / rate, 0.0)  # E[Bernoulli(p)·Exp(rate)]
        tail2 = np.where(p > 0, 2.0 * p / (rate * rate), 0.0)
    m1 = float(w @ (fluid + tail))
    m2 = float(w @ (fluid * fluid + 2.0 * fluid * tail + tail2))
    if not (math.isfinite(m1) and math.isfinite(m2)):
        return 1.0, 0.0, float(w @ fluid), math.inf
    pm, rm, shift = wait_shape(np.array([m1]), np.array([m2]))
    return float(pm[0]), float(rm[0]), float(shift[0]), mean


def _wait_quantile(a: dict[str, np.ndarray], q: float) -> np.ndarray:
    """Quantile of a queue's wait: the fluid delay plus a zero-inflated exponential (closed form)."""
    p, rate = a["p_wait"], a["wait_rate_per_s"]
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(p > 1 - q, np.log(p / (1 - q)) / np.where(rate > 0, rate, np.nan), 0.0)
    return np.asarray(a["fluid_wait_s"] + np.where(np.isfinite(tail), tail, np.inf), dtype=float)


def _significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Round to `digits` significant digits (0 and inf kept), so near-identical ticks coincide."""
    with np.errstate(all="ignore"):
        mag = np.where((x != 0) & np.isfinite(x), np.floor(np.log10(np.abs(x))), 0.0)
        scale = 10.0 ** (digits - 1 - mag)
        rounded = np.round(x * scale) / scale
    return np.where(np.isfinite(x) & np.isfinite(scale) & (scale > 0), rounded, x)


def tick_columns(comp: Component) -> _Columns:
    """A service's (P(wait), wait rate, fluid delay, its ramp's start, growth and spread) per tick, rounded
    as `_unique_ticks` compares them (no ramp given: the delay itself, growth 0)."""
    p = np.asarray(comp.p_wait, dtype=float)
    p = np.where(p < 1e-7, 0.0, _significant(p, 3))
    rate = np.where(p > 0, _significant(np.asarray(comp.wait_rate_per_s, dtype=float), 3), 0.0)
    fluid = np.round(np.asarray(comp.fluid_delay_s, dtype=float), 4)
    if comp.fluid_start_s is None:
        return p, rate, fluid, fluid, np.zeros(np.shape(fluid)), np.zeros(np.shape(fluid))
    start = np.asarray(comp.fluid_start_s, dtype=float)
    slope = np.broadcast_to(np.asarray(comp.fluid_slope_s, dtype=float), start.shape)
    spread = np.broadcast_to(np.asarray(comp.fluid_sd_s, dtype=float), start.shape)
    cap = float(comp.fluid_cap_s)
    # where the delay does not move within the tick it is the fluid delay: one row, not one per λ
    moving = ((slope < 0) & (start > 0)) | ((slope > 0) & (start < cap)) | (spread > 0)
    return (
        p,
        rate,
        fluid,
        np.where(moving, np.round(start, 4), fluid),
        np.where(moving, np.round(slope, 4), 0.0),
        np.where(moving, np.round(spread, 4), 0.0),
    )


def _unique_ticks(
    comps: list[Component], columns: list[_Columns] | None = None
) -> tuple[list[Component], np.ndarray]:
    """Collapse ticks whose latency parameters agree to 3 significant digits (and P(wait) < 1e-7 to 0).

    Latency depends on a tick only through `tick_columns` of each visited service;
    under steady capacity most ticks repeat, so the distributions are computed once per distinct row.
    `columns`, if given, are the components' `tick_columns` (computed once per service per run).
    """
    triples = columns if columns is not None else [tick_columns(c) for c in comps]
    # a service whose fluid delay never moves within a tick needs no ramp columns (the common case)
    ramps = [bool(np.any(t[4]) or np.any(t[5])) for t in triples]
    cols = [x for triple, ramp in zip(triples, ramps, strict=True) for x in triple[: _NCOL if ramp else 3]]
    rows, inverse = _unique_rows(np.stack(np.broadcast_arrays(*cols), axis=1))
    first = np.zeros(rows.shape[0], dtype=np.intp)  # a tick of each row, for its utilization
    first[inverse[::-1]] = np.arange(inverse.size)[::-1]
    reduced, at = [], 0
    for c, ramp in zip(comps, ramps, strict=True):
        zero = np.zeros(rows.shape[0])
        reduced.append(
            replace(
                c,
                p_wait=rows[:, at],
                wait_rate_per_s=rows[:, at + 1],
                fluid_delay_s=rows[:, at + 2],
                fluid_start_s=rows[:, at + 3] if ramp else rows[:, at + 2],
                fluid_slope_s=rows[:, at + 4] if ramp else zero,
                fluid_sd_s=rows[:, at + 5] if ramp else zero,
                utilization=_take(c.utilization, first, inverse.size),
            )
        )
        at += _NCOL if ramp else 3
    return reduced, inverse


def _take(x: ArrayLike | None, idx: np.ndarray | slice, n: int) -> np.ndarray | None:
    """Per-tick array `x` (broadcast to n ticks) at `idx`; None stays None."""
    return None if x is None else np.broadcast_to(np.asarray(x, dtype=float), (n,))[idx]


def _unique_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(table, axis=0, return_inverse=True)` of a float table, by a lexicographic argsort.

    The same rows in the same order, and the same inverse: np.unique sorts the rows as structured
    records compared field by field, which takes seconds on a month of ticks. Tables with NaN go
    to np.unique (NaN rows never merge there; kept exact rather than reasoned about).
    """
    if table.shape[0] == 0 or np.isnan(table).any():
        rows, inverse = np.unique(table, axis=0, return_inverse=True)
        return rows, inverse.reshape(-1)
    order = np.lexsort(table.T[::-1])  # first column first, as np.unique compares fields
    ordered = table[order]
    first = np.empty(order.size, dtype=bool)
    first[0] = True
    np.any(ordered[1:] != ordered[:-1], axis=1, out=first[1:])
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def route_latency(comps: list[Component], hop_s: float, columns: list[_Columns] | None = None) -> np.ndarray:
    """Per-tick P50/P95/P99 of the served requests (seconds, shape ticks x 3).

    `columns`: the components' `tick_columns`, if already computed.
    """
    reduced, inverse = _unique_ticks(comps, columns)
    return np.asarray(RouteLatency(reduced, hop_overhead_s=hop_s, keep_ticks=0).quantiles(QUANTILES))[inverse]


class _WindowTicks(NamedTuple):
    """The ticks' start times and lengths, and the window length they are grouped by."""

    t_s: np.ndarray
    tick_s: np.ndarray
    window_s: float


@dataclass(frozen=True)
class RouteWindows:
    """One route per window: start, length, requests, errors, P95 of all requests (s), target met."""

    start_s: np.ndarray
    duration_s: np.ndarray
    requests: np.ndarray
    errors: np.ndarray
    p95_s: np.ndarray  # NaN: no request in the window; inf: beyond every timeout
    met: np.ndarray | None  # None: the route has no latency target


def route_windows(
    comps: list[Component],
    columns: list[_Columns],
    hop_s: float,
    ticks: _WindowTicks,
    objective: Objective | None,
    offered: np.ndarray,
    errors: np.ndarray,
    fail_at_s: float,
) -> tuple[np.ndarray, RouteWindows, dict[str, float]]:
    """A route's per-tick quantiles, its windows, and its summary figures (ms and s).

    Every window's P95 (and the whole run's) is the 0.95-quantile of the mixture of its ticks'
    latency distributions weighted by the requests served in each, with the failed requests at
    `fail_at_s` (see `simkit.traffic.windows`). Whether a window meets the target is read from
    that mixture's CDF at the target itself, which is a point of the grid: exact, not interpolated.
    """
    reduced, inverse = _unique_ticks(comps, columns)
    model = RouteLatency(reduced, hop_overhead_s=hop_s, keep_ticks=POOL_CHUNK)
    q_rows = np.asarray(model.quantiles(QUANTILES))
    served = np.clip(offered - errors, 0.0, None)
    weights = np.bincount(inverse, weights=served, minlength=q_rows.shape[0])
    target = objective.target_s if objective is not None else None
    grid = _pool_grid(q_rows[:, 2], weights, target, fail_at_s)
    n_rows = q_rows.shape[0]

    def row_cdf(a: int, b: int) -> np.ndarray:
        if n_rows <= POOL_CHUNK:
            return np.asarray(model.cdf(grid))
        return np.asarray(sojourn_cdf(_slice(reduced, slice(a, b)), grid, hop_overhead_s=hop_s))

    bins, n = window_bins(ticks.t_s, ticks.window_s)
    sets = [(bins, n), (np.zeros_like(bins), 1)]
    if ticks.window_s != WORST_WINDOW_S:
        sets.append(window_bins(ticks.t_s, WORST_WINDOW_S))
    pooled = pool(row_cdf, n_rows, inverse, served, errors, sets, grid.size, POOL_CHUNK)
    win, whole = pooled[0], pooled[1]
    p95 = win.quantile(grid, fail_at_s, 0.95)
    duration = np.bincount(bins, weights=ticks.tick_s, minlength=n)[:n]
    five = p95 if len(pooled) == 2 else pooled[2].quantile(grid, fail_at_s, 0.95)
    stats = {
        "p95_ms": 1000 * float(whole.quantile(grid, fail_at_s, 0.95)[0]),
        "p95_worst_5m_ms": 1000 * _nanmax(five),
    }
    met = None
    if target is not None and objective is not None:
        met = p95 <= target  # exact: the target is a grid point (see `Pooled.quantile`)
        has = win.requests > 0
        time = float(duration[has].sum())
        stats["p95_window_ms"] = 1000 * time_quantile(p95, duration, objective.compliance)
        stats["p95_worst_window_ms"] = 1000 * _nanmax(p95)
        stats["p95_compliance"] = float(duration[has & met].sum()) / time if time > 0 else 1.0
        stats["p95_over_s"] = float(duration[has & ~met].sum())
    start = np.arange(n) * ticks.window_s
    return q_rows[inverse], RouteWindows(start, duration, win.requests, win.failed, p95, met), stats


def _nanmax(x: np.ndarray) -> float:
    ok = ~np.isnan(x)
    return float(x[ok].max()) if ok.any() else float("nan")


def _pool_grid(p99: np.ndarray, weights: np.ndarray, target: float | None, fail_at_s: float) -> np.ndarray:
    """Where the pooled CDFs are evaluated: [0, 1.5 x the largest tick P99] in POOL_GRID steps, the
    target (so a window's verdict is read exactly), and up to the failed requests' latency."""
    finite = p99[np.isfinite(p99) & (weights > 0)]
    top = 1.5 * float(finite.max()) if finite.size else (target or 1.0)
    points = [np.linspace(0.0, top, POOL_GRID)]
    if target is not None:
        points.append(np.array([target]))
    if math.isfinite(fail_at_s):
        points.append(np.array([fail_at_s * (1 - 1e-9), fail_at_s]))
        if fail_at_s > top:
            points.append(np.geomspace(top, fail_at_s, 64))
    return np.unique(np.concatenate(points))


def _slice(comps: list[Component], sl: slice) -> list[Component]:
    return [
        replace(
            c,
            p_wait=np.asarray(c.p_wait)[sl],
            wait_rate_per_s=np.asarray(c.wait_rate_per_s)[sl],
            fluid_delay_s=np.asarray(c.fluid_delay_s)[sl],
            fluid_start_s=_take(c.fluid_start_s, sl, np.asarray(c.p_wait).shape[0]),
            fluid_slope_s=np.broadcast_to(np.asarray(c.fluid_slope_s, dtype=float), np.shape(c.p_wait))[sl],
            fluid_sd_s=np.broadcast_to(np.asarray(c.fluid_sd_s, dtype=float), np.shape(c.p_wait))[sl],
            utilization=_take(c.utilization, sl, np.asarray(c.p_wait).shape[0]),
        )
        for c in comps
    ]


_TAKES_SCV = "arrival_scv" in inspect.signature(service_ticks).parameters
"""Whether the fast mode's queueing takes the arrivals' variability (issue 15; Poisson before)."""


def _trace_dispersion(
    scenario: Scenario, t_s: np.ndarray, tick_s: np.ndarray, load_rps: np.ndarray, base_dir: Path | None
) -> np.ndarray | None:
    """Per-tick index of dispersion of an events trace's arrivals as replayed at `load_rps`; else None."""
    events = trace_events(scenario.traffic.load, t_s, base_dir, tick_s=scenario.simulation.resolution)
    if events is None:
        return None
    return arrival_dispersion(events, t_s, tick_s, replay_multiplier(events, t_s, tick_s, load_rps))


def _fail_at(route: Route, services: dict[str, _Stream]) -> float:
    """The route's timeout as its client sees it: its first service's (the entry point, e.g. the
    ingress gateway, answers 504 when it runs out). Failed requests enter the latency distribution
    there, and no request takes longer (see `simkit.traffic.windows.Pooled.cdf`)."""
    return services[route.path[0].service].timeout_s


def _slo_window_table(parts: list[tuple[str, RouteWindows]]) -> pd.DataFrame:
    """The slo_windows table: one row per route and window (the route's latency window)."""
    frames = []
    for name, w in parts:
        met = (
            pd.array([pd.NA] * w.start_s.size, dtype="boolean")
            if w.met is None
            else pd.array(w.met, dtype="boolean")
        )
        frames.append(
            pd.DataFrame(
                {
                    "t_s": w.start_s,
                    "route": name,
                    "window_s": w.duration_s,
                    "requests": w.requests,
                    "errors": w.errors,
                    "p95_ms": 1000 * w.p95_s,
                    "met": met,
                }
            )
        )
    return _concat(frames)
