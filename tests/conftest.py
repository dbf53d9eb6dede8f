"""Runs that several tests read, simulated once per session.

A RunResult is only read by the tests that share it (tables are built once, on first access), so one
run can serve them all. Tests that need a run of their own (determinism, fresh deferred tables,
monkeypatched controllers) still simulate it themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.api import simulate
from simkit.results import RunResult

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="session")
def default_day() -> RunResult:
    """One day of the default scenario at seed 7 (test_engine's golden summary, test_allocation)."""
    return simulate(seed=7, duration=86400, progress=False)


@pytest.fixture(scope="session")
def default_hour() -> RunResult:
    """One hour of the default scenario at its own seed (test_cli, test_speed_paths)."""
    return simulate(duration=3600, progress=False)


@pytest.fixture(scope="session")
def az_outage() -> RunResult:
    """scenarios/az-outage.yaml as written: its seed and duration (test_faults)."""
    return simulate(SCENARIOS / "az-outage.yaml", progress=False)
