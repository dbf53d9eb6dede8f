"""The cluster autoscaler's scans as timer callbacks (`ca_loop.LIGHT_SCANS`) change no table.

Every table of whole runs with the light scans against the same runs with the CA as a plain SimPy
process resumed every `--scan-interval` (the reference path), for the scenarios the issue names,
seeds 1-3, over short durations; and a check that the CA loop really runs (and scans) where it
should, and not under Karpenter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit
import simkit.engine.ca_loop as ca_loop
from bench.identical import TABLES, differences

SCENARIOS = Path(__file__).parents[1] / "scenarios"
CASES = (
    "platform-baseline",
    "growth-10x",
    "az-outage",
    "spot-storm",
    "traffic-spike",
    "karpenter-10x",
    "node-upgrade-eks",
)
DAY_S = 86400.0


def _tables(name: str, seed: int, days: float) -> dict[tuple[str, int], dict[str, object]]:
    sc = simkit.load_scenario(SCENARIOS / f"{name}.yaml")
    result = simkit.simulate(sc, duration=days * DAY_S, seed=seed, progress=False)
    return {(name, seed): {table: getattr(result, table) for table in TABLES}}


@pytest.mark.parametrize("seed", (1, 2, 3))
@pytest.mark.parametrize("name", CASES)
def test_every_table_identical_with_and_without_light_scans(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = 1.0 if seed != 2 else 2.0
    fast = _tables(name, seed, days)
    with monkeypatch.context() as m:
        m.setattr(ca_loop, "LIGHT_SCANS", False)
        reference = _tables(name, seed, days)
    assert differences(reference, fast) == []


def _count_scans(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(scans started, scans that found something changed) in 6 simulated hours."""
    calls = [0, 0]
    real = ca_loop._Scanner.scan

    def counted(self: ca_loop._Scanner) -> None:
        calls[0] += 1
        before = self.quiet_version
        if self.engine.state.version != before:
            calls[1] += 1
        real(self)

    monkeypatch.setattr(ca_loop._Scanner, "scan", counted)
    sc = simkit.load_scenario(SCENARIOS / f"{name}.yaml")
    simkit.simulate(sc, duration=6 * 3600.0, seed=1, progress=False)
    return calls[0], calls[1]


def test_the_ca_scans_every_interval_and_not_under_karpenter(monkeypatch: pytest.MonkeyPatch) -> None:
    scans, active = _count_scans("platform-baseline", monkeypatch)
    flags = simkit.load_scenario(SCENARIOS / "platform-baseline.yaml").cluster.ca_flags
    assert flags is not None
    interval = flags.scan_interval
    # one per interval, the timer chain never breaks (the run stops before events at its end time)
    assert scans == int(6 * 3600.0 // interval) - 1
    assert 0 < active < scans
    assert _count_scans("karpenter-10x", monkeypatch) == (0, 0)
