"""scenarios/karpenter-spot-storm.yaml: spot interruptions and a zone reclaim through the notice/drain
path, a spot shortage answered by on-demand fallback (karpenter-provider-aws unavailable offerings)."""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit

ROOT = Path(__file__).resolve().parent.parent
STORM = ROOT / "scenarios" / "karpenter-spot-storm.yaml"


@pytest.fixture(scope="module")
def storm() -> simkit.RunResult:
    return simkit.simulate(STORM, duration=14 * 3600.0, progress=False)


def test_storm_runs_and_gives_a_verdict(storm: simkit.RunResult) -> None:
    assert len(storm.checks) > 0 and storm.checks.passed.dtype == bool
    assert "target" in repr(storm) or "pass" in repr(storm).lower()


def test_reclaim_hits_karpenters_spot_nodes(storm: simkit.RunResult) -> None:
    f = storm.faults
    reclaim = f[f.kind == "spot-reclaim"]
    assert len(reclaim) == 1 and "0 node(s)" not in reclaim.detail.iloc[0]
    interrupted = storm.events[storm.events.reason == "SpotReclaim"]
    assert interrupted.object.str.contains("-spot-").all() and len(interrupted) >= 1


def test_shortage_falls_back_to_on_demand_then_only_during_it(storm: simkit.RunResult) -> None:
    d = storm.decisions[storm.decisions.controller == "karpenter"]
    ice = d[d.reason == "InsufficientCapacityError"]
    assert len(ice) >= 1 and (ice.t_s >= 36000).all() and (ice.t_s < 36000 + 3600 + 60).all()
    launched = d[d.reason == "Launched"]
    on_demand = launched[launched.message.str.contains(" on-demand ")]
    assert len(on_demand) >= 1
    first_ice = ice.t_s.min()
    assert on_demand.t_s.min() - first_ice < 60.0  # the next batch, not after the 3 min TTL
    before = launched[launched.t_s < 36000]
    assert not before.message.str.contains(" on-demand ").any()  # spot-first while spot is there
