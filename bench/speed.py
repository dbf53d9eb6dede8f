"""Table 3 in a fresh process (so peak memory is this run's): 30 simulated days of the default scenario.

Prints one JSON line: wall seconds of `simkit.simulate(duration=30 d)`, simulated seconds per wall
second and peak resident memory of the whole process (VmHWM, `bench.memory`: interpreter, imports,
the run).
"""

from __future__ import annotations

import json
import sys
import time

import simkit
from bench.memory import peak_rss_mb


def measure(days: float) -> dict[str, float]:
    duration = days * 86400
    start = time.perf_counter()
    result = simkit.simulate(duration=duration, progress=False)
    wall = time.perf_counter() - start
    rss_mb = peak_rss_mb()
    return {
        "days": days,
        "wall_s": wall,
        "sim_s_per_wall_s": duration / wall,
        "peak_rss_mb": rss_mb,
        "requests": result.summary["requests"],
    }


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)))
