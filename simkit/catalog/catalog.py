"""The price catalog: instance types and unit prices read from the CSVs shipped in the package.

The CSVs are generated from ``../shared/reference/prices.csv`` by ``data/build_catalog.py`` and
committed to ``data/`` with a byte-identical copy in the package (``simkit/_data/catalog/``, read with
``importlib.resources``), so a run never depends on files outside the installed package. Every row
carries its source and the date of the underlying price data; figures that are assumptions say so in
their source.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from simkit._data import packaged
from simkit.errors import SimkitError

__all__ = [
    "HOURS_PER_MONTH",
    "Catalog",
    "CatalogKeyError",
    "InstanceType",
    "PriceItem",
    "data_dir",
    "load_catalog",
]

HOURS_PER_MONTH = 730.0
"""Hours in a billing month, the convention of infracost and the AWS/Azure calculators (prices.md)."""

_PROVIDER_ALIASES = {"eks": "aws", "aks": "azure", "gke": "gcp", "google": "gcp"}


class CatalogKeyError(SimkitError, KeyError):
    """An instance type, region, item or tier the catalog does not know; the message lists known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class InstanceType:
    """One instance type in one region: size, hourly prices and spot interruption estimate."""

    provider: str
    region: str
    name: str
    vcpu: int
    memory_gib: float
    ondemand_usd_hour: float
    spot_usd_hour: float
    interruption_band: str
    interruption_monthly_p: float
    max_pods: int
    source: str
    as_of: str
    spot_source: str
    spot_as_of: str
    max_pods_source: str
    # from instance_details.csv: what a planner picks by, and the CPU credit figures of burstable types
    family: str = ""
    category: str = ""  # general-purpose | compute | memory | burstable
    arch: str = "amd64"  # amd64 | arm64
    baseline_cpu_share: float | None = None  # of each vCPU, sustained without credits
    cpu_credits_per_hour: float | None = None  # one credit = one vCPU at 100 % for one minute
    cpu_credits_max: float | None = None
    burst_source: str = ""

    @property
    def burstable(self) -> bool:
        """Whether the type runs above its baseline CPU only on credits (t3/t4g, B-series, e2 shared-core)."""
        return self.baseline_cpu_share is not None

    def usd_hour(self, capacity_type: str) -> float:
        """Hourly price for ``"spot"`` or ``"on-demand"`` capacity."""
        kind = capacity_type.lower().replace("_", "-")
        if kind == "spot":
            return self.spot_usd_hour
        if kind in ("on-demand", "ondemand"):
            return self.ondemand_usd_hour
        raise ValueError(f"capacity type must be 'spot' or 'on-demand', got {capacity_type!r}")


@dataclass(frozen=True)
class PriceItem:
    """A unit price (control plane hour, GB-month of storage, GB transferred, ...)."""

    provider: str
    region: str
    item: str
    unit: str
    price_usd: float
    description: str
    source: str
    as_of: str


def normalize_provider(provider: str) -> str:
    """'EKS' -> 'aws', 'gke' -> 'gcp'; provider names are case-insensitive."""
    key = provider.strip().lower()
    return _PROVIDER_ALIASES.get(key, key)


def _known(names: Iterable[str]) -> str:
    return ", ".join(sorted(set(names))) or "(none)"


class Catalog:
    """Lookup of instance types and prices by provider, region and key."""

    def __init__(self, instances: Iterable[InstanceType], prices: Iterable[PriceItem]) -> None:
        self._instances = {(i.provider, i.region, i.name): i for i in instances}
        self._prices = {(p.provider, p.region, p.item): p for p in prices}

    # -- instance types -------------------------------------------------------------------------
    def instance_types(self, provider: str | None = None, region: str | None = None) -> list[InstanceType]:
        """All instance types, optionally filtered by provider and region, sorted by name."""
        prov = normalize_provider(provider) if provider else None
        rows = [
            i
            for (p, r, _), i in self._instances.items()
            if (prov is None or p == prov) and (region is None or r == region)
        ]
        return sorted(rows, key=lambda i: (i.provider, i.region, i.name))

    def regions(self) -> list[tuple[str, str]]:
        """(provider, region) pairs that have instance types."""
        return sorted({(p, r) for p, r, _ in self._instances})

    def instance(self, provider: str, region: str, instance_type: str) -> InstanceType:
        """The instance type, or a CatalogKeyError listing the known types (or regions)."""
        prov = normalize_provider(provider)
        found = self._instances.get((prov, region, instance_type))
        if found is not None:
            return found
        self._check_region(prov, region)
        known = _known(n for p, r, n in self._instances if (p, r) == (prov, region))
        raise CatalogKeyError(f"unknown instance type {instance_type!r} for {prov} {region}; known: {known}")

    def _check_region(self, provider: str, region: str) -> None:
        pairs = {(p, r) for p, r, _ in self._instances} | {(p, r) for p, r, _ in self._prices}
        if (provider, region) not in pairs:
            known = _known(f"{p} {r}" for p, r in pairs if p != "any")
            raise CatalogKeyError(f"unknown provider/region {provider} {region}; known: {known}")

    # -- prices ---------------------------------------------------------------------------------
    def price(self, provider: str, region: str, item_key: str) -> PriceItem:
        """The price row for ``item_key`` (e.g. ``"block_storage:gp3"``), or a CatalogKeyError."""
        prov = normalize_provider(provider)
        found = self._prices.get((prov, region, item_key))
        if found is not None:
            return found
        self._check_region(prov, region)
        known = _known(i for p, r, i in self._prices if (p, r) == (prov, region))
        raise CatalogKeyError(f"unknown price item {item_key!r} for {prov} {region}; known: {known}")

    def price_usd(self, provider: str, region: str, item_key: str) -> float:
        """Shortcut for ``price(...).price_usd``."""
        return self.price(provider, region, item_key).price_usd

    def items(self, provider: str, region: str) -> list[PriceItem]:
        """All price rows of one provider/region."""
        prov = normalize_provider(provider)
        return sorted((v for (p, r, _), v in self._prices.items() if (p, r) == (prov, region)), key=str)

    def control_plane(self, provider: str, tier: str) -> PriceItem:
        """Control-plane fee row for a tier: EKS standard|extended, AKS free|standard, GKE standard."""
        prov = normalize_provider(provider)
        key = f"control_plane:{tier.strip().lower()}"
        for (p, _, item), row in sorted(self._prices.items()):
            if p == prov and item == key:
                return row
        tiers = _known(
            i.split(":", 1)[1] for p, _, i in self._prices if p == prov and i.startswith("control_plane:")
        )
        raise CatalogKeyError(f"unknown control-plane tier {tier!r} for {prov}; known: {tiers}")

    def control_plane_usd_hour(self, provider: str, tier: str) -> float:
        """USD per cluster-hour of the managed control plane."""
        return self.control_plane(provider, tier).price_usd


# -- loading ------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def data_dir() -> Path:
    """The catalog folder shipped in the package (a copy of the repository's ``data/`` CSVs and README)."""
    return packaged("catalog")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _optional_float(text: str) -> float | None:
    return float(text) if text else None


def _details_from_row(row: dict[str, str]) -> dict[str, object]:
    return {
        "family": row["family"],
        "category": row["category"],
        "arch": row["arch"],
        "baseline_cpu_share": _optional_float(row["baseline_cpu_share"]),
        "cpu_credits_per_hour": _optional_float(row["cpu_credits_per_hour"]),
        "cpu_credits_max": _optional_float(row["cpu_credits_max"]),
        "burst_source": row["burst_source"],
    }


def _instance_from_row(row: dict[str, str], details: dict[str, object] | None = None) -> InstanceType:
    return InstanceType(
        provider=row["provider"],
        region=row["region"],
        name=row["instance_type"],
        vcpu=int(row["vcpu"]),
        memory_gib=float(row["memory_gib"]),
        ondemand_usd_hour=float(row["ondemand_usd_hour"]),
        spot_usd_hour=float(row["spot_usd_hour"]),
        interruption_band=row["interruption_band"],
        interruption_monthly_p=float(row["interruption_monthly_p"]),
        max_pods=int(row["max_pods"]),
        source=row["source"],
        as_of=row["as_of"],
        spot_source=row["spot_source"],
        spot_as_of=row["spot_as_of"],
        max_pods_source=row["max_pods_source"],
        **(details or {}),  # type: ignore[arg-type]
    )


def _price_from_row(row: dict[str, str]) -> PriceItem:
    return PriceItem(
        provider=row["provider"],
        region=row["region"],
        item=row["item"],
        unit=row["unit"],
        price_usd=float(row["price_usd"]),
        description=row["description"],
        source=row["source"],
        as_of=row["as_of"],
    )


@lru_cache(maxsize=4)
def _load(directory: Path) -> Catalog:
    details_path = directory / "instance_details.csv"
    details = {
        (r["provider"], r["region"], r["instance_type"]): _details_from_row(r)
        for r in (_read_csv(details_path) if details_path.exists() else [])
    }
    instances = [
        _instance_from_row(r, details.get((r["provider"], r["region"], r["instance_type"])))
        for r in _read_csv(directory / "instance_types.csv")
    ]
    prices = [_price_from_row(r) for r in _read_csv(directory / "prices.csv")]
    return Catalog(instances, prices)


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load (once, then cached) the shipped catalog, or the one in another directory with the same CSVs."""
    return _load(Path(directory).resolve() if directory is not None else data_dir())
