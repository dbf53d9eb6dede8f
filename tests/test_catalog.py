"""The price catalog: agreement with the shared reference, provenance of every row, lookups, allocatable."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from simkit.catalog import (
    Catalog,
    CatalogKeyError,
    allocatable,
    allocatable_for,
    data_dir,
    kube_reserved_cpu_m,
    kube_reserved_memory_mib,
    load_catalog,
)
from simkit.errors import SimkitError

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference" / "prices.csv"
needs_reference = pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference/prices.csv absent")
DATE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _rows(name: str) -> list[dict[str, str]]:
    with (data_dir() / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_catalog", REPO / "data" / "build_catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


# -- provenance ---------------------------------------------------------------------------------
def test_data_dir_is_the_catalog_folder_shipped_in_the_package() -> None:
    assert data_dir() == REPO / "simkit" / "_data" / "catalog"  # a copy of data/ (tests/test_wheel.py)
    assert (data_dir() / "instance_types.csv").exists()


@pytest.mark.parametrize("name", ["instance_types.csv", "prices.csv"])
def test_every_row_has_a_source_and_an_iso_date(name: str) -> None:
    rows = _rows(name)
    assert rows
    for row in rows:
        assert len(row["source"]) > 20, row
        assert DATE.match(row["as_of"]), row
        if name == "instance_types.csv":
            assert len(row["spot_source"]) > 20 and DATE.match(row["spot_as_of"]), row
            assert len(row["max_pods_source"]) > 20, row


def test_assumptions_are_labelled() -> None:
    """Figures that are not in the reference (Azure spot, non-AWS interruption) say 'assumption:'."""
    for row in _rows("instance_types.csv"):
        if row["provider"] == "azure":
            assert row["spot_source"].startswith("assumption:"), row["instance_type"]
        if row["provider"] != "aws":
            assert "assumption:" in row["spot_source"] and "(assumed)" in row["interruption_band"]


# -- agreement with the shared reference --------------------------------------------------------
@needs_reference
def test_committed_csvs_are_what_the_builder_produces_from_the_reference() -> None:
    built = _builder().build(REFERENCE)
    for name, text in built.items():
        assert (data_dir() / name).read_text(encoding="utf-8") == text, (
            f"{name} stale: run data/build_catalog.py"
        )


@needs_reference
def test_instance_prices_match_reference_rows(catalog: Catalog) -> None:
    with REFERENCE.open(newline="", encoding="utf-8") as fh:
        ref = [r for r in csv.DictReader(fh) if r["kind"].startswith("compute_")]
    assert len(ref) == 26
    for row in ref:
        inst = catalog.instance(row["provider"], row["region"], row["item"])
        assert inst.vcpu == int(row["vcpu"]) and inst.memory_gib == float(row["memory_gib"])
        field = "ondemand_usd_hour" if row["kind"] == "compute_ondemand_linux" else "spot_usd_hour"
        assert getattr(inst, field) == float(row["price_usd"]), (row["item"], field)


@needs_reference
def test_every_reference_price_is_in_the_catalog(catalog: Catalog) -> None:
    with REFERENCE.open(newline="", encoding="utf-8") as fh:
        ref = [r for r in csv.DictReader(fh) if not r["kind"].startswith("compute_")]
    by_description = {(r["provider"], r["description"]): r for r in _rows("prices.csv")}
    for row in ref:
        ours = by_description[(row["provider"], row["item"])]
        assert float(ours["price_usd"]) == float(row["price_usd"]), row["item"]
        assert ours["unit"] == row["unit"]


def test_seed_instance_figures(catalog: Catalog) -> None:
    """Spot-checked by hand against shared/reference/prices.csv and reliability.md section 1."""
    t3x = catalog.instance("aws", "us-east-1", "t3.xlarge")
    assert (t3x.vcpu, t3x.memory_gib, t3x.ondemand_usd_hour, t3x.spot_usd_hour) == (4, 16.0, 0.1664, 0.0716)
    assert (t3x.interruption_band, t3x.interruption_monthly_p, t3x.max_pods) == ("<5%", 0.025, 58)
    r5 = catalog.instance("eks", "us-east-1", "r5.xlarge")
    assert (r5.ondemand_usd_hour, r5.interruption_band, r5.interruption_monthly_p) == (0.252, "5-10%", 0.075)
    m52 = catalog.instance("aws", "us-east-1", "m5.2xlarge")
    assert (m52.interruption_band, m52.interruption_monthly_p) == ("15-20%", 0.175)
    assert catalog.instance("aws", "us-east-1", "t3.large").max_pods == 35


def test_azure_spot_assumption_is_the_stated_discount(catalog: Catalog) -> None:
    d4 = catalog.instance("azure", "eastus", "Standard_D4s_v3")
    assert d4.spot_usd_hour == pytest.approx(0.192 * 0.41, abs=1e-5)


# -- lookups ------------------------------------------------------------------------------------
def test_control_plane_fees(catalog: Catalog) -> None:
    assert catalog.control_plane_usd_hour("aws", "standard") == 0.10
    assert catalog.control_plane_usd_hour("EKS", "extended") == 0.60
    assert catalog.control_plane_usd_hour("aks", "free") == 0.0
    assert catalog.control_plane_usd_hour("azure", "standard") == 0.10
    assert catalog.control_plane_usd_hour("gke", "standard") == 0.10


def test_price_items(catalog: Catalog) -> None:
    gp3 = catalog.price("aws", "us-east-1", "block_storage:gp3")
    assert (gp3.price_usd, gp3.unit) == (0.08, "USD/GB-month")
    assert "infracost" in gp3.source
    assert catalog.price_usd("gcp", "us-central1", "network:internet_egress") == 0.12
    blob = catalog.price("azure", "eastus", "object_storage:standard")
    assert blob.source.startswith("assumption:")


def test_unknown_instance_type_lists_known_ones(catalog: Catalog) -> None:
    with pytest.raises(CatalogKeyError) as err:
        catalog.instance("aws", "us-east-1", "t3.xxl")
    msg = str(err.value)
    known = "known: c5.2xlarge, c5.large, c5.xlarge"
    assert msg.startswith(f"unknown instance type 't3.xxl' for aws us-east-1; {known}")
    assert "t3.xlarge" in msg and "n2-standard-4" not in msg
    assert isinstance(err.value, KeyError) and isinstance(err.value, SimkitError)


def test_unknown_region_lists_known_regions(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=r"unknown provider/region aws eu-west-1; known: .*aws us-east-1"):
        catalog.instance("aws", "eu-west-1", "t3.large")


def test_unknown_item_and_tier_list_known_ones(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=r"'public_ip:hour' for aws us-east-1; known: .*block_storage:gp3"):
        catalog.price("aws", "us-east-1", "public_ip:hour")
    with pytest.raises(KeyError, match=r"tier 'premium' for azure; known: free, standard"):
        catalog.control_plane_usd_hour("azure", "premium")


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_usd_hour_by_capacity_type(catalog: Catalog) -> None:
    t3 = catalog.instance("aws", "us-east-1", "t3.large")
    assert t3.usd_hour("spot") == 0.0391 and t3.usd_hour("on-demand") == 0.0832
    with pytest.raises(ValueError, match="capacity type"):
        t3.usd_hour("reserved")


# -- allocatable --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vcpu", "expected_m"),
    # awslabs/amazon-eks-ami files/bootstrap.sh get_cpu_millicores_to_reserve, worked by hand:
    # 1 core 60; 2 cores 60+10; 4 cores 60+10+5+5; 8 cores 80 + 4000*25/10000 = 90; 96 cores 80 + 230.
    [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (96, 310)],
)
def test_eks_cpu_reservation(vcpu: int, expected_m: int) -> None:
    assert kube_reserved_cpu_m("aws", vcpu) == expected_m


def test_eks_allocatable_m5_and_t3_xlarge() -> None:
    """4 vCPU / 16 GiB / 58 pods (eni-max-pods.txt): 3920m; 16384 - (11*58 + 255 = 893) - 100 Mi."""
    assert allocatable("eks", 4, 16, 58) == (3920, 15391.0)
    assert kube_reserved_memory_mib("aws", 16, 58) == 893


def test_eks_allocatable_t3_large_uses_35_pods(catalog: Catalog) -> None:
    # 2 vCPU: 2000 - 70 = 1930m; 8192 - (11*35 + 255 = 640) - 100 = 7452 MiB
    assert allocatable_for(catalog.instance("aws", "us-east-1", "t3.large")) == (1930, 7452.0)
    assert allocatable_for(catalog.instance("aws", "us-east-1", "r5.xlarge")) == (3920, 32768 - 893 - 100)


def test_gke_allocatable_matches_published_tiers() -> None:
    # plan-node-sizes example output: 4-vCPU node -> allocatable cpu 3920m.
    # memory 16 GiB: 0.25*4 + 0.20*4 + 0.10*8 = 2.6 GiB reserved, + 100 MiB eviction.
    cpu, mem = allocatable("gke", 4, 16, 110)
    assert cpu == 3920
    assert mem == pytest.approx(16384 - 2.6 * 1024 - 100)
    assert kube_reserved_memory_mib("gcp", 0.6, 110) == 255.0
    # 200 GiB: 1 + 0.8 + 0.8 + 0.06*112 + 0.02*72 = 10.76 GiB
    assert kube_reserved_memory_mib("gcp", 200, 110) == pytest.approx(10.76 * 1024)


def test_aks_allocatable_matches_published_example() -> None:
    # AKS node-resource-reservations: 8 GB, 30 max pods -> 20*30 + 50 = 650 reserved, 100 eviction.
    assert allocatable("aks", 2, 8, 30) == (2000 - 100, 8192 - 650 - 100)
    # 4 GB and 70 pods -> 25 % of memory (1024) is smaller than 20*70+50 = 1450.
    assert kube_reserved_memory_mib("azure", 4, 70) == 1024
    table = {1: 60, 2: 100, 4: 140, 8: 180, 16: 260, 32: 420, 64: 740}
    assert {c: kube_reserved_cpu_m("azure", c) for c in table} == table
    assert kube_reserved_cpu_m("azure", 6) == 160  # interpolated between 4 (140) and 8 (180)


def test_allocatable_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        allocatable("ibm", 4, 16, 58)
    with pytest.raises(ValueError, match="must be positive"):
        allocatable("aws", 0, 16, 58)


# -- the planner's families (data/sources/) -----------------------------------------------------
@needs_reference
def test_reference_rows_are_byte_identical_in_the_extended_catalog() -> None:
    builder = _builder()
    old = builder.render(builder.INSTANCE_COLUMNS, builder.instance_rows(builder._read_reference(REFERENCE)))
    new = (data_dir() / "instance_types.csv").read_text(encoding="utf-8").splitlines()
    assert new[0] == old.splitlines()[0]  # same header, same columns
    missing = [line for line in old.splitlines() if line not in set(new)]
    assert missing == []
    assert len(new) > len(old.splitlines()) + 60


@pytest.mark.parametrize(
    ("provider", "wanted"),
    [
        (
            "aws",
            {
                "general-purpose": {"m5.large", "m6i.large", "m7i.2xlarge"},
                "compute": {"c5.large", "c6i.xlarge", "c7i.large"},
                "memory": {"r5.large", "r6i.2xlarge"},
                "burstable": {"t3.medium", "t3a.xlarge", "t4g.medium"},
            },
        ),
        (
            "azure",
            {
                "general-purpose": {"Standard_D2s_v5", "Standard_D4ps_v5"},
                "compute": {"Standard_F4s_v2"},
                "memory": {"Standard_E8s_v5"},
                "burstable": {"Standard_B2s", "Standard_B2ms", "Standard_B4ms"},
            },
        ),
        (
            "gcp",
            {
                "general-purpose": {"n2-standard-8", "e2-standard-2", "t2a-standard-4"},
                "compute": {"n2-highcpu-4", "c3-standard-4"},
                "memory": {"n2-highmem-2"},
                "burstable": {"e2-small", "e2-medium"},
            },
        ),
    ],
)
def test_every_cloud_has_the_families_a_planner_picks_from(
    catalog: Catalog, provider: str, wanted: dict[str, set[str]]
) -> None:
    types = catalog.instance_types(provider)
    for category, names in wanted.items():
        assert names <= {i.name for i in types if i.category == category}, category
    assert any(i.arch == "arm64" for i in types), "no Arm type"


def test_arch_and_burst_figures(catalog: Catalog) -> None:
    assert catalog.instance("aws", "us-east-1", "m7g.large").arch == "arm64"
    assert catalog.instance("aws", "us-east-1", "t4g.large").arch == "arm64"
    assert catalog.instance("azure", "eastus", "Standard_D2ps_v5").arch == "arm64"
    assert catalog.instance("gcp", "us-central1", "t2a-standard-2").arch == "arm64"
    assert catalog.instance("aws", "us-east-1", "m5.large").arch == "amd64"
    t3l = catalog.instance("aws", "us-east-1", "t3.large")
    assert (t3l.baseline_cpu_share, t3l.cpu_credits_per_hour, t3l.cpu_credits_max) == (0.3, 36.0, 864.0)
    b2s = catalog.instance("azure", "eastus", "Standard_B2s")
    assert (b2s.baseline_cpu_share, b2s.cpu_credits_per_hour, b2s.cpu_credits_max) == (0.2, 24.0, 576.0)
    assert not catalog.instance("aws", "us-east-1", "m5.large").burstable
    for inst in catalog.instance_types():
        assert inst.burstable == (inst.category == "burstable"), inst.name
        if inst.burstable:  # earning at the baseline: credits/h = share x vCPU x 60 min
            assert inst.cpu_credits_per_hour == pytest.approx(inst.baseline_cpu_share * inst.vcpu * 60)
            assert len(inst.burst_source) > 40


def test_detail_rows_have_sources_and_assumptions_are_labelled() -> None:
    for row in _rows("instance_details.csv"):
        assert len(row["details_source"]) > 40, row
        if row["category"] == "burstable":
            assert DATE.match(row["burst_as_of"]) and len(row["burst_source"]) > 40, row
            if row["provider"] == "gcp":  # GCP publishes no credit rate or cap
                assert "assumption:" in row["burst_source"]
        else:
            assert row["baseline_cpu_share"] == row["burst_source"] == "", row


def test_new_rows_cite_the_public_files_and_dates() -> None:
    for row in _rows("instance_types.csv"):
        if row["provider"] == "aws":
            assert "6fc13b5236fd04fd16ff3f9dc7490d0813994099" in row["source"]
            assert "0faa479f" in row["spot_source"] and row["spot_as_of"] == "2024-02-28"
            assert "amazon-eks-ami" in row["max_pods_source"]
        if row["provider"] == "gcp":
            assert "fd66b26ff84fee5cdd94f341ea89206e76c06b99" in row["source"]
        if row["provider"] == "azure":
            assert "352646f599290c3a6d2f9710fb535a7b288f88ed" in row["source"]
