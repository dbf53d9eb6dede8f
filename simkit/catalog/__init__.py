"""Instance types, prices and node allocatable, read from the CSVs shipped in the package.

The package's copy (``simkit/_data/catalog/``) is byte-identical to the repository's ``data/``.
"""

from simkit.catalog.allocatable import (
    EVICTION_HARD_MIB,
    allocatable,
    allocatable_for,
    kube_reserved_cpu_m,
    kube_reserved_memory_mib,
)
from simkit.catalog.catalog import (
    HOURS_PER_MONTH,
    Catalog,
    CatalogKeyError,
    InstanceType,
    PriceItem,
    data_dir,
    load_catalog,
    normalize_provider,
)

__all__ = [
    "EVICTION_HARD_MIB",
    "HOURS_PER_MONTH",
    "Catalog",
    "CatalogKeyError",
    "InstanceType",
    "PriceItem",
    "allocatable",
    "allocatable_for",
    "data_dir",
    "kube_reserved_cpu_m",
    "kube_reserved_memory_mib",
    "load_catalog",
    "normalize_provider",
]
