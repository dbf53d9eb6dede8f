"""Regenerate ``instance_types.csv`` and ``prices.csv`` from the shared reference price table.

Usage (from the repository root)::

    .venv/bin/python data/build_catalog.py [--reference ../shared/reference/prices.csv] [--check]
    .venv/bin/python data/build_catalog.py --extract /work/.mirror   # refresh data/sources/ (see below)

The reference table (``../shared/reference/prices.csv``) holds one row per price with its source and
date. This script reshapes it into the two files simkit reads at run time, adds the few figures the
reference does not carry (interruption-band mapping, default max pods) with their own citations, and
labels every assumption in the ``source`` column with the prefix ``assumption:``. The CSVs are
committed, in ``data/`` and in the package copy simkit reads (``simkit/_data/catalog/``); simkit never
reads ``../shared`` at run time. ``--check`` exits 1 if the committed files differ from what the
reference would produce.

A second, separate input adds the instance families a planner picks from (general purpose, compute,
memory, burstable, Arm on all three clouds): ``data/sources/instances_public.csv``, one row per type
not in the reference, extracted by ``--extract MIRROR`` from the same public files (and commits) the
reference cites, read from git mirrors under ``MIRROR`` (``owner+name/repo``). Those rows are appended to
``instance_types.csv``; the reference rows are written unchanged. ``instance_details.csv`` gives every
type its family, category, CPU architecture and, for burstable types, the baseline CPU share and CPU
credit figures of ``data/sources/burstable.csv``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

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


# -- the planner's families: a second input, extracted from public files --------------------------
SOURCES = HERE / "sources"
PUBLIC_INSTANCES = SOURCES / "instances_public.csv"
BURSTABLE = SOURCES / "burstable.csv"
PUBLIC_COLUMNS = [*INSTANCE_COLUMNS, "family", "category", "arch", "details_source"]
DETAIL_COLUMNS = [
    "provider",
    "region",
    "instance_type",
    "family",
    "category",
    "arch",
    "details_source",
    "baseline_cpu_share",
    "cpu_credits_per_hour",
    "cpu_credits_max",
    "burst_source",
    "burst_as_of",
]
_SIZES = ("large", "xlarge", "2xlarge")
PLANNER_TYPES: dict[str, tuple[str, ...]] = {
    "aws": (
        *(f"{f}.{s}" for f in ("m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i") for s in _SIZES),
        *(f"{f}.{s}" for f in ("m6g", "m7g", "c7g") for s in _SIZES),
        *(f"{f}.{s}" for f in ("t3", "t3a", "t4g") for s in ("medium", "large", "xlarge")),
    ),
    "azure": (
        *(f"Standard_{x}{n}s_v5" for x in ("D", "E") for n in (2, 4, 8)),
        *(f"Standard_F{n}s_v2" for n in (2, 4, 8)),
        *(f"Standard_D{n}ps_v5" for n in (2, 4, 8)),
        "Standard_B2s",
        "Standard_B2ms",
        "Standard_B4ms",
    ),
    "gcp": (
        *(f"{f}-{n}" for f in ("n2-standard", "e2-standard", "n2-highcpu", "n2-highmem") for n in (2, 4, 8)),
        "c3-standard-4",
        "c3-standard-8",
        "e2-small",
        "e2-medium",
        *(f"t2a-standard-{n}" for n in (1, 2, 4, 8)),
    ),
}


@dataclass(frozen=True)
class PublicFile:
    """One public file at one commit, read from a git mirror (``MIRROR/owner+name/repo``)."""

    repo: str
    path: str
    commit: str
    date: str  # the data's own date (generator header or commit date)

    def read(self, mirror: Path) -> str:
        git_dir = mirror / self.repo.replace("/", "+") / "repo"
        cmd = ["git", "--git-dir", str(git_dir), "show", f"{self.commit}:{self.path}"]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def cite(self) -> str:
        return f"github {self.repo} {self.path} (commit {self.commit})"


AWS_PRICES = PublicFile(
    "aws/karpenter-provider-aws",
    "pkg/providers/pricing/zz_generated.pricing_aws.go",
    "6fc13b5236fd04fd16ff3f9dc7490d0813994099",
    "2026-07-20",
)
SPOT_ADVISOR = PublicFile(
    "ETOgaosion/bamboo",
    "data/spot-advisor-data.json",
    "0faa479fbca26f06d74fa8e356ca06d88ab1f862",
    "2024-02-28",
)
ENI_MAX_PODS = PublicFile(
    "awslabs/amazon-eks-ami",
    "files/eni-max-pods.txt",
    "02343f9bc5f996278d8e20a7f9d889d1a491a79e",
    "2023-01-25",
)
# m7i, c7i and m7g came after that file: the newest copy before it was dropped from the repository.
ENI_MAX_PODS_NEW = PublicFile(
    "awslabs/amazon-eks-ami",
    "templates/shared/runtime/eni-max-pods.txt",
    "2377b69aaeb8d751af1a265c2bfbeb94e6f6da90",
    "2026-02-27",
)
AZURE_PRICES = PublicFile(
    "Azure/karpenter-provider-azure",
    "pkg/providers/pricing/zz_generated.pricing.go",
    "352646f599290c3a6d2f9710fb535a7b288f88ed",
    "2026-06-18",
)
AZURE_SKUS = PublicFile(
    "Azure/karpenter-provider-azure",
    "pkg/providers/instancetype/known_skus.yaml",
    "352646f599290c3a6d2f9710fb535a7b288f88ed",
    "2026-06-18",
)
GCP_PRICES = PublicFile(
    "Cyclenerd/google-cloud-pricing-cost-calculator",
    "pricing.yml",
    "fd66b26ff84fee5cdd94f341ea89206e76c06b99",
    "2026-07-30",
)
AWS_SOURCE = (
    "github aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (header "
    "'generated at "
    "2026-07-20T13:44:30Z for us-east-1'; commit 6fc13b5236fd04fd16ff3f9dc7490d0813994099; data from AWS "
    "Pricing API); vCPU/mem: github ETOgaosion/bamboo data/spot-advisor-data.json (copy of "
    "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json; committed 2024-02-28, commit "
    "0faa479fbca26f06d74fa8e356ca06d88ab1f862) - vCPU=cores, mem=ram_gb"
)
AWS_SPOT_SOURCE = (
    "derived: on-demand x (1 - savings); AWS Spot Instance Advisor savings s={s}% and interruption band "
    "r={r} ({label}) from github ETOgaosion/bamboo data/spot-advisor-data.json (copy of "
    "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json; committed 2024-02-28, commit "
    "0faa479fbca26f06d74fa8e356ca06d88ab1f862) - vCPU=cores, mem=ram_gb"
)
AZURE_SOURCE = (
    "github Azure/karpenter-provider-azure pkg/providers/pricing/zz_generated.pricing.go (header "
    "'generated at "
    "2026-06-18T03:43:41Z'; snapshot commit 352646f599290c3a6d2f9710fb535a7b288f88ed; Azure Retail "
    "Prices API, "
    "Consumption, Windows and Low Priority/Spot meters excluded => Linux pay-as-you-go) initialOnDemandPrices"
    "[eastus]; vCPU/mem: Azure size tables (MicrosoftDocs Dsv5/Esv5/Fsv2/Dpsv5/B-series pages: the number in "
    "the name is the vCPU count, {gib_per_vcpu} GiB per vCPU) - not machine-verified here"
)
GCP_SOURCE = (
    "github Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml (generated Thu Jul 30 06:13:17 2026; "
    "commit fd66b26ff84fee5cdd94f341ea89206e76c06b99; built from Cloud Billing Catalog API SKUs) "
    "compute.instance.<type>.cost.us-central1.hour; vCPU/mem: compute.instance.<type>.cpu/ram"
)
GCP_SHARED_CORE_VCPU = (
    "; vcpu=2: e2 shared-core types expose 2 vCPUs that share {cpu} sustained vCPU (pricing.yml 'cpu: {cpu}' "
    "is the billed fraction; GKE schedules against the 2 vCPUs)"
)
GCP_SPOT_SOURCE = (
    "github Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml (generated Thu Jul 30 06:13:17 2026; "
    "commit fd66b26ff84fee5cdd94f341ea89206e76c06b99; built from Cloud Billing Catalog API SKUs) "
    "compute.instance.<type>.cost.us-central1.hour_spot (Spot VM price; dynamic, changes up to once "
    "per 30 days)"
)
NAMING_SOURCE = {
    "aws": "family/category/arch from the type name: AWS instance type naming "
    "(docs.aws.amazon.com/ec2/latest/"
    "instancetypes/instance-type-names.html: series letter m general purpose, c compute, r memory, t "
    "burstable; processor suffix g = AWS Graviton, arm64)",
    "azure": "family/category/arch from the size name: Azure VM naming conventions "
    "(learn.microsoft.com/azure/"
    "virtual-machines/vm-naming-conventions: D general purpose, F compute, E memory, B burstable; p = Arm "
    "(Ampere Altra)); Karpenter's known_skus.yaml families (commit 352646f5) agree, e.g. standardDPSv5Family",
    "gcp": "family/category/arch from the machine type: GCP machine families (cloud.google.com/compute/docs/"
    "machine-resource: n2/e2-standard and t2a general purpose, n2-highcpu and c3 compute, n2-highmem memory, "
    "e2-micro/small/medium shared-core; T2A = Ampere Altra, arm64)",
}


def _num(value: float) -> str:
    """A figure as the reference writes it: the source's digits, no trailing zeros."""
    return repr(float(value))


def classify(provider: str, name: str) -> tuple[str, str, str]:
    """(family, category, arch) of an instance type, from its name (see NAMING_SOURCE)."""
    if provider == "aws":
        family = name.split(".")[0]
        category = {"m": "general-purpose", "c": "compute", "r": "memory", "t": "burstable"}[family[0]]
        return family, category, "arm64" if re.fullmatch(r"[a-z]+\d+g", family) else "amd64"
    if provider == "azure":
        match = re.fullmatch(r"Standard_([A-Z])(\d+)([a-z]*)(?:_(v\d+))?", name)
        if not match:
            raise ValueError(f"unexpected Azure size name {name!r}")
        letter, _, flags, version = match.groups()
        category = {"D": "general-purpose", "F": "compute", "E": "memory", "B": "burstable"}[letter]
        family = f"{letter}{flags.replace('m', '')}{version or ''}".replace("_", "")
        return family, category, "arm64" if "p" in flags else "amd64"
    series = name.rsplit("-", 1)[0]
    if name in ("e2-micro", "e2-small", "e2-medium"):
        return "e2-shared-core", "burstable", "amd64"
    category = {"n2-highcpu": "compute", "c3-standard": "compute", "c2-standard": "compute"}.get(series)
    category = category or ("memory" if series.endswith("highmem") else "general-purpose")
    return series, category, "arm64" if series.startswith("t2a") else "amd64"


def _eni_max_pods(text: str) -> dict[str, str]:
    return dict(line.split() for line in text.splitlines() if line and line[0] != "#")


def _aws_public(mirror: Path) -> list[dict[str, str]]:
    prices = {k: float(v) for k, v in re.findall(r'"([a-z0-9.-]+)": ([0-9.]+)', AWS_PRICES.read(mirror))}
    advisor = json.loads(SPOT_ADVISOR.read(mirror))
    pods_old = dict(
        line.split() for line in ENI_MAX_PODS.read(mirror).splitlines() if line and line[0] != "#"
    )
    pods_new = dict(
        line.split() for line in ENI_MAX_PODS_NEW.read(mirror).splitlines() if line and line[0] != "#"
    )
    rows = []
    for name in PLANNER_TYPES["aws"]:
        size, spot = advisor["instance_types"][name], advisor["spot_advisor"]["us-east-1"]["Linux"][name]
        label, p = AWS_BANDS[spot["r"]]
        if name in pods_old:
            max_pods, pods_source = pods_old[name], EKS_MAX_PODS_SOURCE
        else:
            max_pods = pods_new[name]
            pods_source = (
                f"{ENI_MAX_PODS_NEW.cite()} (file dated {ENI_MAX_PODS_NEW.date}; the type is newer than "
                f"commit 02343f9b; ENIs x (IPv4 per ENI - 1) + 2)"
            )
        spot_source = AWS_SPOT_SOURCE.format(s=spot["s"], r=spot["r"], label=label)
        rows.append(
            {
                "vcpu": str(size["cores"]),
                "memory_gib": _num(size["ram_gb"]).removesuffix(".0"),
                "ondemand_usd_hour": _num(prices[name]),
                "spot_usd_hour": _num(round(prices[name] * (1 - spot["s"] / 100), 4)),
                "interruption_band": label,
                "interruption_monthly_p": f"{p}",
                "max_pods": max_pods,
                "source": AWS_SOURCE,
                "as_of": AWS_PRICES.date,
                "spot_source": f"{spot_source}; interruption: {RELIABILITY_NOTE}",
                "spot_as_of": SPOT_ADVISOR.date,
                "max_pods_source": pods_source,
                "instance_type": name,
                "provider": "aws",
                "region": "us-east-1",
            }
        )
    return rows


_AZURE_GIB_PER_VCPU = {"D": 4, "E": 8, "F": 2}
_AZURE_B_SIZES = {"Standard_B2s": (2, 4), "Standard_B2ms": (2, 8), "Standard_B4ms": (4, 16)}


def _azure_public(mirror: Path) -> list[dict[str, str]]:
    text = AZURE_PRICES.read(mirror)
    block = text[text.index('initialOnDemandPrices["eastus"]') :]
    block = block[: block.index("}")]
    prices = {k: float(v) for k, v in re.findall(r'"(Standard_[A-Za-z0-9_]+)":\s+([0-9.]+)', block)}
    known = set(re.findall(r"- name: (\S+)", AZURE_SKUS.read(mirror)))
    rows = []
    for name in PLANNER_TYPES["azure"]:
        if name not in known:
            raise ValueError(f"{name} not in Karpenter's known_skus.yaml")
        if name in _AZURE_B_SIZES:
            vcpu, mem = _AZURE_B_SIZES[name]
            gib = "B2s 2, B2ms 4, B4ms 4"
        else:
            vcpu = int(re.findall(r"\d+", name)[0])
            gib = str(_AZURE_GIB_PER_VCPU[name[len("Standard_")]])
            mem = vcpu * int(gib)
        inst = _Instance(
            "azure", "eastus", name, str(vcpu), str(mem), _num(prices[name]), "", AZURE_PRICES.date
        )
        _fill_azure_spot(inst)
        label, p = ASSUMED_BAND
        max_pods, pods_source = AKS_MAX_PODS
        rows.append(
            {
                "vcpu": inst.vcpu,
                "memory_gib": inst.memory_gib,
                "ondemand_usd_hour": inst.ondemand,
                "spot_usd_hour": inst.spot,
                "interruption_band": label,
                "interruption_monthly_p": f"{p}",
                "max_pods": str(max_pods),
                "source": AZURE_SOURCE.format(gib_per_vcpu=gib),
                "as_of": AZURE_PRICES.date,
                "spot_source": f"{inst.spot_source}; interruption: {ASSUMED_BAND_NOTE}",
                "spot_as_of": inst.spot_as_of,
                "max_pods_source": pods_source,
                "instance_type": name,
                "provider": "azure",
                "region": "eastus",
            }
        )
    return rows


def _gcp_public(mirror: Path) -> list[dict[str, str]]:
    catalog = yaml.load(GCP_PRICES.read(mirror), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    rows = []
    for name in PLANNER_TYPES["gcp"]:
        entry = catalog["compute"]["instance"][name]
        cost = entry["cost"]["us-central1"]
        source, vcpu = GCP_SOURCE, entry["cpu"]
        if name in ("e2-micro", "e2-small", "e2-medium"):
            source += GCP_SHARED_CORE_VCPU.format(cpu=vcpu)
            vcpu = 2
        label, p = ASSUMED_BAND
        max_pods, pods_source = GKE_MAX_PODS
        rows.append(
            {
                "vcpu": str(int(vcpu)),
                "memory_gib": _num(entry["ram"]).removesuffix(".0"),
                "ondemand_usd_hour": _num(cost["hour"]),
                "spot_usd_hour": _num(cost["hour_spot"]),
                "interruption_band": label,
                "interruption_monthly_p": f"{p}",
                "max_pods": str(max_pods),
                "source": source,
                "as_of": GCP_PRICES.date,
                "spot_source": f"{GCP_SPOT_SOURCE}; interruption: {ASSUMED_BAND_NOTE}",
                "spot_as_of": GCP_PRICES.date,
                "max_pods_source": pods_source,
                "instance_type": name,
                "provider": "gcp",
                "region": "us-central1",
            }
        )
    return rows


def extract_public(mirror: Path) -> str:
    """``instances_public.csv`` as the public files at the cited commits give it."""
    rows = [*_aws_public(mirror), *_azure_public(mirror), *_gcp_public(mirror)]
    for row in rows:
        family, category, arch = classify(row["provider"], row["instance_type"])
        row |= {"family": family, "category": category, "arch": arch}
        row["details_source"] = NAMING_SOURCE[row["provider"]]
    rows.sort(key=lambda r: (r["provider"], r["region"], r["instance_type"]))
    return render(PUBLIC_COLUMNS, rows)


def detail_rows(instances: list[dict[str, str]], burstable: list[dict[str, str]]) -> list[dict[str, str]]:
    """Family, category, arch and (burstable types) CPU credit figures of every catalog row."""
    burst = {(b["provider"], b["instance_type"]): b for b in burstable}
    out = []
    for row in instances:
        family, category, arch = classify(row["provider"], row["instance_type"])
        b = burst.get((row["provider"], row["instance_type"]), {})
        if (category == "burstable") != bool(b):
            raise ValueError(f"burstable figures and category disagree for {row['instance_type']}")
        out.append(
            {
                "provider": row["provider"],
                "region": row["region"],
                "instance_type": row["instance_type"],
                "family": family,
                "category": category,
                "arch": arch,
                "details_source": NAMING_SOURCE[row["provider"]],
                "baseline_cpu_share": b.get("baseline_cpu_share", ""),
                "cpu_credits_per_hour": b.get("cpu_credits_per_hour", ""),
                "cpu_credits_max": b.get("cpu_credits_max", ""),
                "burst_source": b.get("source", ""),
                "burst_as_of": b.get("as_of", ""),
            }
        )
    return out


def render(columns: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def build(reference: Path, public: Path = PUBLIC_INSTANCES, burstable: Path = BURSTABLE) -> dict[str, str]:
    """File name -> CSV text, as this script would write them.

    The reference's rows come first in each (provider, region, type) order and are never altered; rows
    of ``public`` for types the reference lacks are added in the same order.
    """
    rows = _read_reference(reference)
    instances = instance_rows(rows)
    known = {(r["provider"], r["region"], r["instance_type"]) for r in instances}
    added = [
        {c: r[c] for c in INSTANCE_COLUMNS}
        for r in _read_reference(public)
        if (r["provider"], r["region"], r["instance_type"]) not in known
    ]
    instances = sorted([*instances, *added], key=lambda r: (r["provider"], r["region"], r["instance_type"]))
    return {
        "instance_types.csv": render(INSTANCE_COLUMNS, instances),
        "instance_details.csv": render(DETAIL_COLUMNS, detail_rows(instances, _read_reference(burstable))),
        "prices.csv": render(PRICE_COLUMNS, price_rows(rows)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed CSVs are stale")
    parser.add_argument(
        "--extract", type=Path, metavar="MIRROR", help="rewrite sources/instances_public.csv from git mirrors"
    )
    args = parser.parse_args(argv)
    if args.extract:
        PUBLIC_INSTANCES.write_text(extract_public(args.extract), encoding="utf-8")
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
