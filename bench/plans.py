"""Issue 12's speed target: the default month with one rollout a day within 1.5x of the month without.

Both runs in one process, best of N each: `simkit.simulate(duration=30 d)` of the default scenario, and
the same with 30 `rollout` plans of llm-agent-service, one a day at 10:00 (25 %/25 %, minReadySeconds
10, the new version as the old). Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import simkit
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


def _best(scenario: simkit.Scenario | None, days: int, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = simkit.simulate(scenario, duration=days * 86400.0, progress=False)
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(days: int = DAYS, repeat: int = 3) -> dict[str, Any]:
    """Wall seconds (best of `repeat`) of the month without and with the daily rollouts, and their ratio."""
    plain_s, _ = _best(None, days, repeat)
    plans_s, result = _best(rollout_month(days), days, repeat)
    outcomes = result.plans["outcome"].value_counts().to_dict() if result is not None else {}
    return {
        "days": days,
        "repeat": repeat,
        "plain_s": plain_s,
        "rollouts_s": plans_s,
        "ratio": plans_s / plain_s,
        "target_ratio": TARGET_RATIO,
        "outcomes": {str(k): int(v) for k, v in outcomes.items()},
    }


if __name__ == "__main__":
    print(json.dumps(measure(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
