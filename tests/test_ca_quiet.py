"""The Monte Carlo speed-ups change no table: the cluster autoscaler's scans as timer callbacks
(`ca_loop.LIGHT_SCANS`) and the CPU-credit model over Python floats and grouped rows
(`burstable.FAST_CREDITS`).

Every table of whole runs with the light scans against the same runs with the CA as a plain SimPy
process resumed every `--scan-interval` (the reference path), for the scenarios the issue names,
seeds 1-3, over short durations; and a check that the CA loop really runs (and scans) where it
should, and not under Karpenter.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simkit
import simkit.analysis.burstable as burstable
import simkit.engine.ca_loop as ca_loop
from bench.identical import TABLES, differences
from simkit.catalog import load_catalog

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
        m.setattr(ca_loop, "SKIP_QUIET_SCANS", False)
        m.setattr(burstable, "FAST_CREDITS", False)
        reference = _tables(name, seed, days)
    assert differences(reference, fast) == []


def _count_scans(name: str, monkeypatch: pytest.MonkeyPatch, skip: bool) -> tuple[int, int]:
    """(scans run, scans that found something changed) in 6 simulated hours."""
    calls = [0, 0]
    real = ca_loop._Scanner.scan

    def counted(self: ca_loop._Scanner) -> None:
        calls[0] += 1
        if self.engine.state.version != self.quiet_version:
            calls[1] += 1
        real(self)

    with monkeypatch.context() as m:
        m.setattr(ca_loop._Scanner, "scan", counted)
        m.setattr(ca_loop, "SKIP_QUIET_SCANS", skip)
        sc = simkit.load_scenario(SCENARIOS / f"{name}.yaml")
        simkit.simulate(sc, duration=6 * 3600.0, seed=1, progress=False)
    return calls[0], calls[1]


def test_quiet_scans_are_skipped_and_the_active_ones_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    flags = simkit.load_scenario(SCENARIOS / "platform-baseline.yaml").cluster.ca_flags
    assert flags is not None
    every, active = _count_scans("platform-baseline", monkeypatch, skip=False)
    # one per interval, the timer chain never breaks (the run stops before events at its end time)
    assert every == int(6 * 3600.0 // flags.scan_interval) - 1
    assert 0 < active < every
    skipping, active_skipping = _count_scans("platform-baseline", monkeypatch, skip=True)
    assert active_skipping == active  # every scan that can see a change still runs ...
    assert skipping < every / 3  # ... and most of the idle ones do not
    assert _count_scans("karpenter-10x", monkeypatch, skip=True) == (0, 0)  # no CA under Karpenter


@pytest.mark.parametrize(
    ("now", "interval", "next_event", "expected"),
    [
        (100.0, 10.0, 100.0, 10.0),  # something else at this instant: the next scan as usual
        (100.0, 10.0, 110.0, 10.0),  # an event on the next grid point: that scan, after it
        (100.0, 10.0, 135.0, 40.0),  # scans at 110, 120, 130 idle: the one at 140
        (100.0, 10.0, 140.0, 40.0),
        (100.0, 10.0, float("inf"), 10.0),
        (
            0.1,
            0.1,
            0.35,
            0.30000000000000004,
        ),  # grid by repeated addition
    ],
)
def test_past_idle_scans(now: float, interval: float, next_event: float, expected: float) -> None:
    delay = ca_loop._past_idle_scans(now, interval, next_event)
    grid = now
    while grid + interval < next_event and next_event != float("inf"):
        grid = grid + interval
    assert now + delay == grid + interval
    assert delay == pytest.approx(expected)


BURSTABLE = [("aws", "us-east-1", "t3.large"), ("azure", "eastus", "Standard_B2ms")]


@settings(max_examples=60, deadline=None)
@given(
    which=st.sampled_from(BURSTABLE),
    use=st.lists(st.floats(0.0, 4.0, allow_nan=False), min_size=1, max_size=400),
    tick_s=st.sampled_from([15.0, 60.0, 61.5]),
)
def test_credit_bank_fast_walk_is_the_numpy_walk(
    which: tuple[str, str, str], use: list[float], tick_s: float
) -> None:
    """Same `CreditRun`, bit for bit, including runs that drain the bank (use up to 4 vCPU)."""
    itype = load_catalog().instance(*which)
    ticks = np.arange(len(use)) * tick_s
    fast = burstable.simulate_credits("p", itype, np.array(use), ticks)
    burstable.FAST_CREDITS = False
    try:
        reference = burstable.simulate_credits("p", itype, np.array(use), ticks)
    finally:
        burstable.FAST_CREDITS = True
    assert (fast.pool, fast.itype) == (reference.pool, reference.itype)
    for field in fields(fast):  # same bits (a numpy or a Python float: both become float64 in the tables)
        if field.name not in ("pool", "itype"):
            a, b = getattr(fast, field.name), getattr(reference, field.name)
            assert np.float64(a).tobytes() == np.float64(b).tobytes(), field.name


def test_credits_identical_where_banks_run_dry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data pool on t3.large under 20x load (tests/test_burstable.py): its bank runs dry on day 2."""
    sc = simkit.load_scenario(
        None, overrides={"cluster.node_pools.1.instance_type": "t3.large", "traffic.load.growth": 20}
    )

    def tables() -> dict[tuple[str, int], dict[str, object]]:
        result = simkit.simulate(sc, duration=2 * DAY_S, seed=1, progress=False)
        return {("t3", 1): {"cpu_credits": result.cpu_credits, "checks": result.checks}}

    fast = tables()
    with monkeypatch.context() as m:
        m.setattr(burstable, "FAST_CREDITS", False)
        reference = tables()
    credits = fast[("t3", 1)]["cpu_credits"]
    assert "data-pool" in set(credits["pool"])  # type: ignore[index]
    assert (credits["minutes_capped"] > 0).any()  # type: ignore[index]
    assert differences(reference, fast) == []
