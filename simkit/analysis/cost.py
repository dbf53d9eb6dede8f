"""Monthly cost of a simulated plan: worker nodes from simulated node-seconds, the rest from ``cost:``.

Pure functions over node-second records (the engine's) or DataFrames. Node cost is projected to a
730-hour month from the average number of nodes over the simulated span (``node_seconds /
duration_s``), so a 7-day run and a 30-day run of the same steady fleet give the same monthly
figure. Every row says how it was computed (``basis``) and where the price came from (``source``,
with the data date). Conventions are listed in data/README.md ("Cost model conventions").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simkit.catalog import (
    HOURS_PER_MONTH,
    Catalog,
    CatalogKeyError,
    PriceItem,
    load_catalog,
    normalize_provider,
)
from simkit.scenario.cost import BlockVolume, CostSpec

__all__ = [
    "COLUMNS",
    "NODE_SECONDS_COLUMNS",
    "cost_breakdown",
    "cost_frame",
    "cost_per_million_requests",
    "cost_rows",
    "monthly_total",
    "node_cost",
    "rows_total",
    "within_budget",
]

COLUMNS = ["component", "category", "monthly_usd", "basis", "source"]
NODE_SECONDS_COLUMNS = ["pool", "instance_type", "capacity_type", "zone", "node_seconds"]
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
GIB_PER_GB = 1e9 / 2**30
"""Quantities are given in GB; a price per GiB is applied to GB x GIB_PER_GB."""

# Sides of an inter-AZ transfer that the provider bills: AWS charges $0.01/GB out and $0.01/GB in
# ("charged each direction", infracost data_transfer_test.golden); GCP charges the sender only.
_INTER_AZ_DIRECTIONS = {"aws": 2, "gcp": 1, "azure": 1}
# Kubernetes StorageClass names and synonyms -> catalog disk class, per provider.
_STORAGE_ALIASES = {
    "aws": {"gp3": "gp3", "gp2": "gp2", "ebs-gp3": "gp3", "ebs-gp2": "gp2"},
    "gcp": {
        "pd-ssd": "pd-ssd",
        "pd-balanced": "pd-balanced",
        "pd-standard": "pd-standard",
        "premium-rwo": "pd-ssd",
        "standard-rwo": "pd-balanced",
        "standard": "pd-standard",
    },
    "azure": {
        "premium_ssd": "premium_ssd",
        "premium-ssd": "premium_ssd",
        "managed-csi-premium": "premium_ssd",
        "managed-premium": "premium_ssd",
    },
}
# Azure Premium SSD tiers the catalog prices: (item suffix, capacity GiB) - Azure's P4/P10 sizes.
_AZURE_PREMIUM_TIERS = (("p4", 32.0), ("p10", 128.0))
_GP3_FREE_IOPS = 3000
_GP3_FREE_THROUGHPUT_MIBPS = 125.0


_PriceFn = Callable[[str], PriceItem]


@dataclass(frozen=True)
class CostRow:
    """One line of the breakdown (a row of ``cost_breakdown``'s table)."""

    component: str
    category: str
    monthly_usd: float
    basis: str
    source: str


def _cite(item: PriceItem) -> str:
    return f"{item.source} (as of {item.as_of})"


def _money(value: float) -> str:
    return f"${value:g}"


# -- worker nodes -------------------------------------------------------------------------------
NodeSeconds = pd.DataFrame | Sequence[Mapping[str, Any]]
"""Node-seconds as a DataFrame or as records (the engine's dicts), with NODE_SECONDS_COLUMNS."""


def _node_columns(node_seconds: NodeSeconds, duration_s: float) -> tuple[list[Any], ...]:
    """(pool, instance_type, capacity_type, node_seconds) as lists, validated."""
    if duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    needed = [c for c in NODE_SECONDS_COLUMNS if c != "zone"]
    if isinstance(node_seconds, pd.DataFrame):
        missing = [c for c in needed if c not in node_seconds.columns]
        columns = [] if missing else [node_seconds[c].tolist() for c in needed]
    else:
        missing = [c for c in needed if any(c not in r for r in node_seconds)]
        columns = [] if missing else [[r[c] for r in node_seconds] for c in needed]
    if missing:
        raise ValueError(f"node_seconds lacks columns {missing}; expected {NODE_SECONDS_COLUMNS}")
    if any(v < 0 for v in columns[3]):
        raise ValueError("node_seconds must be >= 0")
    return tuple(columns)


def _capacity_label(value: object) -> str:
    """'on_demand' / 'OnDemand' / 'on-demand' -> 'on-demand'; 'Spot' -> 'spot'."""
    text = str(value).strip().lower().replace("_", "-")
    if text in ("on-demand", "ondemand"):
        return "on-demand"
    if text == "spot":
        return "spot"
    raise ValueError(f"capacity_type must be 'spot' or 'on-demand', got {value!r}")


def _absent(value: object) -> bool:
    """A missing group key (None or NaN), which pandas' groupby leaves out."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _node_rows(
    node_seconds: NodeSeconds, duration_s: float, provider: str, region: str, catalog: Catalog
) -> Iterator[CostRow]:
    """One row per (pool, capacity type, instance type), in sorted order.

    Plain Python over the nodes (a run has a few dozen): the sums are compensated (Kahan), in
    row order, exactly as pandas' groupby-sum computes them, so either input gives the same bits.
    """
    pools, itypes, capacities, seconds = _node_columns(node_seconds, duration_s)
    labels = [_capacity_label(c) for c in capacities]
    sums: dict[tuple[Any, str, Any], list[float]] = {}  # key -> [sum, compensation]
    types: dict[Any, set[Any]] = {}
    for pool, itype, capacity, value in zip(pools, itypes, labels, seconds, strict=True):
        if not _absent(itype):
            types.setdefault(pool, set()).add(itype)
        if _absent(pool) or _absent(itype):
            continue
        acc = sums.setdefault((pool, capacity, itype), [0.0, 0.0])
        if _absent(value):  # skipped, as pandas' sum skips NaN
            continue
        y = value - acc[1]
        t = acc[0] + y
        acc[1] = t - acc[0] - y
        if acc[1] != acc[1]:  # an infinite value: keep the sum infinite rather than NaN
            acc[1] = 0.0
        acc[0] = t
    for pool, capacity, itype in sorted(sums):
        yield _node_row(
            str(pool),
            str(capacity),
            str(itype),
            float(sums[pool, capacity, itype][0]) / duration_s,
            provider,
            region,
            catalog,
            multi_type=len(types[pool]) > 1,
        )


def _node_row(
    pool: str,
    capacity: str,
    itype: str,
    avg_nodes: float,
    provider: str,
    region: str,
    catalog: Catalog,
    multi_type: bool,
) -> CostRow:
    inst = catalog.instance(provider, region, itype)
    price = inst.usd_hour(capacity)
    label = (
        f"worker nodes: {pool} ({capacity}, {itype})" if multi_type else f"worker nodes: {pool} ({capacity})"
    )
    spot = capacity == "spot"
    source = (
        f"{inst.spot_source} (as of {inst.spot_as_of})" if spot else f"{inst.source} (as of {inst.as_of})"
    )
    return CostRow(
        component=label,
        category="compute",
        monthly_usd=avg_nodes * price * HOURS_PER_MONTH,
        basis=f"{avg_nodes:.2f} node-months x {_money(price)}/h ({itype}) x {HOURS_PER_MONTH:g} h",
        source=source,
    )


def node_cost(
    node_seconds: pd.DataFrame,
    duration_s: float,
    provider: str,
    region: str,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Only the worker-node rows of ``cost_breakdown`` (no ``cost:`` section needed)."""
    cat = catalog or load_catalog()
    rows = list(_node_rows(node_seconds, duration_s, normalize_provider(provider), region, cat))
    return cost_frame(rows)


# -- other resources ----------------------------------------------------------------------------
def _control_plane_rows(provider: str, cost: CostSpec, catalog: Catalog) -> Iterator[CostRow]:
    if cost.clusters == 0:
        return
    item = catalog.control_plane(provider, cost.control_plane_tier)
    yield CostRow(
        component="control plane",
        category="control_plane",
        monthly_usd=cost.clusters * item.price_usd * HOURS_PER_MONTH,
        basis=f"{cost.clusters} cluster(s) x {_money(item.price_usd)}/h ({cost.control_plane_tier}) x 730 h",
        source=_cite(item),
    )


def _disk_class(provider: str, storage_class: str) -> str:
    aliases = _STORAGE_ALIASES.get(provider, {})
    found = aliases.get(storage_class.strip().lower())
    if found is None:
        known = ", ".join(sorted(aliases)) or "(none)"
        raise CatalogKeyError(f"unknown storage class {storage_class!r} for {provider}; known: {known}")
    return found


def _azure_premium_disk(
    size_gib: float, provider: str, region: str, catalog: Catalog
) -> tuple[float, str, str]:
    """Monthly USD of one Azure Premium SSD, its basis and source (billed per tier, not per GiB)."""
    for suffix, capacity in _AZURE_PREMIUM_TIERS:
        if size_gib <= capacity:
            item = catalog.price(provider, region, f"block_storage:premium_ssd_{suffix}")
            return item.price_usd, f"{suffix.upper()} tier {_money(item.price_usd)}/disk-month", _cite(item)
    item = catalog.price(provider, region, "block_storage:premium_ssd_p10")
    per_gib = item.price_usd / _AZURE_PREMIUM_TIERS[-1][1]
    basis = (
        f"{size_gib:g} GiB x {_money(round(per_gib, 5))}/GiB-month (assumption: tiers above P10 not in "
        "catalog; extrapolated from P10's per-GiB rate)"
    )
    return size_gib * per_gib, basis, _cite(item)


def _gp3_extras(vol: BlockVolume, provider: str, region: str, catalog: Catalog) -> tuple[float, list[str]]:
    usd, notes = 0.0, []
    if vol.iops is not None and vol.iops > _GP3_FREE_IOPS:
        item = catalog.price(provider, region, "block_storage:gp3_iops")
        usd += (vol.iops - _GP3_FREE_IOPS) * item.price_usd
        notes.append(f"+ {vol.iops - _GP3_FREE_IOPS} IOPS x {_money(item.price_usd)}")
    if vol.throughput_mibps is not None and vol.throughput_mibps > _GP3_FREE_THROUGHPUT_MIBPS:
        item = catalog.price(provider, region, "block_storage:gp3_throughput")
        extra = vol.throughput_mibps - _GP3_FREE_THROUGHPUT_MIBPS
        usd += extra * item.price_usd
        notes.append(f"+ {extra:g} MiB/s x {_money(item.price_usd)}")
    return usd, notes


def _volume_row(vol: BlockVolume, provider: str, region: str, catalog: Catalog) -> CostRow:
    disk = _disk_class(provider, vol.storage_class)
    size_gib = vol.size / 1024.0
    if (vol.iops is not None or vol.throughput_mibps is not None) and disk != "gp3":
        raise ValueError(f"block_storage {vol.name!r}: iops/throughput_mibps are priced for gp3 only")
    if disk == "premium_ssd":
        per_disk, basis, source = _azure_premium_disk(size_gib, provider, region, catalog)
    else:
        item = catalog.price(provider, region, f"block_storage:{disk}")
        per_disk = size_gib * item.price_usd
        basis, source = f"{size_gib:g} GiB x {_money(item.price_usd)}/GB-month ({disk})", _cite(item)
        extra, notes = _gp3_extras(vol, provider, region, catalog) if disk == "gp3" else (0.0, [])
        per_disk += extra
        basis = " ".join([basis, *notes])
    return CostRow(
        component=f"block storage: {vol.name}",
        category="storage",
        monthly_usd=vol.count * per_disk,
        basis=f"{vol.count} x ({basis})",
        source=source,
    )


def _per_gb(item: PriceItem, gb: float) -> tuple[float, str]:
    """Charge ``gb`` gigabytes at a per-GB or per-GiB price; returns (USD, basis)."""
    if "GiB" in item.unit:
        gib = gb * GIB_PER_GB
        return gib * item.price_usd, f"{gb:g} GB = {gib:.1f} GiB x {_money(item.price_usd)}/GiB"
    return gb * item.price_usd, f"{gb:g} GB x {_money(item.price_usd)}/GB"


def _quantity_row(component: str, category: str, item: PriceItem, gb: float, factor: int = 1) -> CostRow:
    usd, basis = _per_gb(item, gb)
    if factor != 1:
        basis = f"{basis} x {factor} directions billed"
    return CostRow(component, category, usd * factor, basis, _cite(item))


def _hourly_row(component: str, category: str, item: PriceItem, count: int) -> CostRow:
    return CostRow(
        component=component,
        category=category,
        monthly_usd=count * item.price_usd * HOURS_PER_MONTH,
        basis=f"{count} x {_money(item.price_usd)}/h x {HOURS_PER_MONTH:g} h",
        source=_cite(item),
    )


def _resource_rows(provider: str, region: str, cost: CostSpec, catalog: Catalog) -> Iterator[CostRow]:
    def price(key: str) -> PriceItem:
        return catalog.price(provider, region, key)

    for vol in cost.block_storage:
        yield _volume_row(vol, provider, region, catalog)
    if cost.object_storage_gb:
        item = price("object_storage:standard")
        usd = cost.object_storage_gb * item.price_usd
        basis = f"{cost.object_storage_gb:g} GB x {_money(item.price_usd)}/GB-month"
        yield CostRow("object storage", "storage", usd, basis, _cite(item))
    if cost.load_balancers:
        yield _hourly_row("load balancers", "network", price("load_balancer:hour"), cost.load_balancers)
    if cost.load_balancer_processed_gb_month:
        item = price("load_balancer:data_processed")
        yield _quantity_row(
            "load balancers: data processed", "network", item, cost.load_balancer_processed_gb_month
        )
    if cost.nat_gateways:
        yield _hourly_row("NAT gateways", "network", price("nat_gateway:hour"), cost.nat_gateways)
    if cost.nat_processed_gb_month:
        item = price("nat_gateway:data_processed")
        yield _quantity_row("NAT gateways: data processed", "network", item, cost.nat_processed_gb_month)
    if cost.public_ips:
        yield _hourly_row("public IPs", "network", price("public_ip:hour"), cost.public_ips)
    yield from _transfer_rows(provider, cost, price)


def _transfer_rows(provider: str, cost: CostSpec, price: _PriceFn) -> Iterator[CostRow]:
    if cost.internet_egress_gb_month:
        item = price("network:internet_egress")
        yield _quantity_row("data transfer: internet egress", "network", item, cost.internet_egress_gb_month)
    if cost.inter_az_gb_month:
        item = price("network:inter_az")
        directions = _INTER_AZ_DIRECTIONS[provider]
        yield _quantity_row("data transfer: inter-AZ", "network", item, cost.inter_az_gb_month, directions)
    if cost.inter_region_gb_month:
        item = price("network:inter_region")
        yield _quantity_row("data transfer: inter-region", "network", item, cost.inter_region_gb_month)


def _other_rows(cost: CostSpec) -> Iterator[CostRow]:
    for name, usd in cost.other_monthly_usd.items():
        yield CostRow(name, "other", float(usd), "given monthly amount", "scenario cost.other_monthly_usd")


# -- public API ---------------------------------------------------------------------------------
def cost_frame(rows: Sequence[CostRow]) -> pd.DataFrame:
    """Breakdown rows as the ``COLUMNS`` table (what ``cost_breakdown`` returns)."""
    data = [(r.component, r.category, r.monthly_usd, r.basis, r.source) for r in rows]
    frame = pd.DataFrame(data, columns=COLUMNS)
    frame["monthly_usd"] = frame["monthly_usd"].astype(float)
    return frame


def cost_rows(
    node_seconds: NodeSeconds,
    duration_s: float,
    provider: str,
    region: str,
    cost: CostSpec,
    catalog: Catalog | None = None,
) -> list[CostRow]:
    """The rows of ``cost_breakdown``, before they become a DataFrame (see there)."""
    cat = catalog or load_catalog()
    prov = normalize_provider(provider)
    return [
        *_node_rows(node_seconds, duration_s, prov, region, cat),
        *_control_plane_rows(prov, cost, cat),
        *_resource_rows(prov, region, cost, cat),
        *_other_rows(cost),
    ]


def cost_breakdown(
    node_seconds: NodeSeconds,
    duration_s: float,
    provider: str,
    region: str,
    cost: CostSpec,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Monthly cost, one row per item: columns ``component, category, monthly_usd, basis, source``.

    ``node_seconds`` has columns ``pool, instance_type, capacity_type ("spot"|"on-demand"), zone,
    node_seconds`` summed over a simulated span of ``duration_s`` seconds; node cost is projected to
    730 h. Control plane, load balancers, NAT and IPs are charged for the whole month; storage and
    transfer from the quantities in ``cost``. Unknown types, classes or items raise CatalogKeyError.
    """
    return cost_frame(cost_rows(node_seconds, duration_s, provider, region, cost, catalog))


def rows_total(rows: Sequence[CostRow], prefix: str = "") -> float:
    """Sum of ``monthly_usd`` over the rows whose component starts with ``prefix``.

    The same figure, to the bit, as ``monthly_total`` of their DataFrame: numpy's sum of the
    column with NaN counted as 0, as pandas sums it.
    """
    usd = np.array([r.monthly_usd for r in rows if r.component.startswith(prefix)], dtype=float)
    return float(np.nansum(usd))


def monthly_total(df: pd.DataFrame) -> float:
    """Sum of ``monthly_usd`` over a breakdown."""
    return float(df["monthly_usd"].sum())


def within_budget(df: pd.DataFrame, cost: CostSpec) -> bool | None:
    """True if the breakdown's total is within ``cost.budget_usd_month``; None when no budget is set."""
    if cost.budget_usd_month is None:
        return None
    return monthly_total(df) <= cost.budget_usd_month


def cost_per_million_requests(monthly_usd: float, requests: float, duration_s: float) -> float:
    """USD per million requests, with ``requests`` served in ``duration_s`` projected to 730 h."""
    if duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    if requests <= 0:
        raise ValueError(f"requests must be > 0, got {requests}")
    monthly_requests = requests * SECONDS_PER_MONTH / duration_s
    return monthly_usd / monthly_requests * 1e6
