"""Build `mgc_lognormal.csv`: exact FCFS M/G/c waits for lognormal service, by simulation.

No closed form gives the M/G/c wait for heavy-tailed service (Gupta, Harchol-Balter, Dai &
Zwart, "On the inapproximability of M/G/K", Queueing Systems 64, 2010), and the two-moment
approximations miss the lognormal's P99 by 10-35 % at few servers (bench/ANALYSIS.md, Fidelity
II). So the fast mode reads these figures instead: each row is an exact first-come-first-served
c-server simulation (`tests/fcfs_sim.py`, Kiefer–Wolfowitz recursion) with Poisson arrivals at
rate ρc, lognormal service of mean 1 and this cv, `seeds` independent runs of `requests`
requests each, the first 5 % of each run dropped as warm-up. Every figure is in units of the mean
service time; `*_se` is the standard error of the mean over the runs.

    .venv/bin/python data/build_mgc_table.py [--workers 2] [--requests 2000000] [--seeds 4]

Rows are written as they finish (`mgc_lognormal.partial.csv`), then sorted into the CSV.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

CVS = (1.5, 2.0, 2.5, 3.0, 4.0)
SERVERS = (2, 3, 4, 6, 8, 12, 16, 24, 32)
RHOS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9)
STATS = (
    "sojourn_p50",
    "sojourn_p95",
    "sojourn_p99",
    "mean_wait",
    "p_wait",
    "wait_p90",
    "wait_p95",
    "wait_p99",
)
COLUMNS = ("cv", "servers", "rho", "requests", "seeds", *STATS, *(f"{s}_se" for s in STATS))


def point(cv: float, servers: int, rho: float, requests: int, seeds: int) -> dict[str, float]:
    """One table row: the mean and standard error of each statistic over `seeds` runs."""
    from fcfs_sim import fcfs, service_times

    rows = []
    for seed in range(seeds):
        rng = np.random.default_rng([int(cv * 100), servers, int(rho * 1000), seed])
        arrivals = np.cumsum(rng.exponential(1.0 / (rho * servers), requests))
        service = service_times(rng, requests, 1.0, cv)
        wait, _ = fcfs(arrivals, service, servers)
        keep = slice(requests // 20, None)
        w, s = wait[keep], service[keep]
        rows.append(
            [
                *np.quantile(w + s, [0.5, 0.95, 0.99]),
                w.mean(),
                (w > 0).mean(),
                *np.quantile(w, [0.9, 0.95, 0.99]),
            ]
        )
    r = np.array(rows)
    se = r.std(0, ddof=1) / np.sqrt(seeds)
    out: dict[str, float] = {"cv": cv, "servers": servers, "rho": rho, "requests": requests, "seeds": seeds}
    out.update({k: float(v) for k, v in zip(STATS, r.mean(0), strict=True)})
    out.update({f"{k}_se": float(v) for k, v in zip(STATS, se, strict=True)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--out", type=Path, default=HERE / "mgc_lognormal.csv")
    args = ap.parse_args()
    partial = args.out.with_suffix(".partial.csv")
    done: dict[tuple[float, int, float], dict[str, str]] = {}
    if partial.exists():  # resume
        with partial.open() as f:
            for row in csv.DictReader(f):
                done[(float(row["cv"]), int(row["servers"]), float(row["rho"]))] = row
    todo = [(cv, c, rho) for cv in CVS for c in SERVERS for rho in RHOS if (cv, c, rho) not in done]
    t0 = time.time()
    new = not partial.exists()
    with partial.open("a", newline="") as f, ProcessPoolExecutor(args.workers) as pool:
        writer = csv.DictWriter(f, COLUMNS)
        if new:
            writer.writeheader()
        futures = {
            pool.submit(point, cv, c, rho, args.requests, args.seeds): (cv, c, rho) for cv, c, rho in todo
        }
        for n, fut in enumerate(as_completed(futures), 1):
            row = fut.result()
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
            f.flush()
            done[futures[fut]] = {k: str(v) for k, v in row.items()}
            print(f"{n}/{len(todo)} {futures[fut]} {time.time() - t0:.0f}s", flush=True)
    with partial.open() as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (float(r["cv"]), int(r["servers"]), float(r["rho"])))
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
