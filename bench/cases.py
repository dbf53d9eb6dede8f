"""The benchmark cases, sized by arguments so that tests run small versions of the same code.

Each `table_*` function returns a list of row dicts (one table of BENCHMARKS.md). Timings are
measured here but asserted nowhere: tests only check the accuracy columns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.closed_form import sojourn_mean, sojourn_quantile
from simkit.api import build_result, simulate
from simkit.engine.request_level import RequestLevelResult, run_request_level
from simkit.engine.simulation import Engine, run_engine
from simkit.engine.traffic import TrafficModel
from simkit.results import RunResult
from simkit.scenario.loader import LoadedScenario, load_scenario_file
from simkit.traffic.queueing_latency import service_sum

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
TRACES = SCENARIOS.parents[2] / "shared" / "traces"  # the team's real traces, read where they are
Hook = Callable[[Engine], None]


def load(name: str, **overrides: Any) -> LoadedScenario:
    """A bench scenario file with dotted-path overrides (validated like any scenario)."""
    return load_scenario_file(SCENARIOS / f"{name}.yaml", overrides=overrides or None, allow_dirs=(TRACES,))


def run_fast(loaded: LoadedScenario, hook: Hook | None = None) -> tuple[RunResult, float]:
    """The fast (default) mode, and its wall time in seconds."""
    start = time.perf_counter()
    if hook is None:
        result = simulate(loaded, progress=False)
    else:
        sc = loaded.scenario
        out = run_engine(
            sc,
            seed=sc.simulation.seed,
            duration_s=sc.simulation.duration,
            base_dir=loaded.base_dir,
            progress=False,
            hook=hook,
        )
        result = build_result(sc, loaded.sha256, sc.simulation.seed, out)
    return result, time.perf_counter() - start


def run_requests(result: RunResult, seed: int) -> tuple[RequestLevelResult, float]:
    """The request-level replay of a fast run, and its wall time in seconds."""
    start = time.perf_counter()
    rl = run_request_level(result, seed=seed)
    return rl, time.perf_counter() - start


def rel_err(value: float, reference: float) -> float:
    """Relative difference in percent (0 when both are 0)."""
    if reference == 0:
        return 0.0 if value == 0 else math.inf
    return 100.0 * (value - reference) / reference


# ------------------------------------------------------------------- 1. fast mode vs closed form
def mmc_scenario(rho: float, servers: int, service_s: float, duration: str) -> LoadedScenario:
    """One M/M/c service: `servers` = 1 replica x concurrency, Poisson load rho x c / service time."""
    return load(
        "single-service",
        **{
            "workloads.0.replicas": 1,
            "workloads.0.serving.concurrency": servers,
            "workloads.0.serving.service_time": service_s,
            "workloads.0.serving.service_time_cv": 1.0,
            "traffic.load.base_rps": rho * servers / service_s,
            "simulation.duration": duration,
        },
    )


def table_closed_form(
    rhos: tuple[float, ...] = (0.3, 0.5, 0.7, 0.85, 0.95),
    servers: int = 12,
    service_s: float = 0.1,
    duration: str = "1h",
) -> list[dict[str, Any]]:
    """Fast mode's mean, P50, P95, P99 response time against the exact M/M/c values."""
    rows = []
    for rho in rhos:
        result, _ = run_fast(mmc_scenario(rho, servers, service_s, duration))
        svc, route = result.services.iloc[0], result.routes.iloc[0]
        lam, mu = rho * servers / service_s, 1.0 / service_s
        fast = {
            "mean": service_s * 1000 + float(svc["wait_ms_mean"]),
            "P50": float(route["p50_ms"]),
            "P95": float(route["p95_ms"]),
            "P99": float(route["p99_ms"]),
        }
        exact = {"mean": 1000 * sojourn_mean(servers, lam, mu)}
        exact.update(
            {f"P{round(100 * q)}": 1000 * sojourn_quantile(q, servers, lam, mu) for q in (0.5, 0.95, 0.99)}
        )
        for metric, ref in exact.items():
            err = rel_err(fast[metric], ref)
            rows.append(
                {
                    "rho": rho,
                    "metric": metric,
                    "exact_ms": ref,
                    "fast_ms": fast[metric],
                    "err_pct": err,
                    "target_pct": 1.0,
                    "pass": abs(err) <= 1.0,
                }
            )
    return rows


# ------------------------------------------------------------------ 2. fast vs request-level
@dataclass(frozen=True)
class Case:
    """A fast-vs-request-level comparison: scenario, optional capacity hook, which target applies."""

    name: str
    loaded: LoadedScenario
    transient: bool
    hook: Hook | None = None
    note: str = ""


def az_loss_hook(at_s: float, for_s: float, fraction: float = 1 / 3) -> Hook:
    """Emulated AZ loss: a third of every workload's ready servers gone from `at_s` for `for_s`.

    It does not use the engine's AZ-outage fault: it changes the traffic model's ready count directly
    (through `TrafficModel.set_ready`); the request-level replay reads the same timeline back.
    """

    def hook(engine: Engine) -> None:
        def fault() -> Generator[Any, Any, None]:
            yield engine.env.timeout(at_s)
            before = dict(engine.ready_count)
            for name, ready in before.items():
                engine.traffic.set_ready(name, ready - math.ceil(ready * fraction - 1e-9), engine.env.now)
            yield engine.env.timeout(for_s)
            for name, ready in before.items():
                engine.traffic.set_ready(name, ready, engine.env.now)

        engine.env.process(fault())

    return hook


def accuracy_cases(scale: float = 1.0) -> list[Case]:
    """The five cases of table 2; `scale` < 1 shortens the runs (tests)."""

    def dur(seconds: float) -> str:
        return f"{max(600, round(seconds * scale))}s"

    spike_at = round(1200 * scale) // 60 * 60
    return [
        Case(
            "M/G/c lognormal cv 1.5, rho 0.8, stationary",
            load(
                "single-service",
                **{
                    "workloads.0.serving.service_time_cv": 1.5,
                    "traffic.load.base_rps": 96,
                    "simulation.duration": dur(7200),
                },
            ),
            transient=False,
        ),
        Case(
            "diurnal day, 2 services (peak rho 0.75)",
            load("two-tier", **{"simulation.duration": dur(86400)}),
            transient=False,
        ),
        Case(
            "NASA-HTTP 3 Jul 1995 x3 (peak rho 0.86)",
            load("two-tier-nasa", **{"simulation.duration": dur(86400)}),
            transient=False,
        ),
        Case(
            "spike to 2x capacity for 5 min",
            load(
                "single-service",
                **{
                    "traffic.load.base_rps": 72,
                    "workloads.0.serving.timeout": "10s",
                    "traffic.load.spikes": [
                        {"at": f"{max(spike_at, 60)}s", "factor": 240 / 72, "hold": "5m"}
                    ],
                    "simulation.duration": dur(3600),
                },
            ),
            transient=True,
        ),
        Case(
            "AZ loss: 1/3 of servers for 20 min (emulated; rho 0.75 -> 1.125)",
            load(
                "single-service",
                **{
                    "traffic.load.base_rps": 90,
                    "workloads.0.serving.timeout": "10s",
                    "simulation.duration": dur(3600),
                },
            ),
            transient=True,
            hook=az_loss_hook(max(spike_at, 60), max(600, round(1200 * scale))),
            note="emulated, not the engine's AZ-outage fault: ready servers cut via TrafficModel.set_ready",
        ),
    ]


def compare(case: Case, seed: int = 11) -> dict[str, Any]:
    """Whole-run P95 and error counts of both modes on one case (single-route scenarios)."""
    fast, fast_s = run_fast(case.loaded, case.hook)
    rl, rl_s = run_requests(fast, seed)
    route = case.loaded.scenario.traffic.routes[0].name
    p95_f, p95_r = fast.summary[f"p95_ms.{route}"], rl.summary[f"p95_ms.{route}"]
    err_f, err_r = fast.summary["errors"], rl.summary["errors"]
    target = 10.0 if case.transient else 2.0
    p95_err = rel_err(p95_f, p95_r)
    err_err = rel_err(err_f, err_r) if case.transient else 0.0
    ok = abs(p95_err) <= target and (not case.transient or abs(err_err) <= 10.0)
    return {
        "case": case.name,
        "requests": rl.summary["requests"],
        "p95_fast_ms": p95_f,
        "p95_rl_ms": p95_r,
        "p95_err_pct": p95_err,
        "errors_fast": err_f,
        "errors_rl": err_r,
        "errors_err_pct": err_err,
        "target_pct": target,
        "pass": ok,
        "fast_s": fast_s,
        "rl_s": rl_s,
        "note": case.note,
    }


def table_accuracy(scale: float = 1.0, seed: int = 11) -> list[dict[str, Any]]:
    return [compare(case, seed) for case in accuracy_cases(scale)]


# -------------------------------------------------------------------------------- 4. speed-up
def traffic_only_s(loaded: LoadedScenario, repeats: int = 21) -> float:
    """Median wall time of the fast traffic model alone (arrivals, per-tick queueing, route latency)
    on the scenario's static replicas: the work that replaces the per-request simulation."""
    sc = loaded.scenario
    times = []
    for _ in range(repeats):
        service_sum.cache_clear()  # time a first run, as in a fresh process
        start = time.perf_counter()
        model = TrafficModel(sc, sc.simulation.duration, np.random.default_rng(0), loaded.base_dir)
        for w in sc.workloads:
            model.set_ready(w.name, w.replicas, 0.0)
        model.finish()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def speedup(duration: str = "1h", rps: float = 1000.0, seed: int = 5, repeats: int = 21) -> dict[str, Any]:
    """Fast mode vs request level on one hour at `rps`: 160 servers of 100 ms (rho 0.625)."""
    loaded = load(
        "single-service",
        **{
            "workloads.0.replicas": 10,
            "workloads.0.serving.concurrency": 16,
            "traffic.load.base_rps": rps,
            "simulation.duration": duration,
        },
    )
    times = []
    for _ in range(repeats):
        service_sum.cache_clear()  # time a first run, as in a fresh process
        result, wall = run_fast(loaded)
        times.append(wall)
    fast_s = sorted(times)[len(times) // 2]
    traffic_s = traffic_only_s(loaded, repeats)
    rl, rl_s = run_requests(result, seed)
    return {
        "requests": rl.summary["requests"],
        "fast_s": fast_s,
        "traffic_s": traffic_s,
        "rl_s": rl_s,
        "ratio": rl_s / fast_s,
        "ratio_traffic": rl_s / traffic_s,
        "target": 10_000.0,
        "pass": rl_s / fast_s >= 10_000.0,
        "pass_traffic": rl_s / traffic_s >= 10_000.0,
        "p95_fast_ms": result.summary["p95_ms.r"],
        "p95_rl_ms": rl.summary["p95_ms.r"],
        "rl_requests_per_s": rl.summary["requests"] / rl_s,
    }


# ---------------------------------------------------------- 2b. near-critical load, many seeds
NEAR_CRITICAL_RHOS = (0.97, 0.99, 0.995, 1.0, 1.005, 1.01, 1.02, 1.05)


def near_critical(
    rho: float, seeds: Sequence[int] = tuple(range(1, 9)), scale: float = 1.0
) -> dict[str, Any]:
    """Fast mode vs the mean of request-level replays over `seeds`, 20 min at load `rho` after an AZ loss.

    12 servers of 100 ms lose a third (8 left) for 20 min with a 10 s timeout; the load makes the 8
    servers run at `rho`. Near rho = 1 a single replay is noisy (queues wander for minutes), so the
    reference is the mean over seeds, with its spread.
    """
    at, hold = max(60, round(1200 * scale) // 60 * 60), max(600, round(1200 * scale))
    loaded = load(
        "single-service",
        **{
            "traffic.load.base_rps": rho * 8 / 0.1,
            "workloads.0.serving.timeout": "10s",
            "simulation.duration": f"{at + hold + at}s",
        },
    )
    fast, _ = run_fast(loaded, az_loss_hook(at, hold))
    replays = [run_requests(fast, seed)[0].summary for seed in seeds]
    errors = np.array([r["errors"] for r in replays], dtype=float)
    p95 = np.array([r["p95_ms.r"] for r in replays], dtype=float)
    return {
        "rho": rho,
        "errors_fast": fast.summary["errors"],
        "errors_rl_mean": float(errors.mean()),
        "errors_rl_sd": float(errors.std(ddof=1)) if errors.size > 1 else 0.0,
        "p95_fast_ms": fast.summary["p95_ms.r"],
        "p95_rl_mean_ms": float(p95.mean()),
        "p95_rl_sd_ms": float(p95.std(ddof=1)) if p95.size > 1 else 0.0,
        "p95_err_pct": rel_err(fast.summary["p95_ms.r"], float(p95.mean())),
        "seeds": len(replays),
    }


def table_near_critical(
    rhos: Sequence[float] = NEAR_CRITICAL_RHOS, seeds: Sequence[int] = tuple(range(1, 9))
) -> list[dict[str, Any]]:
    return [near_critical(rho, seeds) for rho in rhos]
