"""The scenario's ``dr:`` section: backups, data sizes and recovery procedures, and the DR events to evaluate.

Defaults are the seed platform's DR plan (``seed/infrastructure-overview.md`` "Disaster Recovery" and
"Backup Strategy") and figures from ``reference/reliability.md`` / ``k8s_timings.md``. Where neither
gives a number, the default is marked **assumption** with the reasoning behind it: those are the
values a team should replace with figures from its own DR drills.

A random phase duration is a ``PhaseTime``: a plain duration (fixed), ``{min, max}`` (uniform),
``{min, mode, max}`` (triangular) or ``{median, p90}`` (lognormal)::

    dr:
      targets: {rto: 1h, rpo: 15m}
      statistic: p95
      backups: {wal_archive_interval: 60s, full_backup_interval: 6h, pitr_window: 7d,
                cross_region_copy_lag: {min: 5s, mode: 1m, max: 15m}}
      data: {database_size: 100Gi, restore_throughput: 125}
      procedures: {dr_region: pilot-light, decision_time: {min: 5m, mode: 15m, max: 30m}}
      events:
        - {kind: region_failure, at: 3d}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from simkit.scenario.base import Duration, Memory, StrictModel

__all__ = ["PhaseTime", "DRTargets", "Backups", "DataLayer", "Procedures", "DREvent", "DRSpec", "EVENT_KINDS"]

EventKind = Literal["region_failure", "data_corruption", "cluster_loss", "az_failure"]
EVENT_KINDS: tuple[str, ...] = ("region_failure", "data_corruption", "cluster_loss", "az_failure")
Statistic = Literal["mean", "p50", "p90", "p95", "p99", "max"]


class PhaseTime(StrictModel):
    """A random duration in seconds: fixed, uniform {min, max}, triangular {min, mode, max} or lognormal."""

    fixed: Duration | None = None
    min: Duration | None = None
    mode: Duration | None = None
    max: Duration | None = None
    median: Duration | None = None
    p90: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_fixed(cls, value: Any) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {"fixed": value}
        return value

    @model_validator(mode="after")
    def _one_form(self) -> PhaseTime:
        given = frozenset(
            k for k in ("fixed", "min", "mode", "max", "median", "p90") if getattr(self, k) is not None
        )
        forms = {
            frozenset({"fixed"}),
            frozenset({"min", "max"}),
            frozenset({"min", "mode", "max"}),
            frozenset({"median", "p90"}),
        }
        if given not in forms:
            raise ValueError(
                "a phase time is a duration ('5m'), {min, max}, {min, mode, max} or {median, p90}; "
                f"got keys {sorted(given) or 'none'}"
            )
        if self.min is not None and self.max is not None:
            mode = self.mode if self.mode is not None else self.min
            if not self.min <= mode <= self.max:
                raise ValueError(f"need min <= mode <= max, got {self.min:g}s, {mode:g}s, {self.max:g}s")
        if self.median is not None and self.p90 is not None and not 0 < self.median <= self.p90:
            raise ValueError(f"need 0 < median <= p90, got {self.median:g}s, {self.p90:g}s")
        return self

    @property
    def kind(self) -> str:
        """'fixed', 'uniform', 'triangular' or 'lognormal'."""
        if self.fixed is not None:
            return "fixed"
        if self.median is not None:
            return "lognormal"
        return "uniform" if self.mode is None else "triangular"

    @property
    def upper(self) -> float:
        """The largest value a draw can take (inf for lognormal)."""
        if self.fixed is not None:
            return self.fixed
        return float("inf") if self.max is None else self.max


def _pt(**kw: Any) -> PhaseTime:
    return PhaseTime.model_validate(kw)


class DRTargets(StrictModel):
    rto: Duration = Field(default=3600.0, gt=0)  # seed "Disaster Recovery Plan": RTO 1 hour
    rpo: Duration = Field(default=900.0, gt=0)  # seed: RPO 15 minutes


class Backups(StrictModel):
    """What is copied where, and how often."""

    # seed "Continuous WAL archiving to S3". PostgreSQL ships a WAL segment when it fills (16 MiB) or
    # after `archive_timeout`; assumption: archive_timeout = 60 s, the usual setting for a
    # minutes-level RPO. null = no WAL shipping (restore from full backups only).
    wal_archive_interval: Duration | None = Field(default=60.0, gt=0)
    full_backup_interval: Duration = Field(default=6 * 3600.0, gt=0)  # seed: full backup every 6 hours
    pitr_window: Duration = Field(default=7 * 86400.0, gt=0)  # seed: PITR up to 7 days
    long_term_backup_interval: Duration = Field(default=7 * 86400.0, gt=0)  # seed: weekly, kept 90 days
    # seed "Disaster recovery: Cross-region replication" of backup storage, no figure. Assumption:
    # S3 cross-region replication, most objects in seconds to a minute, bounded at 15 min (the S3
    # Replication Time Control objective; AWS S3 docs, not in reliability.md).
    cross_region_copy_lag: PhaseTime = _pt(min=5.0, mode=60.0, max=900.0)
    etcd_backup_interval: Duration = Field(default=3600.0, gt=0)  # seed: etcd backups every hour


class DataLayer(StrictModel):
    """The database to restore and how fast, plus in-region failover (AZ loss)."""

    database_size: Memory = Field(default=100 * 1024.0, gt=0)  # seed PVC postgres-llm-agent-pvc: 100Gi
    # MiB/s written to the new volume; seed StorageClass fast-ssd is gp3 with throughput "125" (MiB/s).
    restore_throughput: float = Field(default=125.0, gt=0, description="MiB/s")
    # Assumption (seed gives no write rate): ~25 req/s baseline, ~30% writes, ~16 KiB WAL each
    # (rows, indexes, full-page writes) ≈ 0.4 GiB/h; rounded up to 512Mi per hour.
    wal_rate: Memory = Field(default=512.0, ge=0, description="WAL generated per hour (MiB)")
    # Assumption: recovery fetches 16 MiB segments one by one with restore_command from S3, ~1 per s.
    wal_replay_rate: float = Field(default=16.0, gt=0, description="MiB/s")
    # reliability.md §5: Patroni unplanned failover ≈ 30-45 s with default ttl 30 s / loop_wait 10 s.
    db_failover_time: PhaseTime = _pt(min=30.0, mode=35.0, max=45.0)
    # Patroni's default is asynchronous streaming replication (synchronous_mode off). Assumption:
    # replica lag under 1 s at the seed's load. 0 = synchronous replication.
    replication_lag: PhaseTime = _pt(min=0.0, max=1.0)


class Procedures(StrictModel):
    """How people and automation recover: detection, decision, rebuild, restart, DNS."""

    # warm: DR cluster running small, standby DB replaying shipped WAL; pilot-light: DR cluster and
    # node pools at zero, no database (restore from backups); cold: nothing, rebuild from IaC.
    # The seed keeps backups cross-region but names no standby -> pilot-light.
    dr_region: Literal["warm", "pilot-light", "cold"] = "pilot-light"
    # Seed alert "Node not ready (5+ minutes)" after the 50 s node-monitor grace (k8s_timings §1.5)
    # = 5m50s; on-call acknowledgement on top is an assumption (mode 8 min, at most 20 min).
    detection_time: PhaseTime = _pt(min=350.0, mode=480.0, max=1200.0)
    # Seed: region failover is manual. Assumption: 5-30 min to declare a disaster; reliability.md §2
    # (EC2 events median 1.2 h) says waiting for the region to come back does not fit a 1 h RTO.
    decision_time: PhaseTime = _pt(min=300.0, mode=900.0, max=1800.0)
    # Scale node pools from zero: reliability.md §4 ASG node groups 90-240 s to Ready.
    node_provisioning_time: PhaseTime = _pt(min=90.0, mode=120.0, max=240.0)
    # Seed: cluster rebuilt from Terraform + ArgoCD. Assumption: EKS control plane ~10-15 min, node
    # groups + add-ons + GitOps sync ~10-20 min more.
    iac_rebuild_time: PhaseTime = _pt(min=1200.0, mode=1800.0, max=3600.0)
    # All apps started and warm in a fresh cluster. Seed startupProbe allows 5 min (failureThreshold 30
    # x 10 s); image pulls on empty nodes dominate (reliability.md §4, Slacker: pulls = 76% of start).
    redeploy_time: PhaseTime = _pt(min=120.0, mode=240.0, max=600.0)
    # Apps pointed at a restored database in the same cluster (rolling restart); seed 5 min max start.
    restart_time: PhaseTime = _pt(min=30.0, mode=60.0, max=300.0)
    # Seed uses external-dns (provider aws): ALIAS records to the load balancer have Route 53's 60 s TTL.
    dns_ttl: Duration = Field(default=60.0, ge=0)
    dns_update_time: PhaseTime = _pt(min=10.0, max=60.0)  # Assumption: Route 53 change INSYNC ~10-60 s.
    # Data corruption: how long it goes unnoticed. Assumption: median 1 h, P90 12 h (user reports, checks).
    corruption_detection_delay: PhaseTime = _pt(median=3600.0, p90=43200.0)
    # Finding when the corruption happened (logs, audit trail) to pick the PITR target. Assumption.
    pinpoint_time: PhaseTime = _pt(min=300.0, mode=600.0, max=1800.0)
    # How far before the corruption the chosen recovery target lies (uncertainty of its time). Assumption.
    pinpoint_margin: PhaseTime = _pt(min=0.0, max=300.0)
    # Where a complete cluster loss restores from: the cross-region copy (account/region-wide loss,
    # the seed's "Disaster recovery: Cross-region replication") or the in-region bucket.
    cluster_loss_source: Literal["cross-region", "in-region"] = "cross-region"


class DREvent(StrictModel):
    """One DR event to evaluate; `at` (time since the run started) fixes the phase of the backup schedules."""

    kind: EventKind
    at: Duration | None = None
    name: str | None = None
    rto: Duration | None = Field(default=None, gt=0)  # per-event target overrides
    rpo: Duration | None = Field(default=None, gt=0)

    @property
    def label(self) -> str:
        return self.name or self.kind


def _seed_events() -> list[DREvent]:
    # seed "Scenarios": single AZ failure, region failure, data corruption, complete cluster loss
    return [
        DREvent(kind="az_failure"),
        DREvent(kind="region_failure"),
        DREvent(kind="data_corruption"),
        DREvent(kind="cluster_loss"),
    ]


class DRSpec(StrictModel):
    """The ``dr:`` section: targets, backups, data layer, procedures and events."""

    targets: DRTargets = DRTargets()
    statistic: Statistic = "p95"  # which statistic over Monte Carlo draws is compared with the targets
    draws: int = Field(default=10_000, ge=1, le=10_000_000)
    backups: Backups = Backups()
    data: DataLayer = DataLayer()
    procedures: Procedures = Procedures()
    zones: int = Field(default=3, ge=1)  # seed: three AZs; the primary is in the lost AZ w.p. 1/zones
    events: list[DREvent] = Field(default_factory=_seed_events)

    @field_validator("events")
    @classmethod
    def _unique_labels(cls, events: list[DREvent]) -> list[DREvent]:
        labels = [e.label for e in events]
        for label in labels:
            if labels.count(label) > 1:
                raise ValueError(f"two events are called {label!r}; give them distinct `name`s")
        return events
