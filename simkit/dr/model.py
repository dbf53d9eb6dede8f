"""Disaster-recovery model: RTO and RPO per event as Monte Carlo draws of the seed's DR procedures.

Pure and vectorised (numpy, no simpy): every phase is an array with one value per draw.

Modelling choices
-----------------
* **RTO = sum of sequential phases**, in runbook order: detection -> decision -> provisioning
  (node scale-up or IaC rebuild) -> restore of the base backup (size / throughput) -> WAL replay up
  to the recovery point (WAL volume / replay rate) -> application redeploy or restart -> DNS switch
  (record update + one TTL, i.e. until the last client has moved). Running restore and app start in
  parallel would shorten it; sequential is the conservative reading of the seed's runbook.
* **Schedules start at t = 0.** WAL segments are archived every `wal_archive_interval` (PostgreSQL
  `archive_timeout`), full backups every `full_backup_interval`, weekly long-term backups, hourly etcd
  snapshots. An event with `at` sees the backup ages `at mod interval`; without `at` the phase is
  drawn uniformly, which is the long-run view of an event at an unknown time.
* **Cross-region copies** arrive after a lag drawn per event (one for the WAL stream, one for the
  full backup). The newest copy present in the DR region is the newest one archived at least `lag`
  ago, so its age is `phase + W * ceil((lag - phase) / W)^+`: for a fixed lag and a uniform phase this
  is `lag + U[0, W)`. With WAL shipping, RPO = that age; without, RPO = age of the newest full backup.
* **Region failure** (seed: manual failover to the DR region, 1 h). `dr_region` decides the work:
  warm (standby already replaying shipped WAL: no restore, apps scale up), pilot-light (node pools
  from zero, restore + replay, redeploy), cold (IaC rebuild, restore + replay, redeploy). DNS moves.
* **Data corruption** (seed: restore from backup, 30 min). The RTO clock starts when the corruption
  is *detected* (before that the service is up as far as anyone knows); the undetected time is drawn
  and reported. PITR restores to `pinpoint_margin` before the corruption: RPO = that margin, as long
  as the target is still inside the PITR window when the restore starts; otherwise the newest weekly
  backup before the corruption is used (RPO adds its age). Writes accepted between the corruption and
  the restore are discarded; they are reported as `lost_after_event_s`, not counted in the RPO.
* **Cluster loss** (seed: rebuild from IaC + restore data, 2 h): IaC rebuild, restore from the
  cross-region copy (or the in-region bucket, `cluster_loss_source`), redeploy, DNS to the new load
  balancer. `etcd_rpo_s` is the age of the last etcd snapshot, for information only: with GitOps the
  cluster's objects come back from Git, so it is not compared with the data RPO target.
* **AZ failure** (seed: automatic): endpoints of pods in the zone are dropped after the node monitor
  grace (50 s minus the lease phase, plus the 5 s monitor quantization; k8s_timings §1.5); with
  probability 1/zones the PostgreSQL primary was in the zone and Patroni fails over (reliability §5).
  The failover runs in parallel with detection, so `restore_s` is only the part that outlasts it.
  RPO = the async replica's lag when the primary was lost, else 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from simkit.control.node_lifecycle import NODE_MONITOR_GRACE_S
from simkit.dr.dists import sample
from simkit.scenario.dr import EVENT_KINDS, DREvent, DRSpec

__all__ = ["evaluate_event", "evaluate", "PHASES", "COLUMNS", "newest_copy_age"]

PHASES = ("detection_s", "decision_s", "provision_s", "restore_s", "replay_s", "redeploy_s", "dns_s")
COLUMNS = (
    "event",
    "kind",
    "draw",
    "at_s",
    *PHASES,
    "rto_s",
    "rpo_s",
    "lost_after_event_s",
    "base_backup_age_s",
    "wal_replayed_mib",
    "pitr_ok",
    "etcd_rpo_s",
)
_STREAMS = (
    "schedule",
    "wal_lag",
    "full_lag",
    "detection",
    "decision",
    "provision",
    "redeploy",
    "dns",
    "undetected",
    "pinpoint",
    "margin",
    "failover",
    "zone",
    "replication",
)
LEASE_RENEW_S = 10.0
MONITOR_PERIOD_S = 5.0

Streams = dict[str, np.random.Generator]


def newest_copy_age(phase: np.ndarray, interval: float, lag: np.ndarray) -> np.ndarray:
    """Age of the newest periodic copy (every `interval`, last one `phase` ago) that arrived after `lag`."""
    missed = np.maximum(np.ceil((lag - phase) / interval), 0.0)
    return phase + interval * missed


def _phase(at: float | np.ndarray | None, interval: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """Time since the last run of a schedule with period `interval`: `at mod interval`, or uniform."""
    if at is not None:
        return np.broadcast_to(np.fmod(np.maximum(at, 0.0), interval), (n,)).astype(float)
    return rng.uniform(0.0, interval, n)


def _restore(spec: DRSpec, n: int) -> np.ndarray:
    return np.full(n, spec.data.database_size / spec.data.restore_throughput)


def _replay(spec: DRSpec, span_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(WAL MiB, seconds) to replay `span_s` seconds of writes."""
    mib = spec.data.wal_rate / 3600.0 * np.maximum(span_s, 0.0)
    return mib, mib / spec.data.wal_replay_rate


def _dns(spec: DRSpec, s: Streams, n: int) -> np.ndarray:
    return sample(spec.procedures.dns_update_time, s["dns"], n) + spec.procedures.dns_ttl


def _recovery_point(
    spec: DRSpec, s: Streams, n: int, at: float | None, cross_region: bool
) -> dict[str, np.ndarray]:
    """RPO and base backup age when restoring from the copies in the (DR or local) bucket."""
    b = spec.backups
    sched = s["schedule"]
    zero = np.zeros(n)
    wal_lag = sample(b.cross_region_copy_lag, s["wal_lag"], n) if cross_region else zero
    full_lag = sample(b.cross_region_copy_lag, s["full_lag"], n) if cross_region else zero
    full_age = newest_copy_age(_phase(at, b.full_backup_interval, sched, n), b.full_backup_interval, full_lag)
    if b.wal_archive_interval is None:
        rpo = full_age
    else:
        w = b.wal_archive_interval
        rpo = np.minimum(newest_copy_age(_phase(at, w, sched, n), w, wal_lag), full_age)
    return {"rpo_s": rpo, "base_backup_age_s": full_age}


def _failover(spec: DRSpec, s: Streams, n: int, at: float | None, kind: str) -> dict[str, np.ndarray]:
    """Region failure or cluster loss: restore in a fresh (or warm) cluster and move DNS."""
    p = spec.procedures
    cross = kind == "region_failure" or p.cluster_loss_source == "cross-region"
    out = _recovery_point(spec, s, n, at, cross)
    out["detection_s"] = sample(p.detection_time, s["detection"], n)
    out["decision_s"] = sample(p.decision_time, s["decision"], n)
    mode = "cold" if kind == "cluster_loss" else p.dr_region
    if mode == "warm":
        out["provision_s"] = sample(p.node_provisioning_time, s["provision"], n)
        out["redeploy_s"] = sample(p.restart_time, s["redeploy"], n)
        out["wal_replayed_mib"], out["replay_s"] = np.zeros(n), np.zeros(n)  # standby kept up
        out["restore_s"] = np.zeros(n)
    else:
        rebuild = p.iac_rebuild_time if mode == "cold" else p.node_provisioning_time
        out["provision_s"] = sample(rebuild, s["provision"], n)
        out["redeploy_s"] = sample(p.redeploy_time, s["redeploy"], n)
        out["restore_s"] = _restore(spec, n)
        out["wal_replayed_mib"], out["replay_s"] = _replay(spec, out["base_backup_age_s"] - out["rpo_s"])
    out["dns_s"] = _dns(spec, s, n)
    if kind == "cluster_loss":
        out["etcd_rpo_s"] = _phase(at, spec.backups.etcd_backup_interval, s["schedule"], n)
    return out


def _corruption(spec: DRSpec, s: Streams, n: int, at: float | None, kind: str) -> dict[str, np.ndarray]:
    """Data corruption: PITR in place to just before the corruption, if still inside the window."""
    p, b = spec.procedures, spec.backups
    undetected = sample(p.corruption_detection_delay, s["undetected"], n)
    decision = sample(p.pinpoint_time, s["pinpoint"], n)
    margin = sample(p.pinpoint_margin, s["margin"], n)
    target_at = None if at is None else at - margin  # the recovery target, per draw
    base_age = _phase(target_at, b.full_backup_interval, s["schedule"], n)  # base backup before the target
    weekly_age = _phase(target_at, b.long_term_backup_interval, s["schedule"], n)
    pitr_ok = undetected + decision + margin <= b.pitr_window
    mib, replay = _replay(spec, base_age)
    return {
        "detection_s": np.zeros(n),  # RTO counted from detection; the undetected time is lost_after_event_s
        "decision_s": decision,
        "provision_s": np.zeros(n),
        "restore_s": _restore(spec, n),
        "replay_s": np.where(pitr_ok, replay, 0.0),
        "wal_replayed_mib": np.where(pitr_ok, mib, 0.0),
        "redeploy_s": sample(p.restart_time, s["redeploy"], n),
        "dns_s": np.zeros(n),
        "rpo_s": np.where(pitr_ok, margin, margin + weekly_age),
        "base_backup_age_s": np.where(pitr_ok, base_age, weekly_age),
        "lost_after_event_s": undetected + decision,
        "pitr_ok": pitr_ok,
    }


def _az(spec: DRSpec, s: Streams, n: int, at: float | None, kind: str) -> dict[str, np.ndarray]:
    """AZ loss: endpoints drop after the node monitor grace; Patroni fails over if the primary was there."""
    detection = (
        NODE_MONITOR_GRACE_S
        - s["detection"].uniform(0.0, LEASE_RENEW_S, n)
        + s["detection"].uniform(0.0, MONITOR_PERIOD_S, n)
    )
    primary_lost = s["zone"].random(n) < 1.0 / spec.zones
    failover = np.where(primary_lost, sample(spec.data.db_failover_time, s["failover"], n), 0.0)
    lag = np.where(primary_lost, sample(spec.data.replication_lag, s["replication"], n), 0.0)
    return {"detection_s": detection, "restore_s": np.maximum(failover - detection, 0.0), "rpo_s": lag}


_MODELS: dict[str, Callable[[DRSpec, Streams, int, float | None, str], dict[str, np.ndarray]]] = {
    "region_failure": _failover,
    "cluster_loss": _failover,
    "data_corruption": _corruption,
    "az_failure": _az,
}


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def evaluate_event(
    spec: DRSpec,
    kind: str | DREvent,
    rng: np.random.Generator | int | None = None,
    n: int = 1,
    at: float | None = None,
) -> pd.DataFrame:
    """`n` Monte Carlo draws of one event: phase durations, RTO (their sum) and RPO, in seconds.

    `kind` is an event kind or a `DREvent` (whose `at` and label are used). Each phase draws from its
    own child stream of `rng`, so changing one distribution does not change the others' draws.
    """
    event = kind if isinstance(kind, DREvent) else None
    kind_name = event.kind if event else str(kind)
    if kind_name not in EVENT_KINDS:
        raise ValueError(f"unknown DR event kind {kind_name!r}; known: {', '.join(EVENT_KINDS)}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    at = event.at if event is not None and event.at is not None else at
    streams = dict(zip(_STREAMS, _rng(rng).spawn(len(_STREAMS)), strict=True))
    cols = _MODELS[kind_name](spec, streams, n, at, kind_name)
    return _frame(cols, event.label if event else kind_name, kind_name, n, at)


def _frame(cols: dict[str, np.ndarray], label: str, kind: str, n: int, at: float | None) -> pd.DataFrame:
    zeros, nan = np.zeros(n), np.full(n, np.nan)
    data: dict[str, object] = {
        "event": label,
        "kind": kind,
        "draw": np.arange(n),
        "at_s": np.full(n, np.nan if at is None else at),
    }
    for name in PHASES:
        data[name] = cols.get(name, zeros)
    data["rto_s"] = np.sum([cols.get(name, zeros) for name in PHASES], axis=0)
    data["rpo_s"] = cols["rpo_s"]
    data["lost_after_event_s"] = cols.get("lost_after_event_s", zeros)
    data["base_backup_age_s"] = cols.get("base_backup_age_s", nan)
    data["wal_replayed_mib"] = cols.get("wal_replayed_mib", zeros)
    data["pitr_ok"] = cols.get("pitr_ok", np.ones(n, dtype=bool))
    data["etcd_rpo_s"] = cols.get("etcd_rpo_s", nan)
    return pd.DataFrame(data, columns=list(COLUMNS))


def evaluate(
    spec: DRSpec, rng: np.random.Generator | int | None = None, draws: int | None = None
) -> pd.DataFrame:
    """All of `spec.events`, `draws` each (default `spec.draws`), one child stream per event."""
    n = spec.draws if draws is None else draws
    if not spec.events:
        return pd.DataFrame(columns=list(COLUMNS))
    children = _rng(rng).spawn(len(spec.events))
    frames = [evaluate_event(spec, e, child, n) for e, child in zip(spec.events, children, strict=True)]
    return pd.concat(frames, ignore_index=True)
