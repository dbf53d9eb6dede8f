"""Request-level mode: one SimPy process per request (or task), over a fast-mode run's cluster timeline.

The fast mode (`simkit.engine.traffic`) computes latency per tick in closed form. This module replays
the same run request by request, to validate it: the same ticks, the same ready servers per service
per tick (read back from `RunResult.services`), the same route load (`RunResult.routes.load_rps`), the
same routes and service-time distributions. Each station is an FCFS queue with `c(t)` servers:

- arrivals are Poisson per tick (a Poisson count, placed uniformly in the tick), except under an
  events trace (`load.trace.format: events`, one row per request): then the routes' requests are
  the trace's own timestamps inside the run (`simkit.traffic.load.trace_events`), each replayed
  floor(m) times and once more with probability frac(m), m = the tick's scaled rate over the
  trace's (1 for an unscaled trace: every request exactly once), and handed to a route with
  probability proportional to the route's rate; task queues stay Poisson;
- a request visits its route's services in order, `calls` times each; each visit holds one server
  for a service time drawn from the service's distribution (exponential for cv = 1, deterministic
  for cv = 0, lognormal otherwise), whose mean is stretched as the fast mode stretches it when a
  pod's CPU allows a fraction of a request more (`traffic.pod_servers`: a pod with CPU for 0.25
  requests is one server at a quarter of full speed, one with 1.5 is two at three quarters); the
  route's `network_overhead` per visit is added to the latency (a fixed delay, as in the fast
  mode, so it is not scheduled as an event);
- a request whose wait at a service exceeds that service's `timeout` gives up: an error. It is
  removed lazily: when it reaches a server after its deadline it releases it at once, which leaves
  every other request's timing exactly as if it had left the queue at its deadline;
- capacity follows the timeline through `_Station.set_capacity`: when servers go away, requests in
  service finish and no new one starts until fewer than `c` are busy; when servers come, waiting
  requests start at once;
- task queues (`traffic.queues`) are simulated the same way, one process per task, no timeout.

After the last tick no new requests arrive and the run continues until every request is done
(capacity stays at the last tick's). Requests and errors are counted by arrival tick.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from simkit.engine.traffic import pod_servers
from simkit.results import RunResult
from simkit.scenario.model import Scenario
from simkit.traffic.load import replay_multiplier, trace_events

QUANTILES = (0.5, 0.95, 0.99)
_PENDING, _OK, _ERROR = 0, 1, 2
_Tick = tuple[int, np.ndarray, np.ndarray, np.ndarray]  # tick, arrival times, flow ids, service times


@dataclass
class Timeline:
    """What a run fixes before traffic: ticks, load per route/queue, servers per station per tick."""

    t_s: np.ndarray
    tick_s: np.ndarray
    route_rps: dict[str, np.ndarray]
    service_servers: dict[str, np.ndarray]
    queue_rps: dict[str, np.ndarray] = field(default_factory=dict)
    queue_servers: dict[str, np.ndarray] = field(default_factory=dict)
    events_s: np.ndarray | None = None
    """An events trace's unscaled request times inside the run: replayed instead of Poisson arrivals."""


@dataclass
class RequestLevelResult:
    """Request-level tables in the fast mode's shape, plus the whole-run summary.

    `routes`: t_s, route, load_rps, requests, errors, p50_ms, p95_ms, p99_ms (by arrival tick).
    `services`: t_s, service, servers, visits, timeouts, wait_ms_mean (by queue-entry tick).
    `queues`: t_s, queue, consumers_servers, arrivals, completed, wait_p95_s, wait_mean_s.
    `summary`: p95_ms.<route>, availability.<route>, requests, errors, availability,
    max_task_age_s.<queue>, simulated_s.
    `latency_s`: per route, every request's latency in arrival order (NaN: an error), and
    `arrival_s`: its arrival time (for whole-run or per-window quantiles of one's own choosing).
    """

    routes: pd.DataFrame
    services: pd.DataFrame
    queues: pd.DataFrame
    summary: dict[str, float]
    latency_s: dict[str, np.ndarray] = field(default_factory=dict)
    arrival_s: dict[str, np.ndarray] = field(default_factory=dict)


# ------------------------------------------------------------------------------- the timeline
def timeline_from_result(result: RunResult, base_dir: Path | None = None) -> Timeline:
    """Ticks, loads and ready servers of a fast-mode run (servers = ready replicas x servers per pod).

    Under an events trace the timeline also carries its request times (read again, relative paths
    against `base_dir`, else the working directory).
    """
    sc = result.scenario
    routes = {name: g for name, g in result.routes.groupby("route", sort=False)}
    services = {name: g for name, g in result.services.groupby("service", sort=False)}
    any_frame = next(iter(routes.values()), None)
    if any_frame is None:
        any_frame = next(iter(services.values()))
    t_s = any_frame["t_s"].to_numpy(dtype=float)
    tick_s = np.minimum(sc.simulation.resolution, result.duration_s - t_s)
    route_rps = {r.name: routes[r.name]["load_rps"].to_numpy(dtype=float) for r in sc.traffic.routes}
    service_servers = {}
    for name, g in services.items():
        w = sc.workload(str(name))
        per_pod, _ = pod_servers(w, w.serving.service_time)
        service_servers[str(name)] = _servers(g["ready_replicas"].to_numpy(dtype=float), per_pod)
    queue_rps, queue_servers = {}, {}
    for q in sc.traffic.queues:
        g = result.queues[result.queues["queue"] == q.name]
        if g.empty:
            continue
        kept = g["arrivals"].to_numpy(dtype=float)
        if "lost" in g:  # tasks published while the broker had no quorum never reach the queue
            kept = kept - g["lost"].to_numpy(dtype=float)
        queue_rps[q.name] = np.maximum(kept, 0.0) / np.where(tick_s > 0, tick_s, 1.0)
        per_pod, _ = pod_servers(sc.workload(q.consumer), q.task_time)
        queue_servers[q.name] = _servers(g["consumers"].to_numpy(dtype=float), per_pod)
    events = trace_events(sc.traffic.load, t_s, base_dir, tick_s=float(sc.simulation.resolution))
    if events is not None:  # the last tick may be cut short by the run's end
        events = events[events < t_s[-1] + tick_s[-1]]
    return Timeline(t_s, tick_s, route_rps, service_servers, queue_rps, queue_servers, events)


def _servers(ready_replicas: np.ndarray, per_pod: int) -> np.ndarray:
    """Ready pods x servers per pod (`traffic.pod_servers`), as the fast mode counts them.

    The table's `ready_replicas` is the tick's time-weighted mean: a tick in which the ready count
    changed is replayed with the nearest whole number of servers (the fast mode splits it).
    """
    return np.rint(ready_replicas * per_pod).astype(np.int64)


# ------------------------------------------------------------------------------- the stations
class _Station(simpy.Resource):
    """An FCFS queue whose number of servers changes over time; per-tick visit counters."""

    def __init__(self, env: simpy.Environment, name: str, timeout_s: float, ticks: int) -> None:
        super().__init__(env, capacity=1)
        self._capacity = 0
        self.name = name
        self.timeout_s = timeout_s
        self.visits = [0] * ticks
        self.timeouts = [0] * ticks
        self.wait_sum = [0.0] * ticks

    def set_capacity(self, servers: int) -> None:
        """Change the number of servers: busy ones above it finish their request, new ones start work."""
        self._capacity = int(servers)
        while self.put_queue and len(self.users) < self._capacity:
            self._trigger_put(None)

    def free(self, req: simpy.resources.resource.Request) -> None:
        """Release a server now and hand it to the next waiting request (no Release event needed)."""
        self.users.remove(req)
        if self.put_queue:
            self._trigger_put(None)


@dataclass
class _Flow:
    """A route or a task queue: the stations a request visits and how its outcome is recorded."""

    name: str
    stations: list[_Station]
    cvs: list[float]
    means: list[float]
    rps: np.ndarray
    extra_s: float  # fixed delay added to the latency (network overhead x visits)
    is_queue: bool = False


@dataclass
class _Log:
    """Per-request outcome, indexed by request id (plain lists: no per-request numpy or pandas)."""

    flow: list[int] = field(default_factory=list)
    tick: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)  # latency (routes) or wait (tasks), seconds


class _Replay:
    """One request-level replay of a timeline."""

    def __init__(
        self,
        scenario: Scenario,
        timeline: Timeline,
        flows: list[_Flow],
        seed: int,
        stations: list[_Station],
        env: simpy.Environment,
        max_requests: int | None,
    ) -> None:
        self.scenario, self.tl, self.flows, self.stations, self.env = scenario, timeline, flows, stations, env
        counts_seq, times_seq, svc_seq, trace_seq = np.random.SeedSequence(seed).spawn(4)
        self.rng_counts = np.random.default_rng(counts_seq)
        self.rng_times = np.random.default_rng(times_seq)
        self.rng_service = np.random.default_rng(svc_seq)
        self.rng_trace = np.random.default_rng(trace_seq)  # the first three streams as before
        self.trace: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # times, ticks, flows
        self.dt = float(scenario.simulation.resolution)
        self.ticks = timeline.t_s.size
        self.max_requests = max_requests
        self.log = _Log()
        self.ticks_done = 0

    # ------------------------------------------------------------------------------ processes
    def capacity_controller(self, servers: list[np.ndarray]) -> Generator[Any, Any, None]:
        """Apply each station's server count at the start of every tick where it changes."""
        current = [-1] * len(self.stations)
        changes = np.unique(np.concatenate([[0], *[np.flatnonzero(np.diff(s)) + 1 for s in servers]]))
        for i in changes.tolist():
            if i >= self.ticks_done:
                return
            t = float(self.tl.t_s[i])
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            for k, st in enumerate(self.stations):
                c = int(servers[k][i])
                if c != current[k]:
                    current[k] = c
                    st.set_capacity(c)

    def source(self, plan: Iterator[_Tick]) -> Generator[Any, Any, None]:
        """Start one request process at each arrival time, tick after tick."""
        env, log = self.env, self.log
        for tick, times, flow_ids, services in plan:
            rows = services.tolist()
            for j, (t, f) in enumerate(zip(times.tolist(), flow_ids.tolist(), strict=True)):
                if t > env.now:
                    yield env.timeout(t - env.now)
                rid = len(log.status)
                log.flow.append(f)
                log.tick.append(tick)
                log.time.append(t)
                log.status.append(_PENDING)
                log.value.append(math.nan)
                env.process(self.request(rid, self.flows[f], rows[j]))

    def request(self, rid: int, flow: _Flow, service_s: list[float]) -> Generator[Any, Any, None]:
        """One request: visit each station in turn; give up if a wait exceeds the station's timeout."""
        env, dt, last = self.env, self.dt, self.ticks - 1
        t0 = env.now
        waited = 0.0
        for k, st in enumerate(flow.stations):
            t_q = env.now
            tick = min(int(t_q // dt), last)
            st.visits[tick] += 1
            req = st.request()
            yield req
            wait = env.now - t_q
            st.wait_sum[tick] += wait
            waited += wait
            if wait > st.timeout_s:
                st.free(req)
                st.timeouts[tick] += 1
                self.log.status[rid] = _ERROR
                return
            yield env.timeout(service_s[k])
            st.free(req)
        self.log.status[rid] = _OK
        self.log.value[rid] = waited if flow.is_queue else env.now - t0 + flow.extra_s

    # ---------------------------------------------------------------------------- arrivals
    def counts(self) -> np.ndarray:
        """Poisson arrivals per tick and flow (ticks x flows), cut at `max_requests` on a tick boundary."""
        rps = np.stack([np.maximum(f.rps, 0.0) for f in self.flows], axis=1)
        counts = self.rng_counts.poisson(rps * self.tl.tick_s[:, None])
        if self.tl.events_s is not None:
            counts = self._trace_counts(counts, rps)
        if self.max_requests is not None:
            total = np.cumsum(counts.sum(axis=1))
            keep = max(1, int(np.searchsorted(total, self.max_requests, side="right")))
            counts = counts[:keep]
        self.ticks_done = counts.shape[0]
        return counts

    def _trace_counts(self, counts: np.ndarray, rps: np.ndarray) -> np.ndarray:
        """Replay the trace's requests on the route flows (see the module doc); keep queue counts."""
        assert self.tl.events_s is not None
        ev, t_s, n = self.tl.events_s, self.tl.t_s, self.ticks
        routes = np.array([not f.is_queue for f in self.flows])
        route_rps = np.where(routes[None, :], rps, 0.0)
        total = route_rps.sum(axis=1)
        m = replay_multiplier(ev, t_s, self.tl.tick_s, total)
        tick = np.clip(np.searchsorted(t_s, ev, side="right") - 1, 0, n - 1)
        whole = np.floor(m[tick])
        copies = whole.astype(np.int64) + (self.rng_trace.random(ev.size) < m[tick] - whole)
        times, ticks = np.repeat(ev, copies), np.repeat(tick, copies)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.cumsum(np.where(total[:, None] > 0, route_rps / total[:, None], 0.0), axis=1)
        if int(routes.sum()) == 1:
            flows = np.full(times.size, int(np.argmax(routes)))
        else:
            u = self.rng_trace.random(times.size)  # inverse CDF over the tick's route shares
            last = int(np.flatnonzero(routes)[-1])
            flows = np.minimum((u[:, None] >= share[ticks]).sum(axis=1), last)
        order = np.lexsort((times, flows, ticks))
        self.trace = (times[order], ticks[order], flows[order])
        replayed = np.zeros_like(counts)
        np.add.at(replayed, (ticks, flows), 1)
        return np.where(routes[None, :], replayed, counts)

    def plan(self, counts: np.ndarray) -> Iterator[_Tick]:
        """Per tick: sorted arrival times, their flow ids and service times (drawn vectorised per tick)."""
        if self.trace is not None:
            yield from self._trace_plan(counts)
            return
        width = max(len(f.stations) for f in self.flows)
        ids_all = np.arange(len(self.flows))
        for i, row in enumerate(counts):
            n = int(row.sum())
            times = float(self.tl.t_s[i]) + self.rng_times.uniform(0.0, float(self.tl.tick_s[i]), n)
            order = np.argsort(times, kind="stable")
            services = np.zeros((n, width))
            start = 0
            for f, cnt in zip(self.flows, row.tolist(), strict=True):
                for k, (m, cv) in enumerate(zip(f.means, f.cvs, strict=True)):
                    services[start : start + cnt, k] = _draw(self.rng_service, m, cv, cnt)
                start += cnt
            yield i, times[order], np.repeat(ids_all, row)[order], services[order]

    def _trace_plan(self, counts: np.ndarray) -> Iterator[_Tick]:
        """`plan` under a trace: the route flows' times from the trace, the queue flows' uniform."""
        assert self.trace is not None
        times_all, ticks_all, _ = self.trace
        width = max(len(f.stations) for f in self.flows)
        ids_all = np.arange(len(self.flows))
        starts = np.searchsorted(ticks_all, np.arange(counts.shape[0]), side="left")
        for i, row in enumerate(counts):
            n = int(row.sum())
            times = np.empty(n)
            services = np.zeros((n, width))
            start, at = 0, int(starts[i])
            for f, cnt in zip(self.flows, row.tolist(), strict=True):
                if f.is_queue:
                    times[start : start + cnt] = float(self.tl.t_s[i]) + self.rng_times.uniform(
                        0.0, float(self.tl.tick_s[i]), cnt
                    )
                else:
                    times[start : start + cnt] = times_all[at : at + cnt]
                    at += cnt
                for k, (mean, cv) in enumerate(zip(f.means, f.cvs, strict=True)):
                    services[start : start + cnt, k] = _draw(self.rng_service, mean, cv, cnt)
                start += cnt
            order = np.argsort(times, kind="stable")
            yield i, times[order], np.repeat(ids_all, row)[order], services[order]

    def run(self) -> None:
        counts = self.counts()
        servers = [self._servers_of(st) for st in self.stations]
        self.env.process(self.capacity_controller(servers))
        self.env.process(self.source(self.plan(counts)))
        self.env.run()

    def _servers_of(self, st: _Station) -> np.ndarray:
        if st.name in self.tl.service_servers:
            return self.tl.service_servers[st.name]
        return self.tl.queue_servers[st.name.removeprefix("queue:")]


def _draw(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Service times: deterministic (cv 0), exponential (cv 1) or lognormal with this mean and cv."""
    if cv <= 0:
        return np.full(n, mean)
    if cv == 1.0:
        return rng.exponential(mean, n)
    sigma = math.sqrt(math.log1p(cv * cv))
    return rng.lognormal(math.log(mean) - sigma * sigma / 2.0, sigma, n)


# --------------------------------------------------------------------------------- building
def _build(
    scenario: Scenario, tl: Timeline, env: simpy.Environment, routes: list[str] | None
) -> tuple[list[_Flow], list[_Station]]:
    """Stations for every service and task queue in play, and one flow per simulated route/queue."""
    ticks = tl.t_s.size
    chosen = _route_closure(scenario, routes)
    stations: dict[str, _Station] = {}

    def station(name: str, timeout_s: float) -> _Station:
        if name not in stations:
            stations[name] = _Station(env, name, timeout_s, ticks)
        return stations[name]

    flows = []
    for r in scenario.traffic.routes:
        if r.name not in chosen:
            continue
        sts, means, cvs = [], [], []
        for step in r.path:
            w = scenario.workload(step.service)
            s, (_, mean_s) = w.serving, pod_servers(w, w.serving.service_time)
            for _ in range(step.calls):
                sts.append(station(step.service, s.timeout))
                means.append(mean_s)
                cvs.append(s.service_time_cv)
        flows.append(_Flow(r.name, sts, cvs, means, tl.route_rps[r.name], r.network_overhead * len(sts)))
    if routes is None:
        for q in scenario.traffic.queues:
            if q.name in tl.queue_rps:
                st = station(f"queue:{q.name}", math.inf)
                flows.append(
                    _Flow(
                        q.name,
                        [st],
                        [q.task_time_cv],
                        [pod_servers(scenario.workload(q.consumer), q.task_time)[1]],
                        tl.queue_rps[q.name],
                        0.0,
                        is_queue=True,
                    )
                )
    return flows, list(stations.values())


def _route_closure(scenario: Scenario, routes: list[str] | None) -> set[str]:
    """The chosen routes plus every route sharing a service with them (so queues see all their load)."""
    all_routes = {r.name: {s.service for s in r.path} for r in scenario.traffic.routes}
    if routes is None:
        return set(all_routes)
    unknown = [r for r in routes if r not in all_routes]
    if unknown:
        raise ValueError(f"unknown route(s) {', '.join(unknown)}; known: {', '.join(all_routes)}")
    chosen = set(routes)
    grown = True
    while grown:
        used = set().union(*(all_routes[r] for r in chosen))
        more = {r for r, svcs in all_routes.items() if svcs & used} - chosen
        chosen |= more
        grown = bool(more)
    return chosen


# ----------------------------------------------------------------------------------- results
def _tick_quantiles(ticks: np.ndarray, values: np.ndarray, n_ticks: int) -> np.ndarray:
    """Per-tick sample quantiles (linear interpolation), shape (n_ticks, 3); NaN for empty ticks."""
    out = np.full((n_ticks, len(QUANTILES)), np.nan)
    if values.size == 0:
        return out
    order = np.lexsort((values, ticks))
    v, t = values[order], ticks[order]
    starts = np.searchsorted(t, np.arange(n_ticks), side="left")
    counts = np.searchsorted(t, np.arange(n_ticks), side="right") - starts
    has = counts > 0
    for j, q in enumerate(QUANTILES):
        pos = starts[has] + q * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, starts[has] + counts[has] - 1)
        out[has, j] = v[lo] + (pos - lo) * (v[hi] - v[lo])
    return out


def _frames(replay: _Replay) -> RequestLevelResult:
    """Aggregate the per-request log into the per-tick tables and the summary (numpy only)."""
    tl, log, n = replay.tl, replay.log, replay.ticks_done
    flow = np.asarray(log.flow, dtype=np.int64)
    tick = np.asarray(log.tick, dtype=np.int64)
    status = np.asarray(log.status, dtype=np.int64)
    value = np.asarray(log.value, dtype=float)
    t_s = tl.t_s[:n]
    route_frames, queue_frames, summary = [], [], {}
    total_req = total_err = 0
    for f_id, f in enumerate(replay.flows):
        mine = flow == f_id
        ok = mine & (status == _OK)
        req = np.bincount(tick[mine], minlength=n)[:n]
        err = req - np.bincount(tick[ok], minlength=n)[:n]
        q = _tick_quantiles(tick[ok], value[ok], n)
        if f.is_queue:
            queue_frames.append(_queue_frame(t_s, f, req, err, q, tick[ok], value[ok], n))
            summary[f"max_task_age_s.{f.name}"] = float(np.nanmax(q[:, 2])) if ok.any() else 0.0
            continue
        route_frames.append(
            pd.DataFrame(
                {
                    "t_s": t_s,
                    "route": f.name,
                    "load_rps": f.rps[:n],
                    "requests": req.astype(float),
                    "errors": err.astype(float),
                    "p50_ms": 1000 * q[:, 0],
                    "p95_ms": 1000 * q[:, 1],
                    "p99_ms": 1000 * q[:, 2],
                }
            )
        )
        served = value[ok]
        summary[f"p95_ms.{f.name}"] = 1000 * float(np.quantile(served, 0.95)) if served.size else math.nan
        summary[f"availability.{f.name}"] = 1.0 - float(err.sum()) / float(req.sum()) if req.sum() else 1.0
        total_req, total_err = total_req + int(req.sum()), total_err + int(err.sum())
    summary["requests"] = float(total_req)
    summary["errors"] = float(total_err)
    summary["availability"] = 1.0 - total_err / total_req if total_req else 1.0
    summary["simulated_s"] = float(t_s[-1] + tl.tick_s[n - 1]) if n else 0.0
    latency = {
        f.name: np.where(status[flow == k] == _OK, value[flow == k], np.nan)
        for k, f in enumerate(replay.flows)
        if not f.is_queue
    }
    times = np.asarray(log.time, dtype=float)
    arrival = {f.name: times[flow == k] for k, f in enumerate(replay.flows) if not f.is_queue}
    return RequestLevelResult(
        _concat(route_frames), _service_frame(replay), _concat(queue_frames), summary, latency, arrival
    )


def _queue_frame(
    t_s: np.ndarray,
    f: _Flow,
    req: np.ndarray,
    err: np.ndarray,
    q: np.ndarray,
    ok_ticks: np.ndarray,
    ok_wait: np.ndarray,
    n: int,
) -> pd.DataFrame:
    done = np.bincount(ok_ticks, minlength=n)[:n]
    wait_sum = np.bincount(ok_ticks, weights=ok_wait, minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(done > 0, wait_sum / np.maximum(done, 1), np.nan)
    return pd.DataFrame(
        {
            "t_s": t_s,
            "queue": f.name,
            "arrivals": req.astype(float),
            "completed": done.astype(float),
            "wait_p95_s": q[:, 1],
            "wait_mean_s": mean,
        }
    )


def _service_frame(replay: _Replay) -> pd.DataFrame:
    n = replay.ticks_done
    frames = []
    for st in replay.stations:
        if st.name.startswith("queue:"):
            continue
        visits = np.asarray(st.visits[:n], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            wait = np.where(visits > 0, 1000 * np.asarray(st.wait_sum[:n]) / np.maximum(visits, 1), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "t_s": replay.tl.t_s[:n],
                    "service": st.name,
                    "servers": replay.tl.service_servers[st.name][:n],
                    "visits": visits,
                    "timeouts": np.asarray(st.timeouts[:n], dtype=float),
                    "wait_ms_mean": wait,
                }
            )
        )
    return _concat(frames)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --------------------------------------------------------------------------------- entry points
def simulate_timeline(
    scenario: Scenario,
    timeline: Timeline,
    seed: int,
    routes: list[str] | None = None,
    max_requests: int | None = None,
) -> RequestLevelResult:
    """Replay `timeline` request by request: `scenario`'s routes, and its task queues if `routes` is None."""
    if max_requests is not None and max_requests < 1:
        raise ValueError("max_requests must be at least 1")
    env = simpy.Environment()
    flows, stations = _build(scenario, timeline, env, routes)
    if not flows:
        raise ValueError("nothing to simulate: the scenario has no routes or task queues")
    replay = _Replay(scenario, timeline, flows, seed, stations, env, max_requests)
    replay.run()
    return _frames(replay)


def run_request_level(
    result: RunResult,
    seed: int,
    routes: list[str] | None = None,
    max_requests: int | None = None,
    base_dir: Path | None = None,
) -> RequestLevelResult:
    """Replay a fast-mode run request by request, on its cluster timeline. Seeded and deterministic.

    `routes` limits the simulated routes to these and every route sharing a service with them (so the
    shared queues carry their full load); task queues are simulated only when `routes` is None.
    `max_requests` stops the run at the last whole tick that keeps the total within it (at least one
    tick); `summary["simulated_s"]` says how far it got. `base_dir` resolves a relative events-trace
    path (see `timeline_from_result`).
    """
    timeline = timeline_from_result(result, base_dir)
    return simulate_timeline(result.scenario, timeline, seed, routes, max_requests)
