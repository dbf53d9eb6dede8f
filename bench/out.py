"""`run --out` on a month: size on disk and time against the run's own, per format and option.

In one process, the default scenario for 30 days: simulated alone, then simulated and written as
`simkit run --out` writes (Parquet by default; 5-minute resolution; a choice of tables; CSV, the old
default). Each variant simulates afresh so it pays for building its tables; the ratio is the
variant's (simulate + write) time over the plain run's (issue 17: under 1.5x and under 20 MB).
Prints one JSON line. Run: `python -m bench.out [days]`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simkit  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "parquet (default)": {},
    "parquet, --resolution 5m": {"resolution": 300.0},
    "parquet, --tables routes": {"tables": "routes"},
    "csv (the old default)": {"format": "csv"},
}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(days: float = 30.0) -> dict[str, Any]:
    duration = days * 86400
    simkit.simulate(duration=3600, progress=False)  # warm imports and caches
    t0 = time.perf_counter()
    simkit.simulate(duration=duration, progress=False)
    plain = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, options) in enumerate(VARIANTS.items()):
            t0 = time.perf_counter()
            result = simkit.simulate(duration=duration, progress=False)
            out = result.write(Path(tmp) / f"out{i}", **options)
            total = time.perf_counter() - t0
            rows.append({"variant": label, "s": total, "ratio": total / plain, "mb": _size(out) / 1e6})
    return {"days": days, "plain_s": plain, "rows": rows, "target_ratio": 1.5, "target_mb": 20.0}


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)))
