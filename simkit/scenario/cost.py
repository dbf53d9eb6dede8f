"""The scenario's ``cost:`` section: budget, control-plane tier and the non-node resources to price.

Worker-node cost comes from the simulated node-seconds and is not declared here. Everything else the
catalog can price (control plane, disks, object storage, load balancers, NAT, public IPs, data
transfer) is declared as quantities; lines the catalog has no price for (monitoring, DNS, registry,
backups, ...) are given as monthly USD in ``other_monthly_usd``. Every field has a default so a
scenario without a ``cost:`` section is valid (it then prices nodes and the control plane only).

Example (the seed platform, ``seed/infrastructure-overview.md`` "Cost Breakdown")::

    cost:
      budget_usd_month: 10000
      control_plane_tier: standard
      block_storage: [{name: postgres, storage_class: gp3, size: 100Gi, count: 3}]
      object_storage_gb: 1000
      load_balancers: 2
      internet_egress_gb_month: 1000
      inter_az_gb_month: 2000
      other_monthly_usd: {monitoring_logging: 150, dns: 20, container_registry: 50, backups: 100}
"""

from __future__ import annotations

from pydantic import Field, field_validator

from simkit.scenario.base import Memory, StrictModel

__all__ = ["BlockVolume", "CostSpec"]


class BlockVolume(StrictModel):
    """A group of identical persistent volumes (e.g. one PVC per replica of a StatefulSet).

    ``storage_class`` is a catalog disk class (EKS: gp3, gp2; GKE: pd-ssd, pd-balanced, pd-standard;
    AKS: premium_ssd) or a common Kubernetes StorageClass name for one (standard-rwo, premium-rwo,
    managed-csi-premium, ...). ``iops`` and ``throughput_mibps`` are provisioned gp3 performance; only
    the part above gp3's free baseline (3000 IOPS, 125 MiB/s) is charged.
    """

    name: str = Field(min_length=1)
    storage_class: str = Field(min_length=1)
    size: Memory = Field(gt=0, description="volume size, e.g. 100Gi (stored in MiB)")
    count: int = Field(default=1, ge=1)
    iops: int | None = Field(default=None, ge=0)
    throughput_mibps: float | None = Field(default=None, ge=0)


class CostSpec(StrictModel):
    """Cost targets and the priced resources that are not worker nodes."""

    budget_usd_month: float | None = Field(default=None, gt=0, description="monthly target; None = no gate")
    control_plane_tier: str = Field(
        default="standard", description="EKS standard|extended, AKS free|standard, GKE standard"
    )
    clusters: int = Field(default=1, ge=0, description="managed control planes paid for")
    block_storage: list[BlockVolume] = Field(default_factory=list)
    object_storage_gb: float = Field(default=0.0, ge=0)
    load_balancers: int = Field(default=0, ge=0)
    load_balancer_processed_gb_month: float = Field(default=0.0, ge=0, description="Azure/GCP per-GB LB fee")
    nat_gateways: int = Field(default=0, ge=0)
    nat_processed_gb_month: float = Field(default=0.0, ge=0)
    public_ips: int = Field(default=0, ge=0)
    internet_egress_gb_month: float = Field(default=0.0, ge=0)
    inter_az_gb_month: float = Field(default=0.0, ge=0, description="GB crossing an AZ boundary per month")
    inter_region_gb_month: float = Field(default=0.0, ge=0)
    other_monthly_usd: dict[str, float] = Field(default_factory=dict)

    @field_validator("control_plane_tier")
    @classmethod
    def _tier_lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("other_monthly_usd")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"monthly amounts must be >= 0, got {bad}")
        return value

    @field_validator("block_storage")
    @classmethod
    def _unique_volume_names(cls, value: list[BlockVolume]) -> list[BlockVolume]:
        names = [v.name for v in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate block_storage names: {', '.join(dupes)}")
        return value
