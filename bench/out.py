"""`run --out` on a month: size on disk and time against the run's own, per format and option.

In one process, `simkit run --duration 30d` of the default scenario (what a user times: simulate,
check, print the verdict), then the same with `--out` as each option writes it (Parquet by default;
5-minute resolution; a choice of tables; CSV, the old default). Each variant simulates afresh, so
it pays for building its tables; the ratio is its time over the plain run's (issue 17: under 1.5x
and under 20 MB).
Prints one JSON line. Run: `python -m bench.out [days]`.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simkit.cli import main  # noqa: E402

VARIANTS: dict[str, list[str]] = {
    "parquet (default)": [],
    "parquet, --resolution 5m": ["--resolution", "5m"],
    "parquet, --tables routes": ["--tables", "routes"],
    "csv (the old default)": ["--format", "csv"],
}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _run(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds `simkit run ARGS` takes in this process, its output discarded."""
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        main(["run", "--no-progress", *args])
    return time.perf_counter() - t0, time.process_time() - c0


def _best(args: list[str], repeat: int) -> tuple[float, float]:
    times = [_run(args) for _ in range(repeat)]
    return min(w for w, _ in times), min(c for _, c in times)


def measure(days: float = 30.0, repeat: int = 2) -> dict[str, Any]:
    duration = ["--duration", f"{days:g}d"]
    _run(["--duration", "1h"])  # warm imports and caches
    wall, cpu = _best(duration, repeat)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, options) in enumerate(VARIANTS.items()):
            out = Path(tmp) / f"out{i}"
            w, c = _best([*duration, "--out", str(out), "--force", *options], repeat)
            rows.append(
                {
                    "variant": label,
                    "s": w,
                    "cpu_s": c,
                    "ratio": w / wall,
                    "cpu_ratio": c / cpu,
                    "mb": _size(out) / 1e6,
                }
            )
    return {
        "days": days,
        "repeat": repeat,
        "plain_s": wall,
        "plain_cpu_s": cpu,
        "rows": rows,
        "target_ratio": 1.5,
        "target_mb": 20.0,
    }


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)))


def section(days: float = 30.0) -> tuple[str, dict[str, Any]]:
    """The BENCHMARKS.md section: one row per variant against the 1.5x and 20 MB targets."""
    r = measure(days)
    lines = [
        f"## 4b. `run --out`: size and time of {r['days']:g} simulated days "
        f"(issue 17: < {r['target_mb']:g} MB, "
        f"< {r['target_ratio']:g}x)",
        "",
        "`bench/out.py`: in one process, `simkit run --duration 30d` of the default scenario, then the "
        f"same with `--out` per option, best of {r['repeat']} each; wall time and the process's CPU "
        "time (the steadier on a shared machine), each over the plain run's "
        f"({r['plain_s']:.2f} s wall, {r['plain_cpu_s']:.2f} s CPU).",
        "",
        "| `--out` as | size | wall | CPU | CPU ratio | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        ok = row["mb"] < r["target_mb"] and row["cpu_ratio"] < r["target_ratio"]
        lines.append(
            f"| {row['variant']} | {row['mb']:.1f} MB | {row['s']:.2f} s | {row['cpu_s']:.2f} s | "
            f"{row['cpu_ratio']:.2f}x | {'PASS' if ok else 'FAIL'} |"
        )
    return "\n".join(lines), r
