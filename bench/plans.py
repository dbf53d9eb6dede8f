"""Issue 12's speed target: the default month with one rollout a day within 1.5x of the month without.

Both runs in one process, best of N each: `simkit.simulate(duration=30 d)` of the default scenario, and
the same with 30 `rollout` plans of llm-agent-service, one a day at 10:00 (25 %/25 %, minReadySeconds
10, the new version as the old). Prints one JSON line.

`python -m bench.plans breakdown` splits the rollout month's CPU time: inside the plan runners
(engine/plans.py, every resumption of each plan's process) and the plan tables (analysis/plans.py
`plan_tables`), against the whole run and the month without plans. What is neither is the engine's
own work caused by the rollouts' pods (HPA syncs while pods are new, cluster-autoscaler loops after
each pod change, scheduling, the traffic model's extra ready-count segments); `by_loop` splits the
extra CPU of the event loop by who was woken (each SimPy step timed and charged to the processes or
callbacks it resumed: `_hpa_loop`, `_Scanner.tick` the CA, `_delayed` the plan runners, ...), the
traffic model's own share (`service_ticks` calls, wherever made) beside it.
"""

from __future__ import annotations

import gc
import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from simpy.core import Environment

import simkit
import simkit.engine.traffic as traffic
from simkit.scenario.loader import load_scenario

DAYS = 30
TARGET = "llm-agent-service"
AT_S = 10 * 3600.0  # 10:00 each day
TARGET_RATIO = 1.5
SURGE = {"maxSurge": "25%", "maxUnavailable": "25%"}


def daily_rollouts(days: int = DAYS) -> list[dict[str, Any]]:
    """One rollout of `TARGET` a day at 10:00."""
    return [
        {
            "name": f"daily-{day + 1:02d}",
            "kind": "rollout",
            "target": TARGET,
            "start": day * 86400.0 + AT_S,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": SURGE},
            "minReadySeconds": 10,
        }
        for day in range(days)
    ]


def rollout_month(days: int = DAYS) -> simkit.Scenario:
    """The default scenario with a daily rollout (a bench case for bench/identical.py too)."""
    return load_scenario(None, overrides={"plans": daily_rollouts(days), "simulation.duration": f"{days}d"})


def _once(scenario: simkit.Scenario | None, days: int) -> tuple[float, float, Any]:
    gc.collect()  # every run starts from a collected heap (the caller dropped the last result)
    wall, cpu = time.perf_counter(), time.process_time()
    result = simkit.simulate(scenario, duration=days * 86400.0, progress=False)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(days: int = DAYS, repeat: int = 3) -> dict[str, Any]:
    """Best of `repeat` of the month without and with the daily rollouts, and their ratio.

    The two runs alternate, so a busy spell of a shared machine hits both; the CPU time of the
    process (`time.process_time`) is reported beside the wall time as the steadier of the two.
    Each run starts from the same heap: the last run's result is dropped and the heap collected
    first, so neither month pays for the other's garbage (the runs themselves collect as usual).
    """
    scenario = rollout_month(days)
    best = {"plain": [math.inf, math.inf], "rollouts": [math.inf, math.inf]}
    outcomes: dict[Any, int] = {}
    for _ in range(repeat):
        for name, sc in (("plain", None), ("rollouts", scenario)):
            wall, cpu, result = _once(sc, days)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
            if sc is not None:
                outcomes = result.plans["outcome"].value_counts().to_dict()
            del result
    return {
        "days": days,
        "repeat": repeat,
        "plain_s": best["plain"][0],
        "rollouts_s": best["rollouts"][0],
        "ratio": best["rollouts"][0] / best["plain"][0],
        "plain_cpu_s": best["plain"][1],
        "rollouts_cpu_s": best["rollouts"][1],
        "cpu_ratio": best["rollouts"][1] / best["plain"][1],
        "target_ratio": TARGET_RATIO,
        "outcomes": {str(k): int(v) for k, v in outcomes.items()},
    }


def breakdown(days: int = DAYS, repeat: int = 3) -> dict[str, Any]:
    """Best-of-`repeat` CPU seconds: the plain month, the rollout month, and within the latter the
    plan runners and the plan tables (timed by wrapping them; the wrapping is undone after)."""
    import simkit.api as api
    import simkit.engine.plans as plans

    spent = {"runners": 0.0, "tables": 0.0}
    delayed, tables = plans._delayed, api.plan_tables

    def timed_runner(*args: Any) -> Any:
        gen, value = delayed(*args), None
        while True:
            t0 = time.process_time()
            try:
                event = gen.send(value)
            except StopIteration:
                spent["runners"] += time.process_time() - t0
                return
            spent["runners"] += time.process_time() - t0
            value = yield event

    def timed_tables(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return tables(*args, **kwargs)
        finally:
            spent["tables"] += time.process_time() - t0

    scenario = rollout_month(days)
    best: dict[str, float] = {}
    loops: dict[str, dict[str, float]] = {}
    step, ticks = Environment.step, traffic.service_ticks
    plans._delayed, api.plan_tables = timed_runner, timed_tables  # type: ignore[assignment]
    try:
        for _ in range(repeat):
            for name, sc in (("plain", None), ("rollouts", scenario)):
                spent.update(runners=0.0, tables=0.0)
                by_loop: dict[str, float] = {}
                Environment.step = _charged(step, by_loop)  # type: ignore[method-assign,assignment]
                traffic.service_ticks = _charged_ticks(ticks, by_loop)
                _, cpu, _ = _once(sc, days)
                best[name] = min(best.get(name, math.inf), cpu)
                if cpu == best[name]:
                    loops[name] = by_loop
                if name == "rollouts" and cpu == best[name]:
                    best["runners"], best["tables"] = spent["runners"], spent["tables"]
    finally:
        plans._delayed, api.plan_tables = delayed, tables  # type: ignore[assignment]
        Environment.step, traffic.service_ticks = step, ticks  # type: ignore[method-assign,assignment]
    extra = best["rollouts"] - best["plain"]
    names = sorted(loops["plain"].keys() | loops["rollouts"].keys())
    diff = {k: loops["rollouts"].get(k, 0.0) - loops["plain"].get(k, 0.0) for k in names}
    return {
        "plain_cpu_s": best["plain"],
        "rollouts_cpu_s": best["rollouts"],
        "extra_cpu_s": extra,
        "plan_runners_cpu_s": best["runners"],
        "plan_tables_cpu_s": best["tables"],
        "engine_reaction_cpu_s": extra - best["runners"] - best["tables"],
        "by_loop_extra_cpu_s": {k: round(v, 4) for k, v in sorted(diff.items(), key=lambda kv: -kv[1]) if v},
    }


def _charged(step: Callable[[Environment], None], by_loop: dict[str, float]) -> Callable[[Environment], None]:
    """`Environment.step`, each step's CPU charged to the processes or callbacks it resumes."""

    def charged(env: Environment) -> None:
        event = env._queue[0][3] if env._queue else None  # type: ignore[attr-defined]
        names = set()
        for callback in (event.callbacks or []) if event is not None else []:
            owner = getattr(callback, "__self__", None)
            gen = getattr(owner, "_generator", None)
            names.add(gen.__name__ if gen is not None else getattr(callback, "__qualname__", "?"))
        key = "+".join(sorted(names)) or "other"
        t0 = time.process_time()
        try:
            step(env)
        finally:
            by_loop[key] = by_loop.get(key, 0.0) + time.process_time() - t0

    return charged


def _charged_ticks(ticks: Callable[..., Any], by_loop: dict[str, float]) -> Callable[..., Any]:
    """`queueing.service_ticks` as the traffic model calls it, its CPU also summed (in steps or not)."""

    def charged(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return ticks(*args, **kwargs)
        finally:
            by_loop["(traffic service_ticks)"] = by_loop.get("(traffic service_ticks)", 0.0) + (
                time.process_time() - t0
            )

    return charged


if __name__ == "__main__":
    if sys.argv[1:2] == ["breakdown"]:
        print(json.dumps(breakdown(repeat=int(sys.argv[2]) if len(sys.argv) > 2 else 3)))
    else:
        print(json.dumps(measure(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
