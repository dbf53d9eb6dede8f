"""The scenario's `faults:` section: spot interruptions, node failures, AZ outages, the data layer.

Defaults and their sources (shared/reference/reliability.md, k8s_timings.md):
- spot interruption rate: the instance type's AWS Spot Advisor band, mapped to its midpoint monthly
  probability (reliability.md §1 "Suggested simulator mapping"); notice 2 min on AWS, 30 s on Azure
  and GCP (reliability.md §1).
- node failures: 3 % per node per year (reliability.md "Suggested defaults": Azure 2.4 % base plus
  components, Dean 2-4 %).
- detection and eviction: node-monitor-grace-period 50 s, then the NoExecute taint and the default
  `tolerationSeconds: 300` (k8s_timings.md §1.5: ~5m50s from crash to replacement pods).
- PostgreSQL failover 35 s (Patroni ttl 30 s + loop, reliability.md §5); Redis Sentinel failover
  35 s (assumption: `down-after-milliseconds` 30 s plus the election, Redis' documented default).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from simkit.scenario.base import Duration, StrictModel

SPOT_NOTICE_S = {"aws": 120.0, "azure": 30.0, "gcp": 30.0}
NODE_FAILURES_PER_YEAR = 0.03


class SpotReclaim(StrictModel):
    """Many spot nodes of one pool reclaimed at once (a capacity pool drained by the provider)."""

    at: Duration
    pool: str
    zone: str | None = None
    fraction: float = Field(default=1.0, gt=0, le=1)


class SpotShortage(StrictModel):
    """A window in which new spot capacity cannot be had: launches fail, the autoscaler backs off."""

    at: Duration
    duration: Duration = Field(gt=0)
    pool: str
    zone: str | None = None


class SpotFaults(StrictModel):
    enabled: bool = True
    monthly_rate: float | None = Field(default=None, ge=0)  # interruptions per node-month; default: the band
    notice: Duration | None = None  # default: the provider's notice
    reclaims: list[SpotReclaim] = []
    shortages: list[SpotShortage] = []


class NodeFailures(StrictModel):
    annual_rate: float = Field(default=NODE_FAILURES_PER_YEAR, ge=0)  # crashes per node-year
    pools: list[str] | None = None  # default: every pool


ZONE_EACH = "each"
ZONE_BUSIEST = "busiest"
ZONE_PRIMARY = "primary:"
ZONE_SELECTORS = f"a zone name, '{ZONE_PRIMARY}<data workload>', '{ZONE_BUSIEST}' or '{ZONE_EACH}'"


class AZOutage(StrictModel):
    """One zone unreachable for a while. `zone` names it, or selects it when the outage starts:
    `primary:<workload>` the zone holding that data service's primary, `busiest` the zone with the
    most ready pods of the routes' services; `each` is expanded before a run into one run per zone
    (`zone_variants`)."""

    zone: str
    at: Duration
    duration: Duration = Field(gt=0)


class DataService(StrictModel):
    """How a stateful workload stays available: a primary with failover, or a quorum."""

    workload: str
    kind: Literal["primary", "quorum"]
    failover: Duration = 35.0
    broker_for: list[str] = []  # task queues whose messages live here: lost while it has no quorum

    @model_validator(mode="after")
    def _failover_only_for_primary(self) -> DataService:
        if self.kind == "quorum" and "failover" in self.model_fields_set:
            raise ValueError("failover applies to kind: primary only")
        return self


def outage_zone_error(zone: str, zones: Sequence[str], data_layer: Sequence[DataService]) -> str | None:
    """Why `zone` is not a valid `az_outages[].zone` for these cluster zones and data services, or None."""
    if zone in zones or zone in (ZONE_EACH, ZONE_BUSIEST):
        return None
    if zone.startswith(ZONE_PRIMARY):
        name = zone.removeprefix(ZONE_PRIMARY)
        primaries = sorted(d.workload for d in data_layer if d.kind == "primary")
        if name in primaries:
            return None
        if any(d.workload == name for d in data_layer):
            return f"{name!r} is a quorum data service: it has no primary; primaries: {primaries}"
        return f"{name!r} is not a data service with a primary in faults.data_layer; primaries: {primaries}"
    return f"unknown zone {zone!r}; expected {ZONE_SELECTORS} (the cluster's zones are {list(zones)})"


class Faults(StrictModel):
    spot: SpotFaults = SpotFaults(enabled=False)
    node_failures: NodeFailures | None = None
    az_outages: list[AZOutage] = []
    data_layer: list[DataService] = []

    def zone_variants(self, zones: Sequence[str]) -> list[tuple[str, Faults]]:
        """`az_outages` with every `zone: each` expanded, one variant per zone (the cartesian
        product when several outages say `each`), each with a label naming its choices; a single
        unlabelled variant (itself) when none does."""
        each = [i for i, o in enumerate(self.az_outages) if o.zone == ZONE_EACH]
        if not each:
            return [("", self)]
        out = []
        for choice in itertools.product(zones, repeat=len(each)):
            outages = list(self.az_outages)
            for i, zone in zip(each, choice, strict=True):
                outages[i] = outages[i].model_copy(update={"zone": zone})
            label = ", ".join(
                f"az_outages[{i}]={z}" if len(each) > 1 else z for i, z in zip(each, choice, strict=True)
            )
            out.append((label, self.model_copy(update={"az_outages": outages})))
        return out
