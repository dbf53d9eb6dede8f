"""CPU credits of burstable pools: the bank model, and the flag a plan gets when a bank runs dry."""

from __future__ import annotations

import numpy as np
import pytest

import simkit
from simkit.analysis.burstable import credit_checks, credit_mode, simulate_credits
from simkit.catalog import load_catalog

DATA_POOL = "cluster.node_pools.1.instance_type"  # platform-baseline: PostgreSQL, RabbitMQ, Redis


def test_bank_earns_at_baseline_spends_use_and_caps() -> None:
    t3l = load_catalog().instance("aws", "us-east-1", "t3.large")  # 0.6 vCPU baseline, 864 credits
    ticks = np.arange(0, 48 * 3600, 60.0)
    run = simulate_credits("p", t3l, np.full(ticks.size, 1.2), ticks)  # 0.6 vCPU over: 36 credits/h
    assert run.exhausted_at_s == pytest.approx(24 * 3600, abs=60)  # 864 / 36 = 24 h
    assert run.minutes_capped == pytest.approx(24 * 60, abs=1)
    idle = simulate_credits("p", t3l, np.full(ticks.size, 0.3), ticks)
    assert idle.min_balance == 864 and idle.minutes_capped == 0 and np.isnan(idle.exhausted_at_s)


@pytest.fixture(scope="module")
def heavy() -> dict[str, simkit.RunResult]:
    out = {}
    for itype in ("t3.large", "m5.large"):
        sc = simkit.load_scenario(None, overrides={DATA_POOL: itype, "traffic.load.growth": 20})
        out[itype] = simkit.simulate(sc, duration=2 * 86400, seed=1)
    return out


def test_postgresql_on_t3_large_bills_surplus_and_on_m5_large_nothing(
    heavy: dict[str, simkit.RunResult],
) -> None:
    """T3 launches in unlimited mode by default (AWS): past its credits it bills surplus, it is not capped,
    so there is no missed check, but the bill is in the table."""
    t3 = heavy["t3.large"]
    assert not t3.checks["target"].eq("CPU credits data-pool").any()
    credits = t3.cpu_credits.set_index("pool")
    assert credits.loc["data-pool", "mode"] == "unlimited"
    assert credits.loc["data-pool", "minutes_capped"] > 0  # above the baseline with an empty bank
    hours = credits.loc["data-pool", "surplus_vcpu_hours"]
    assert hours > 0 and credits.loc["data-pool", "surplus_usd_total"] == pytest.approx(0.05 * hours)
    m5 = heavy["m5.large"]
    assert "data-pool" not in set(m5.cpu_credits["pool"])
    assert not m5.checks["target"].eq("CPU credits data-pool").any()


def test_a_standard_mode_bank_that_runs_dry_is_a_missed_check() -> None:
    """Azure B-series has no unlimited mode: past its credits it is held at its baseline."""
    b2ms = load_catalog().instance("azure", "eastus", "Standard_B2ms")
    assert credit_mode(b2ms) == "standard"
    assert b2ms.baseline_cpu_share is not None
    ticks = np.arange(0, 72 * 3600, 60.0)
    run = simulate_credits("pool", b2ms, np.full(ticks.size, float(b2ms.vcpu)), ticks)
    (check,) = credit_checks([run])
    assert not check.passed and check.target == "CPU credits pool"
    assert "Standard_B2ms" in check.cause and "credits run out" in check.cause
    t3 = simulate_credits(
        "pool", load_catalog().instance("aws", "us-east-1", "t3.large"), np.full(ticks.size, 2.0), ticks
    )
    assert t3.mode == "unlimited" and t3.minutes_capped > 0 and credit_checks([t3]) == []


def test_default_platform_keeps_its_credits() -> None:
    result = simkit.simulate(None, duration=86400, seed=1)
    assert set(result.cpu_credits["pool"]) == {"application-pool", "infrastructure-pool"}
    assert (result.cpu_credits["minutes_capped"] == 0).all()
    assert not result.checks["target"].str.startswith("CPU credits").any()
