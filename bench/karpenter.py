"""Issue 18's speed target: a month of karpenter-10x in under 3x the cluster-autoscaler month.

Both in one process, alternating, best of N each: `simkit.simulate(duration=30 d)` of
scenarios/growth-10x.yaml (the seed at 10x load under the cluster autoscaler) and of
scenarios/karpenter-10x.yaml (the same load, the application pool as a Karpenter NodePool), on the
scenarios' seed. Prints one JSON line with wall and CPU times, their ratios and the decisions made.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import simkit

ROOT = Path(__file__).resolve().parents[1]
DAYS = 30
TARGET_RATIO = 3.0
CASES = {"ca": ROOT / "scenarios" / "growth-10x.yaml", "karpenter": ROOT / "scenarios" / "karpenter-10x.yaml"}


def _once(path: Path, days: int) -> tuple[float, float, simkit.RunResult]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = simkit.simulate(path, duration=days * 86400.0, progress=False)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(days: float = DAYS, repeat: int = 1) -> dict[str, Any]:
    """Best of `repeat` of each month; the ratio karpenter / cluster autoscaler, wall and CPU."""
    best = {name: [math.inf, math.inf] for name in CASES}
    results: dict[str, simkit.RunResult] = {}
    for _ in range(repeat):
        for name, path in CASES.items():
            wall, cpu, results[name] = _once(path, days)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    d = results["karpenter"].decisions
    kp = d[d.controller == "karpenter"].reason.value_counts().to_dict()
    return {
        "days": days,
        "repeat": repeat,
        "ca_s": best["ca"][0],
        "karpenter_s": best["karpenter"][0],
        "ratio": best["karpenter"][0] / best["ca"][0],
        "ca_cpu_s": best["ca"][1],
        "karpenter_cpu_s": best["karpenter"][1],
        "cpu_ratio": best["karpenter"][1] / best["ca"][1],
        "target_ratio": TARGET_RATIO,
        "karpenter_decisions": {str(k): int(v) for k, v in kp.items()},
        "cost_usd_month": {n: float(r.summary["cost_usd_month"]) for n, r in results.items()},
    }


if __name__ == "__main__":
    print(json.dumps(measure(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
