"""Golden runs: the HPA path's speed-ups must not change a single decision.

Every HPA sync of a 2-day run (the default scenario, and the traffic spike, which actually scales)
is recorded by wrapping `simkit.engine.hpa_loop.decide`; the test compares the number of syncs,
a SHA-256 of the full per-sync stream (time, desired, reason, message, metric proposals), the
syncs where the decision changed, and the run's `decisions` and `replicas` tables against copies
captured before the HPA path was optimised (tests/data/hpa_golden_*.json). The per-sync stream
needs every sync to run, so it is recorded with the skipping of quiet syncs off; a second test
checks that the run with skipping on gives the same `decisions` and `replicas` tables
(tests/test_hpa_quiet.py compares every table on more scenarios).

Regenerate only for an intended behaviour change:
    SIMKIT_CAPTURE_GOLDEN=1 .venv/bin/pytest tests/test_hpa_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simkit
import simkit.engine.hpa_loop as autoscaling
from simkit.control.hpa import HPADecision

DATA = Path(__file__).parent / "data"
SCENARIOS = Path(__file__).parents[1] / "scenarios"
SEED = 7
DURATION_S = 2 * 86400
CASES = {"default": None, "traffic-spike": SCENARIOS / "traffic-spike.yaml"}


def _sync_row(now: float, d: HPADecision) -> list[Any]:
    """One sync as plain JSON values: the decision and what every metric proposed."""
    proposals = [
        [p.metric, p.replicas, p.current_milli, p.current_utilization, p.error_reason, p.error]
        for p in d.metric_proposals
    ]
    return [repr(now), d.desired_replicas, d.reason, d.message, proposals]


def _table(df: pd.DataFrame) -> list[list[Any]]:
    """A results table as rows of JSON values; floats by repr, so a last-bit change shows."""
    return [[repr(v) if isinstance(v, float) else v for v in row] for row in df.itertuples(index=False)]


def _run(scenario: Path | None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run 2 days at a fixed seed, recording every HPA sync."""
    monkeypatch.setattr(autoscaling, "SKIP_QUIET_SYNCS", False)
    syncs: list[list[Any]] = []
    hpas: dict[int, int] = {}  # id(spec) -> HPA number, in order of first sync
    original = autoscaling.decide

    def recording(*args: Any, **kwargs: Any) -> HPADecision:
        decision = original(*args, **kwargs)
        hpa = hpas.setdefault(id(args[0]), len(hpas))
        syncs.append([hpa, *_sync_row(args[3], decision)])
        return decision

    monkeypatch.setattr(autoscaling, "decide", recording)
    result = simkit.simulate(scenario, seed=SEED, duration=DURATION_S, progress=False)
    last: dict[int, list[Any]] = {}
    changes = []  # the syncs where an HPA's desired count or reason changed
    for sync in syncs:
        if last.get(sync[0]) != sync[2:4]:
            changes.append(sync[:4])
        last[sync[0]] = sync[2:4]
    return {
        "syncs": len(syncs),
        "sha256": hashlib.sha256(json.dumps(syncs).encode()).hexdigest(),
        "changes": changes,
        "decisions": _table(result.decisions.astype(object)),
        "replicas": _table(result.replicas.astype(object)),
    }


def _json_roundtrip(value: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(value))
    return loaded


@pytest.mark.parametrize("case", sorted(CASES))
def test_hpa_decisions_match_the_golden_run(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _json_roundtrip(_run(CASES[case], monkeypatch))
    path = DATA / f"hpa_golden_{case}.json"
    if os.environ.get("SIMKIT_CAPTURE_GOLDEN"):
        DATA.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, separators=(",", ":")) + "\n")
    want = json.loads(path.read_text())
    assert got["syncs"] == want["syncs"] > 1000
    assert got["changes"] == want["changes"]
    assert got["decisions"] == want["decisions"]
    assert got["replicas"] == want["replicas"]
    assert got["sha256"] == want["sha256"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_skipping_quiet_syncs_keeps_the_golden_tables(case: str) -> None:
    assert autoscaling.SKIP_QUIET_SYNCS  # the default
    result = simkit.simulate(CASES[case], seed=SEED, duration=DURATION_S, progress=False)
    want = json.loads((DATA / f"hpa_golden_{case}.json").read_text())
    got = _json_roundtrip(
        {
            "decisions": _table(result.decisions.astype(object)),
            "replicas": _table(result.replicas.astype(object)),
        }
    )
    assert got["decisions"] == want["decisions"]
    assert got["replicas"] == want["replicas"]
