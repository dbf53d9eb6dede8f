"""bench/karpenter.py, small: both months run and the ratio is what it says (no timing assertion)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.karpenter import measure  # noqa: E402


def test_karpenter_bench_runs_both_provisioners() -> None:
    r = measure(days=0.1)  # 2.4 simulated hours each
    assert r["ratio"] == pytest.approx(r["karpenter_s"] / r["ca_s"])
    assert r["cpu_ratio"] == pytest.approx(r["karpenter_cpu_s"] / r["ca_cpu_s"])
    assert r["karpenter_decisions"].get("Launched", 0) > 0
    assert set(r["cost_usd_month"]) == {"ca", "karpenter"} and min(r["cost_usd_month"].values()) > 0
