"""Cost model: hand-computed figures from the catalog, projection to 730 h, properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simkit.analysis.cost import (
    COLUMNS,
    NODE_SECONDS_COLUMNS,
    cost_breakdown,
    cost_per_million_requests,
    monthly_total,
    node_cost,
    within_budget,
)
from simkit.catalog import CatalogKeyError
from simkit.scenario.cost import CostSpec

DAY = 86400.0
MONTH_30D = 30 * DAY
NO_EXTRAS = CostSpec(clusters=0)


def fleet(*rows: tuple[str, str, str, float], duration_s: float = MONTH_30D) -> pd.DataFrame:
    """(pool, instance_type, capacity_type, steady node count) -> node-seconds over duration_s."""
    data = [(pool, itype, cap, "us-east-1a", n * duration_s) for pool, itype, cap, n in rows]
    return pd.DataFrame(data, columns=NODE_SECONDS_COLUMNS)


def row(df: pd.DataFrame, component: str) -> pd.Series:
    match = df[df["component"] == component]
    assert len(match) == 1, list(df["component"])
    return match.iloc[0]


SEED_FLEET = (
    ("application-pool", "t3.xlarge", "spot", 3),
    ("data-pool", "r5.xlarge", "on-demand", 3),
    ("system-pool", "t3.large", "on-demand", 3),
)


# -- hand computations (prices from data/instance_types.csv and data/prices.csv) ----------------
def test_three_t3_xlarge_spot_for_30_days() -> None:
    df = node_cost(fleet(("application-pool", "t3.xlarge", "spot", 3)), MONTH_30D, "aws", "us-east-1")
    r = row(df, "worker nodes: application-pool (spot)")
    assert r["monthly_usd"] == pytest.approx(3 * 0.0716 * 730)  # 156.804
    assert r["basis"] == "3.00 node-months x $0.0716/h (t3.xlarge) x 730 h"
    assert "Spot Instance Advisor" in r["source"] and "2024-02-28" in r["source"]


def test_eks_control_plane_is_73_dollars() -> None:
    df = cost_breakdown(fleet(), MONTH_30D, "aws", "us-east-1", CostSpec())
    assert row(df, "control plane")["monthly_usd"] == pytest.approx(73.00)
    extended = cost_breakdown(fleet(), MONTH_30D, "eks", "us-east-1", CostSpec(control_plane_tier="Extended"))
    assert monthly_total(extended) == pytest.approx(438.00)
    aks_free = cost_breakdown(fleet(), MONTH_30D, "azure", "eastus", CostSpec(control_plane_tier="free"))
    assert monthly_total(aks_free) == 0.0


def test_seed_platform_nodes_and_control_plane() -> None:
    """3 t3.xlarge spot + 3 r5.xlarge + 3 t3.large on-demand + EKS standard, by hand."""
    df = cost_breakdown(fleet(*SEED_FLEET), MONTH_30D, "aws", "us-east-1", CostSpec())
    assert row(df, "worker nodes: data-pool (on-demand)")["monthly_usd"] == pytest.approx(3 * 0.252 * 730)
    assert row(df, "worker nodes: system-pool (on-demand)")["monthly_usd"] == pytest.approx(3 * 0.0832 * 730)
    expected = 3 * 730 * (0.0716 + 0.252 + 0.0832) + 0.10 * 730  # 890.892 + 73 = 963.892
    assert monthly_total(df) == pytest.approx(expected)
    assert list(df.columns) == COLUMNS


def test_seed_cost_section_priced_by_hand() -> None:
    spec = CostSpec.model_validate(
        {
            "budget_usd_month": 10000,
            "control_plane_tier": "standard",
            "block_storage": [
                {"name": "postgresql", "storage_class": "gp3", "size": "100Gi", "count": 3},
                {"name": "redis", "storage_class": "gp3", "size": "10Gi", "count": 3, "iops": 4000},
            ],
            "object_storage_gb": 1000,
            "load_balancers": 2,
            "internet_egress_gb_month": 1000,
            "inter_az_gb_month": 2000,
            "other_monthly_usd": {"monitoring_logging": 150, "dns": 20, "container_registry": 50},
        }
    )
    df = cost_breakdown(fleet(*SEED_FLEET), MONTH_30D, "aws", "us-east-1", spec)
    assert row(df, "block storage: postgresql")["monthly_usd"] == pytest.approx(3 * 100 * 0.08)  # 24.00
    assert row(df, "block storage: redis")["monthly_usd"] == pytest.approx(3 * (10 * 0.08 + 1000 * 0.005))
    assert row(df, "object storage")["monthly_usd"] == pytest.approx(1000 * 0.023)
    assert row(df, "load balancers")["monthly_usd"] == pytest.approx(2 * 0.0225 * 730)  # 32.85
    assert row(df, "data transfer: internet egress")["monthly_usd"] == pytest.approx(1000 * 0.09)
    assert row(df, "data transfer: inter-AZ")["monthly_usd"] == pytest.approx(2000 * 0.01 * 2)
    assert row(df, "monitoring_logging")["source"] == "scenario cost.other_monthly_usd"
    expected = 963.892 + 24 + 17.4 + 23 + 32.85 + 90 + 40 + 220
    assert monthly_total(df) == pytest.approx(expected)
    assert within_budget(df, spec) is True
    assert within_budget(df, CostSpec(budget_usd_month=1000)) is False
    assert within_budget(df, CostSpec()) is None


def test_every_row_has_basis_and_source() -> None:
    spec = CostSpec(object_storage_gb=10, load_balancers=1, nat_gateways=1, other_monthly_usd={"dns": 20})
    df = cost_breakdown(fleet(*SEED_FLEET), MONTH_30D, "aws", "us-east-1", spec)
    assert (df["basis"].str.len() > 5).all() and (df["source"].str.len() > 10).all()
    assert row(df, "NAT gateways")["monthly_usd"] == pytest.approx(0.045 * 730)


def test_gcp_per_gib_prices_convert_gb() -> None:
    spec = CostSpec(clusters=0, internet_egress_gb_month=1000, inter_az_gb_month=1000)
    df = cost_breakdown(fleet(), MONTH_30D, "gcp", "us-central1", spec)
    gib = 1000 * 1e9 / 2**30  # 931.3 GiB
    assert row(df, "data transfer: internet egress")["monthly_usd"] == pytest.approx(gib * 0.12)
    assert row(df, "data transfer: inter-AZ")["monthly_usd"] == pytest.approx(gib * 0.01)  # sender only


def test_storage_class_aliases_and_azure_tiers() -> None:
    gke = CostSpec.model_validate(
        {"clusters": 0, "block_storage": [{"name": "db", "storage_class": "premium-rwo", "size": "50Gi"}]}
    )
    df = cost_breakdown(fleet(), MONTH_30D, "gke", "us-central1", gke)
    assert monthly_total(df) == pytest.approx(50 * 0.17)
    vols = [
        {"name": "small", "storage_class": "managed-csi-premium", "size": "30Gi"},
        {"name": "mid", "storage_class": "premium_ssd", "size": "100Gi", "count": 2},
        {"name": "big", "storage_class": "premium_ssd", "size": "256Gi"},
    ]
    df = cost_breakdown(
        fleet(), MONTH_30D, "azure", "eastus", CostSpec.model_validate({"clusters": 0, "block_storage": vols})
    )
    assert row(df, "block storage: small")["monthly_usd"] == pytest.approx(5.28)  # P4
    assert row(df, "block storage: mid")["monthly_usd"] == pytest.approx(2 * 19.71)  # P10
    big = row(df, "block storage: big")
    assert big["monthly_usd"] == pytest.approx(256 * 19.71 / 128) and "assumption" in big["basis"]


def test_unknown_names_raise_with_known_lists() -> None:
    bad_class = CostSpec.model_validate(
        {"block_storage": [{"name": "x", "storage_class": "io2", "size": "1Gi"}]}
    )
    with pytest.raises(CatalogKeyError, match="unknown storage class 'io2' for aws; known: .*gp3"):
        cost_breakdown(fleet(), MONTH_30D, "aws", "us-east-1", bad_class)
    with pytest.raises(KeyError, match="unknown instance type 'm7.huge' for aws us-east-1; known:"):
        node_cost(fleet(("p", "m7.huge", "spot", 1)), MONTH_30D, "aws", "us-east-1")
    with pytest.raises(KeyError, match="'public_ip:hour' for aws us-east-1"):
        cost_breakdown(fleet(), MONTH_30D, "aws", "us-east-1", CostSpec(public_ips=1))


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        node_cost(fleet(), 0, "aws", "us-east-1")
    with pytest.raises(ValueError, match="capacity_type"):
        node_cost(fleet(("p", "t3.large", "reserved", 1)), MONTH_30D, "aws", "us-east-1")
    with pytest.raises(ValueError, match="lacks columns"):
        node_cost(pd.DataFrame({"pool": ["p"]}), MONTH_30D, "aws", "us-east-1")
    with pytest.raises(ValidationError):
        CostSpec.model_validate({"budget": 10})  # unknown key
    with pytest.raises(ValidationError):
        CostSpec.model_validate({"other_monthly_usd": {"dns": -1}})


# -- projection ---------------------------------------------------------------------------------
def test_seven_day_run_projects_to_730_hours() -> None:
    week = 7 * DAY
    df = node_cost(fleet(("app", "t3.xlarge", "spot", 4), duration_s=week), week, "aws", "us-east-1")
    assert monthly_total(df) == pytest.approx(4 * 0.0716 * 730)
    # A pool that ran 2 nodes for half the week and 6 for the other half averages 4 nodes.
    half = pd.DataFrame(
        [("app", "t3.xlarge", "spot", "a", 2 * week / 2), ("app", "t3.xlarge", "Spot", "b", 6 * week / 2)],
        columns=NODE_SECONDS_COLUMNS,
    )
    assert monthly_total(node_cost(half, week, "aws", "us-east-1")) == pytest.approx(4 * 0.0716 * 730)


def test_mixed_types_in_one_pool_get_one_row_each() -> None:
    df = node_cost(
        fleet(("app", "t3.xlarge", "spot", 1), ("app", "m5.xlarge", "spot", 1)), MONTH_30D, "aws", "us-east-1"
    )
    assert set(df["component"]) == {
        "worker nodes: app (spot, m5.xlarge)",
        "worker nodes: app (spot, t3.xlarge)",
    }
    assert monthly_total(df) == pytest.approx((0.0716 + 0.073) * 730)


def test_cost_per_million_requests() -> None:
    # 1M requests in one week -> 730*3600/604800 = 4.345 M per month; $1000 / 4.345 = $230.14 per M.
    assert cost_per_million_requests(1000.0, 1e6, 7 * DAY) == pytest.approx(1000 / (730 * 3600 / (7 * DAY)))
    with pytest.raises(ValueError):
        cost_per_million_requests(1000.0, 0, 7 * DAY)


# -- properties ---------------------------------------------------------------------------------
TYPES = ["t3.large", "t3.xlarge", "r5.xlarge", "m5.2xlarge", "c5.xlarge"]
pool_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(TYPES),
        st.sampled_from(["spot", "on-demand"]),
        st.floats(min_value=0, max_value=1e8, allow_nan=False),
    ),
    max_size=8,
)
durations = st.floats(min_value=60.0, max_value=90 * DAY)


def _frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(p, t, c, "z", s) for p, t, c, s in rows], columns=NODE_SECONDS_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(pool_rows, pool_rows, durations)
def test_cost_is_additive_over_pools_and_non_negative(
    left: list[tuple[str, str, str, float]], right: list[tuple[str, str, str, float]], duration: float
) -> None:
    right = [(f"r-{p}", t, c, s) for p, t, c, s in right]  # disjoint pool names
    total = monthly_total(cost_breakdown(_frame(left + right), duration, "aws", "us-east-1", NO_EXTRAS))
    parts = [
        monthly_total(cost_breakdown(_frame(x), duration, "aws", "us-east-1", NO_EXTRAS))
        for x in (left, right)
    ]
    assert total >= 0
    assert total == pytest.approx(sum(parts), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(pool_rows, durations, st.floats(min_value=0, max_value=100, allow_nan=False))
def test_cost_scales_linearly_with_node_seconds(
    rows: list[tuple[str, str, str, float]], duration: float, factor: float
) -> None:
    base = monthly_total(node_cost(_frame(rows), duration, "aws", "us-east-1"))
    scaled_rows = [(p, t, c, s * factor) for p, t, c, s in rows]
    scaled = monthly_total(node_cost(_frame(scaled_rows), duration, "aws", "us-east-1"))
    assert scaled == pytest.approx(base * factor, rel=1e-9, abs=1e-9)
    # Same average fleet over a doubled span costs the same per month.
    doubled = [(p, t, c, 2 * s) for p, t, c, s in rows]
    assert monthly_total(node_cost(_frame(doubled), 2 * duration, "aws", "us-east-1")) == pytest.approx(
        base, rel=1e-9, abs=1e-9
    )
