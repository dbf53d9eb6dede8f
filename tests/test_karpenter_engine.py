"""Karpenter as the scenario's node provisioner: the NodePool schema, provisioning and the engine loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import simkit

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "karpenter-baseline.yaml"


def test_karpenter_baseline_loads() -> None:
    s = simkit.load_scenario(BASE)
    assert s.cluster.node_provisioner == "karpenter"
    pool = s.cluster.nodepools[0]
    assert pool.disruption.budgets[0].nodes == "10%"
    assert [p.name for p in s.cluster.node_pools] == ["data-pool", "infrastructure-pool"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("values: [m5, m6i, m7i]", "values: [x9]"), "match no instance type in the catalog (line 16)"),
        (('nodes: "10%"', 'nodes: "150%"'), "at most 100%, got '150%' (line 25)"),
        (
            ('[{nodes: "10%"}]', '[{nodes: "1", schedule: "61 * * * *", duration: 1h}]'),
            "invalid cron schedule '61 * * * *': end of range (61) above maximum (59): 61 (line 25)",
        ),
    ],
)
def test_bad_nodepool_is_one_line_exit_2(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    (tmp_path / "platform-baseline.yaml").write_text(
        (ROOT / "scenarios" / "platform-baseline.yaml").read_text()
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.read_text().replace(*edit))
    run = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "validate", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cluster.nodepools[0]" in lines[0] and expected in lines[0], run.stderr


def test_karpenter_provisions_and_consolidates_with_reasons() -> None:
    result = simkit.simulate(simkit.load_scenario(BASE), duration=6 * 3600.0, seed=1, progress=False)
    d = result.decisions[result.decisions.controller == "karpenter"]
    assert (d.reason == "Launched").any()
    assert d.message[d.reason == "Launched"].str.contains("spot").all()  # spot is the cheaper offering
    assert set(d.reason) <= {
        "Launched",
        "Unconsolidatable",
        "Disrupting/Empty",
        "Disrupting/Underutilized",
        "ValidationFailed",
        "FailedScheduling",
        "InsufficientCapacityError",
        "DisruptionBlocked",
    }
    assert result.summary["availability"] > 0.99
