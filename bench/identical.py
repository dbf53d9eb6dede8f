"""Proof that a refactor left behaviour unchanged: every table of every scenario, bit for bit.

`python -m bench.identical record OUT.pkl` runs the scenarios in scenarios/ with seeds 1 and 2 for
two simulated days and pickles every table of each `RunResult` plus its `summary`;
`python -m bench.identical compare OUT.pkl` runs them again and reports any difference (exit 1).
Besides the files, the bench's generated scenarios (`EXTRA`) run for their own duration: the default
month with a rollout a day (bench/plans.py).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

import simkit
from bench.plans import rollout_month
from simkit.results import RunResult

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEEDS = (1, 2)
DURATION_S = 2 * 86400.0
EXTRA = {"daily-rollouts-30d": (rollout_month, 30 * 86400.0)}  # name: (scenario, duration)
TABLES = tuple(f.name for f in fields(RunResult) if f.name not in ("scenario", "meta", "_"))


def snapshot() -> dict[tuple[str, int], dict[str, Any]]:
    """Every table (as a DataFrame) and the summary of each scenario and seed."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for seed in SEEDS:
            result = simkit.simulate(simkit.load_scenario(path), duration=DURATION_S, seed=seed)
            out[(path.name, seed)] = {name: getattr(result, name) for name in TABLES}
            print(f"{path.name} seed {seed}: done", file=sys.stderr)
    for name, (make, duration_s) in EXTRA.items():
        for seed in SEEDS:
            result = simkit.simulate(make(), duration=duration_s, seed=seed, progress=False)
            out[(name, seed)] = {table: getattr(result, table) for table in TABLES}
            print(f"{name} seed {seed}: done", file=sys.stderr)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


Snapshot = dict[tuple[str, int], dict[str, Any]]


def differences(old: Snapshot, new: Snapshot) -> list[str]:
    """One line per (scenario, seed, table) that differs."""
    lines = [f"{key}: missing" for key in old.keys() - new.keys()]
    lines += [f"{key}: new" for key in new.keys() - old.keys()]
    for key in sorted(old.keys() & new.keys()):
        for table in sorted(old[key].keys() | new[key].keys()):
            if table not in old[key] and isinstance(new[key][table], pd.DataFrame) and new[key][table].empty:
                continue  # a table added since the recording, empty in this run: nothing changed
            if not _same(old[key].get(table), new[key].get(table)):
                lines.append(f"{key[0]} seed {key[1]}: table {table} differs")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("pickle", type=Path)
    args = parser.parse_args(argv)
    now = snapshot()
    if args.mode == "record":
        args.pickle.write_bytes(pickle.dumps(now))
        print(f"recorded {len(now)} runs to {args.pickle}")
        return 0
    lines = differences(pickle.loads(args.pickle.read_bytes()), now)
    print("\n".join(lines) if lines else f"identical: {len(now)} runs, tables {', '.join(TABLES)}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
