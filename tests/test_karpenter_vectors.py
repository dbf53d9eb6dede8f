"""Karpenter's own disruption test cases (shared/reference/karpenter_vectors.json, 104 cases), one
pytest case per vector id, through tests/vectors_karpenter.py."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_vectors  # noqa: E402
import vectors_karpenter  # noqa: E402

VECTORS = Path(__file__).parents[2] / "shared" / "reference" / "karpenter_vectors.json"
_DATA: list[dict[str, Any]] = k8s_vectors.load(VECTORS) if VECTORS.is_file() else []
_MISSING = pytest.mark.skipif(not VECTORS.is_file(), reason=f"karpenter vectors not found at {VECTORS}")


def _vector(vector_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(v for v in _DATA if v["id"] == vector_id))


@_MISSING
def test_the_file_holds_the_104_transcribed_cases() -> None:
    data = json.loads(VECTORS.read_text())
    assert data["format"] == "karpenter-test-vectors/1"
    assert data["count"] == len(data["vectors"]) == 104
    assert len({v["id"] for v in data["vectors"]}) == 104  # ids are unique, so they name the cases


@_MISSING
@pytest.mark.parametrize("vector", _DATA, ids=[k8s_vectors.vector_name(v) for v in _DATA])
def test_vector(vector: dict[str, Any]) -> None:
    assert vectors_karpenter.check(vector) is None, vectors_karpenter.check(vector)


@_MISSING
def test_command_line_runner_reports_all_passed(capsys: pytest.CaptureFixture[str]) -> None:
    assert k8s_vectors.main(["karpenter", str(VECTORS)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "104 passed, 0 failed"


def test_a_wrong_expectation_fails_its_vector() -> None:
    """The harness can fail: a budget vector with a wrong value is reported, not passed."""
    vector = {
        "id": "x",
        "function": "allowed_disruptions",
        "input": {"budget": {"nodes": "50%"}, "num_nodes": 3, "now": "2000-06-15T12:30:30Z"},
        "expected": {"allowed": 2, "error": False},
    }
    assert vectors_karpenter.check(vector) is None  # 50% of 3 rounds up to 2
    vector["expected"] = {"allowed": 1, "error": False}
    assert vectors_karpenter.check(vector) == "allowed: expected 1, got 2"


@_MISSING
def test_a_mutated_engine_expectation_fails() -> None:
    """Swapping which node a consolidation deletes, or the event text, makes the vector fail."""
    vector = _vector("consolidation_test.go::Consolidation/Delete/can delete nodes")
    assert vectors_karpenter.check(vector) is None
    vector["expected"]["deleted"] = ["node-0"]
    assert vectors_karpenter.check(vector) == "deleted: expected ['node-0'], got ['node-1']"
    vector = _vector(
        "consolidation_test.go::Consolidation/Replace/cannot replace spot with spot if less than minimum "
        "InstanceTypes flexibility"
    )
    vector["expected"]["events_contain"] = ["got 2"]
    problem = vectors_karpenter.check(vector)
    assert problem is not None and problem.startswith("events_contain: 'got 2'")


@_MISSING
def test_budgets_blocking_every_candidate_do_not_mark_the_cluster_consolidated() -> None:
    """The same multi-node call with the budgets opened up does find commands (the vector is not vacuous)."""
    vector = _vector(
        "consolidation_test.go::Consolidation/Budgets/should not mark multi node consolidated if all "
        "candidates can't be disrupted due to budgets with many nodepools"
    )
    for pool in vector["input"]["nodepools"]:
        pool["budgets"] = [{"nodes": "100%"}]
    assert vectors_karpenter.check(vector) == "commands: expected 0, got 1"
