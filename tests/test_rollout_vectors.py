"""Kubernetes' own rollout, PDB, eviction and StatefulSet test cases (shared/reference/
rollout_vectors.json, 136 cases), one pytest case per vector id, through tests/vectors_rollout.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_vectors  # noqa: E402
import vectors_rollout  # noqa: E402

VECTORS = Path(__file__).parents[2] / "shared" / "reference" / "rollout_vectors.json"
_DATA: list[dict[str, Any]] = k8s_vectors.load(VECTORS) if VECTORS.is_file() else []
_MISSING = pytest.mark.skipif(not VECTORS.is_file(), reason=f"rollout vectors not found at {VECTORS}")


@_MISSING
def test_the_file_holds_the_136_transcribed_cases() -> None:
    data = json.loads(VECTORS.read_text())
    assert data["format"] == "k8s-rollout-test-vectors/1"
    assert data["count"] == len(data["vectors"]) == 136
    assert len({v["id"] for v in data["vectors"]}) == 136  # ids are unique, so they name the cases


@_MISSING
@pytest.mark.parametrize("vector", _DATA, ids=[k8s_vectors.vector_name(v) for v in _DATA])
def test_vector(vector: dict[str, Any]) -> None:
    assert vectors_rollout.check(vector) is None, vectors_rollout.check(vector)


@_MISSING
def test_command_line_runner_reports_all_passed(capsys: pytest.CaptureFixture[str]) -> None:
    assert k8s_vectors.main(["rollout", str(VECTORS)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "136 passed, 0 failed"


def test_a_wrong_expectation_fails_its_vector() -> None:
    """The harness can fail: a fencepost vector with a wrong value is reported, not passed."""
    vector = {
        "id": "x",
        "function": "resolve_fenceposts",
        "input": {"max_surge": "25%", "max_unavailable": "25%", "desired": 10},
        "expected": {"max_surge": 3, "max_unavailable": 3},
    }
    assert vectors_rollout.check(vector) == "max_unavailable: expected 3, got 2"
    vector["expected"] = {"max_surge": 3}
    vector["unasserted_expected"] = {"max_unavailable": 1}
    assert vectors_rollout.check(vector) == "unasserted max_unavailable: expected 1, got 2"
