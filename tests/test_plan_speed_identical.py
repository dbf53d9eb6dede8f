"""The plan-path speed work (issue 12, "a month with a daily rollout within 1.5x") changes no table.

Every table of every `RunResult` field (bench/identical.py `TABLES`) of the five plan scenarios and
of bench/plans.py's default month with a rollout a day (seed 1, each for its own duration) is
digested (sha256 of its columns, dtypes, index and CSV text, floats at full repr precision) and
compared with `tests/data/plan_tables_golden.json`, recorded from main before the change
(`python -m tests.test_plan_speed_identical record`). A digest that differs names the table.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simkit
from bench.identical import TABLES
from bench.plans import rollout_month

ROOT = Path(__file__).parents[1]
GOLDEN = ROOT / "tests" / "data" / "plan_tables_golden.json"
SCENARIOS = (
    "rollout-at-peak",
    "canary-llm-agent",
    "node-upgrade-eks",
    "upgrade-deadlock",
    "statefulset-update",
)
MONTH = "daily-rollouts-30d"
SEED = 1


def digest(value: Any) -> str:
    """A digest of a table (or scalar/dict) that any change of a value, column, dtype or row changes."""
    h = hashlib.sha256()
    if isinstance(value, pd.DataFrame):
        h.update(repr((list(map(str, value.columns)), [str(t) for t in value.dtypes])).encode())
        h.update(repr(list(value.index)).encode())
        h.update(value.to_csv(index=False, float_format=repr).encode())
    else:
        h.update(json.dumps(value, sort_keys=True, default=repr).encode())
    return h.hexdigest()


def run(case: str) -> dict[str, str]:
    """The digest of every table of one case."""
    if case == MONTH:
        result = simkit.simulate(rollout_month(), duration=30 * 86400.0, seed=SEED, progress=False)
    else:
        result = simkit.simulate(
            simkit.load_scenario(ROOT / "scenarios" / f"{case}.yaml"), seed=SEED, progress=False
        )
    return {table: digest(getattr(result, table)) for table in TABLES if table != "version"}


@pytest.mark.parametrize("case", [*SCENARIOS, MONTH])
def test_every_table_identical_to_the_recording_from_main(case: str) -> None:
    golden = json.loads(GOLDEN.read_text())[case]
    now = run(case)
    assert [t for t in sorted(golden.keys() | now.keys()) if golden.get(t) != now.get(t)] == []


def test_the_digest_sees_one_changed_value() -> None:
    frame = pd.DataFrame({"t": [0.0, 1.0], "x": [0.1, 0.2]})
    changed = frame.copy()
    changed.loc[1, "x"] = 0.2 + 1e-15
    assert digest(frame) != digest(changed)
    assert digest(frame) == digest(frame.copy())


if __name__ == "__main__" and sys.argv[1:] == ["record"]:
    GOLDEN.write_text(
        json.dumps({case: run(case) for case in [*SCENARIOS, MONTH]}, indent=1, sort_keys=True) + "\n"
    )
