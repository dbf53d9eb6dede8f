"""Regenerate ``instance_types.csv`` and ``prices.csv`` from the shared reference price table.

Usage (from the repository root)::

    .venv/bin/python data/build_catalog.py [--reference ../shared/reference/prices.csv] [--check]

The reference table (``../shared/reference/prices.csv``) holds one row per price with its source and
date. This script reshapes it into the two files simkit reads at run time, adds the few figures the
reference does not carry (interruption-band mapping, default max pods) with their own citations, and
labels every assumption in the ``source`` column with the prefix ``assumption:``. The CSVs are
committed, in ``data/`` and in the package copy simkit reads (``simkit/_data/catalog/``); simkit never
reads ``../shared`` at run time. ``--check`` exits 1 if the committed files differ from what the
reference would produce.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = (HERE, HERE.parent / "simkit" / "_data" / "catalog")  # data/ and its copy in the package
DEFAULT_REFERENCE = HERE.parents[1] / "shared" / "reference" / "prices.csv"

INSTANCE_COLUMNS = [
    "provider",
    "region",
    "instance_type",
    "vcpu",
    "memory_gib",
    "ondemand_usd_hour",
    "spot_usd_hour",
    "interruption_band",
    "interruption_monthly_p",
    "max_pods",
    "source",
    "as_of",
    "spot_source",
    "spot_as_of",
    "max_pods_source",
]
PRICE_COLUMNS = ["provider", "region", "item", "unit", "price_usd", "description", "source", "as_of"]

# AWS Spot Instance Advisor band index -> (label, monthly interruption probability).
# Probability = band midpoint, the mapping suggested in ../shared/reference/reliability.md section 1.
AWS_BANDS = {
    0: ("<5%", 0.025),
    1: ("5-10%", 0.075),
    2: ("10-15%", 0.125),
    3: ("15-20%", 0.175),
    4: (">20%", 0.25),
}
RELIABILITY_NOTE = (
    "band from AWS Spot Instance Advisor (spot-advisor-data.json snapshot in ETOgaosion/bamboo, commit "
    "0faa479f, 2024-02-28); monthly p = band midpoint per shared/reference/reliability.md section 1"
)
ASSUMED_BAND = ("5-10% (assumed)", 0.075)
ASSUMED_BAND_NOTE = (
    "assumption: no per-type interruption data for this provider in the reference; band 5-10% "
    "(p=0.075) chosen because the AWS Spot Advisor snapshot (2024-02-28) gives global_rate '<10%' "
    "(shared/reference/reliability.md section 1)"
)
# Azure spot prices are absent from the reference: estimate them with the median AWS us-east-1 spot
# saving (59 %, shared/reference/prices.md "Spot / preemptible discounts").
AZURE_SPOT_SAVING = 0.59
AZURE_SPOT_NOTE = (
    "assumption: Azure spot price not in the reference (Karpenter's static table has none); estimated "
    "as on-demand x (1 - 0.59), 0.59 = median AWS us-east-1 Linux spot saving over 747 types in the "
    "Spot Advisor snapshot of 2024-02-28 (shared/reference/prices.md). Replace with the Azure Retail "
    "Prices API meter ending in ' Spot'"
)

EKS_MAX_PODS_SOURCE = (
    "awslabs/amazon-eks-ami files/eni-max-pods.txt (commit 02343f9bc5f996278d8e20a7f9d889d1a491a79e, "
    "generated 2023-01-25; ENIs x (IPv4 per ENI - 1) + 2)"
)
EKS_MAX_PODS = {
    "t3.large": 35,
    "t3.xlarge": 58,
    "m5.xlarge": 58,
    "m6i.xlarge": 58,
    "c5.xlarge": 58,
    "r5.xlarge": 58,
    "m5.2xlarge": 58,
}
GKE_MAX_PODS = (
    110,
    "GKE Standard default max pods per node = 110 (cloud.google.com/kubernetes-engine/docs/how-to/"
    "flexible-pod-cidr; Kubernetes kubelet default maxPods=110)",
)
AKS_MAX_PODS = (
    250,
    "AKS default max pods with Azure CNI Overlay = 250 (30 with Azure CNI node subnet, 110 other "
    "plugins): docs.azure.cn/en-us/aks/node-autoprovision-aksnodeclass (maxPods comment); "
    "assumption: the cluster uses Azure CNI Overlay",
)

# Reference item label -> catalog item key, per provider.
PRICE_KEYS: dict[tuple[str, str], str] = {
    ("aws", "EKS cluster (standard support)"): "control_plane:standard",
    ("aws", "EKS cluster (extended support)"): "control_plane:extended",
    ("azure", "AKS Free tier"): "control_plane:free",
    ("azure", "AKS Standard tier (Uptime SLA)"): "control_plane:standard",
    ("gcp", "GKE cluster management fee (Standard or Autopilot)"): "control_plane:standard",
    ("aws", "EBS gp3 storage"): "block_storage:gp3",
    ("aws", "EBS gp3 IOPS above 3000 baseline"): "block_storage:gp3_iops",
    ("aws", "EBS gp3 throughput above 125 MiB/s baseline"): "block_storage:gp3_throughput",
    ("aws", "EBS gp2 storage"): "block_storage:gp2",
    ("azure", "Premium SSD P10 (128 GiB, 500 IOPS, 100 MB/s)"): "block_storage:premium_ssd_p10",
    ("azure", "Premium SSD P4 (32 GiB)"): "block_storage:premium_ssd_p4",
    ("gcp", "pd-ssd"): "block_storage:pd-ssd",
    ("gcp", "pd-balanced"): "block_storage:pd-balanced",
    ("gcp", "pd-standard"): "block_storage:pd-standard",
    ("gcp", "pd snapshot"): "block_storage:pd-snapshot",
    ("aws", "S3 Standard storage (first 50 TB)"): "object_storage:standard",
    ("azure", "Blob Storage Hot LRS (first 50 TB) [westus; eastus not verified]"): "object_storage:standard",
    ("gcp", "Cloud Storage Standard (regional)"): "object_storage:standard",
    ("aws", "Inter-AZ data transfer (charged each direction)"): "network:inter_az",
    ("azure", "Inter-AZ data transfer"): "network:inter_az",
    ("gcp", "Inter-zone VM-to-VM (same region)"): "network:inter_az",
    ("aws", "Internet egress first 10 TB/month"): "network:internet_egress",
    ("azure", "Internet egress (Microsoft network routing) 100 GB-10 TB/month"): "network:internet_egress",
    ("gcp", "Internet egress Premium Tier 0-1 TiB/month"): "network:internet_egress",
    ("aws", "Inter-region egress to other regions"): "network:inter_region",
    ("aws", "Application Load Balancer hour"): "load_balancer:hour",
    ("aws", "ALB LCU"): "load_balancer:lcu_hour",
    ("aws", "Network Load Balancer hour"): "load_balancer:nlb_hour",
    ("aws", "NLB NLCU"): "load_balancer:nlcu_hour",
    ("azure", "Standard Load Balancer (first 5 rules)"): "load_balancer:hour",
    ("azure", "Standard Load Balancer additional rule"): "load_balancer:rule_hour",
    ("azure", "Standard Load Balancer data processed"): "load_balancer:data_processed",
    ("gcp", "Forwarding rules, first 5 (LB)"): "load_balancer:hour",
    ("gcp", "LB data processed (in or out)"): "load_balancer:data_processed",
    ("aws", "NAT gateway hour"): "nat_gateway:hour",
    ("aws", "NAT gateway data processed"): "nat_gateway:data_processed",
    ("gcp", "Cloud NAT gateway (max, >=32 VMs)"): "nat_gateway:hour",
    ("gcp", "Cloud NAT data processed"): "nat_gateway:data_processed",
    ("azure", "Public IP static (Standard)"): "public_ip:hour",
    ("gcp", "External IPv4 in use (standard VM)"): "public_ip:hour",
    ("any", "OpenCost default CPU rate"): "unit_rate:cpu_hour",
    ("any", "OpenCost default RAM rate"): "unit_rate:memory_gib_hour",
    ("any", "OpenCost default spot CPU rate"): "unit_rate:spot_cpu_hour",
    ("any", "OpenCost default spot RAM rate"): "unit_rate:spot_memory_gib_hour",
    ("any", "OpenCost default storage rate"): "unit_rate:storage_gb_hour",
}
# Reference rows for another region, used as a stand-in for the catalog region (labelled assumption).
REGION_STAND_INS = {
    ("azure", "object_storage:standard", "westus"): (
        "eastus",
        "assumption: westus list price used for eastus (the reference has no verified eastus figure)",
    ),
}
COMPUTE_KINDS = {"compute_ondemand_linux", "compute_spot_estimate_linux", "compute_spot_linux"}


@dataclass
class _Instance:
    """Accumulates the on-demand and spot reference rows of one instance type."""

    provider: str
    region: str
    name: str
    vcpu: str
    memory_gib: str
    ondemand: str = ""
    source: str = ""
    as_of: str = ""
    spot: str = ""
    spot_source: str = ""
    spot_as_of: str = ""


def _read_reference(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _iso_date(text: str) -> str:
    """'2024-02-28 (advisor snapshot)' -> '2024-02-28'; other values pass through."""
    match = re.match(r"\d{4}(-\d{2}){0,2}", text.strip())
    return match.group(0) if match else text.strip()


def _collect_instances(rows: list[dict[str, str]]) -> list[_Instance]:
    found: dict[tuple[str, str, str], _Instance] = {}
    for row in rows:
        if row["kind"] not in COMPUTE_KINDS:
            continue
        key = (row["provider"], row["region"], row["item"])
        inst = found.setdefault(key, _Instance(*key, vcpu=row["vcpu"], memory_gib=row["memory_gib"]))
        if row["kind"] == "compute_ondemand_linux":
            inst.ondemand, inst.source, inst.as_of = row["price_usd"], row["source"], _iso_date(row["as_of"])
        else:
            inst.spot, inst.spot_source, inst.spot_as_of = (
                row["price_usd"],
                row["source"],
                _iso_date(row["as_of"]),
            )
    return list(found.values())


def _interruption(inst: _Instance) -> tuple[str, float, str]:
    """Band label, monthly probability and its source for one instance type."""
    if inst.provider == "aws":
        match = re.search(r"interruption band r=(\d)", inst.spot_source)
        if not match:
            raise ValueError(f"no interruption band in the spot source of {inst.name}")
        label, p = AWS_BANDS[int(match.group(1))]
        return label, p, RELIABILITY_NOTE
    label, p = ASSUMED_BAND
    return label, p, ASSUMED_BAND_NOTE


def _max_pods(inst: _Instance) -> tuple[int, str]:
    if inst.provider == "aws":
        return EKS_MAX_PODS[inst.name], EKS_MAX_PODS_SOURCE
    return GKE_MAX_PODS if inst.provider == "gcp" else AKS_MAX_PODS


def _fill_azure_spot(inst: _Instance) -> None:
    if inst.spot:
        return
    if inst.provider != "azure":
        raise ValueError(f"no spot price for {inst.provider} {inst.name} in the reference")
    inst.spot = f"{float(inst.ondemand) * (1 - AZURE_SPOT_SAVING):.5f}"
    inst.spot_source = AZURE_SPOT_NOTE
    inst.spot_as_of = inst.as_of


def instance_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One catalog row per instance type, spot and interruption figures merged in."""
    out = []
    for inst in _collect_instances(rows):
        _fill_azure_spot(inst)
        band, p, band_source = _interruption(inst)
        max_pods, max_pods_source = _max_pods(inst)
        out.append(
            {
                "provider": inst.provider,
                "region": inst.region,
                "instance_type": inst.name,
                "vcpu": inst.vcpu,
                "memory_gib": inst.memory_gib,
                "ondemand_usd_hour": inst.ondemand,
                "spot_usd_hour": inst.spot,
                "interruption_band": band,
                "interruption_monthly_p": f"{p}",
                "max_pods": str(max_pods),
                "source": inst.source,
                "as_of": inst.as_of,
                "spot_source": f"{inst.spot_source}; interruption: {band_source}",
                "spot_as_of": inst.spot_as_of,
                "max_pods_source": max_pods_source,
            }
        )
    return sorted(out, key=lambda r: (r["provider"], r["region"], r["instance_type"]))


def price_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One catalog row per non-compute price, keyed by a stable item key."""
    out = []
    for row in rows:
        if row["kind"] in COMPUTE_KINDS:
            continue
        key = PRICE_KEYS.get((row["provider"], row["item"]))
        if key is None:
            raise KeyError(f"reference row without a catalog key: {row['provider']} {row['item']!r}")
        region, source = row["region"], row["source"]
        if (row["provider"], key, region) in REGION_STAND_INS:
            region, note = REGION_STAND_INS[(row["provider"], key, region)]
            source = f"{note}; {source}"
        out.append(
            {
                "provider": row["provider"],
                "region": region,
                "item": key,
                "unit": row["unit"],
                "price_usd": row["price_usd"],
                "description": row["item"],
                "source": source,
                "as_of": row["as_of"].strip(),
            }
        )
    return sorted(out, key=lambda r: (r["provider"], r["region"], r["item"]))


def render(columns: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def build(reference: Path) -> dict[str, str]:
    """File name -> CSV text, as this script would write them."""
    rows = _read_reference(reference)
    return {
        "instance_types.csv": render(INSTANCE_COLUMNS, instance_rows(rows)),
        "prices.csv": render(PRICE_COLUMNS, price_rows(rows)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed CSVs are stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build(args.reference).items():
        for target in (folder / name for folder in TARGETS):
            if args.check:
                if not target.exists() or target.read_text(encoding="utf-8") != text:
                    stale.append(target)
            else:
                target.write_text(text, encoding="utf-8")
    for target in stale:
        print(f"{target} is stale; run data/build_catalog.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
