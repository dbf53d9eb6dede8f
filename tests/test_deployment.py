"""The pure Deployment controller driven in a loop (pods become ready after random delays, no outside
disruption): the rollout invariants, the issue's closed form, Recreate, the progress deadline,
proportional scaling mid-rollout and revision history cleanup."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.control.deployment import (
    Condition,
    Deployment,
    DeploymentStatus,
    IntOrStr,
    ReplicaSet,
    SyncResult,
    go_round_ratio,
    max_surge,
    max_unavailable,
    sync,
)
from simkit.control.deployment.types import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
)

NEVER = math.inf


@dataclass
class Pod:
    ready_at: float


@dataclass
class Sim:
    """A pure test loop standing in for the engine: the ReplicaSet controller creates pods at once
    (each ready after a drawn delay, available minReadySeconds later) and deletes unready pods
    first, then the most recently ready (ActivePods ranking); the Deployment controller is `sync`."""

    d: Deployment
    rss: list[ReplicaSet]
    pods: dict[str, list[Pod]]
    delay: random.Random
    max_delay: float = 30.0
    stuck: frozenset[str] = frozenset()  # RSs whose pods never become ready
    t: float = 0.0
    peak_pods: int = 0
    min_available: int = 10**9
    syncs: list[SyncResult] = field(default_factory=list)

    def available(self, name: str | None = None) -> int:
        names = [name] if name else list(self.pods)
        return sum(1 for n in names for p in self.pods[n] if p.ready_at + self.d.min_ready_seconds <= self.t)

    def refresh(self) -> None:
        """The ReplicaSet controller's status for every RS at time t."""
        out = []
        for rs in self.rss:
            pods = self.pods[rs.name]
            out.append(
                replace(
                    rs,
                    status_replicas=len(pods),
                    ready_replicas=sum(1 for p in pods if p.ready_at <= self.t),
                    available_replicas=self.available(rs.name),
                    observed_generation=rs.generation,
                )
            )
        self.rss = out

    def apply(self, result: SyncResult) -> None:
        self.d = result.deployment
        self.rss = list(result.replica_sets)
        for name in list(self.pods):
            if name not in {rs.name for rs in self.rss}:
                assert not self.pods.pop(name), "an RS with pods was deleted"
        for rs in self.rss:
            pods = self.pods.setdefault(rs.name, [])
            while len(pods) < rs.replicas:
                delay = NEVER if rs.name in self.stuck else self.delay.uniform(0.0, self.max_delay)
                pods.append(Pod(self.t + delay))
            if len(pods) > rs.replicas:
                pods.sort(key=lambda p: (p.ready_at <= self.t, -p.ready_at))  # unready, then newest ready
                del pods[: len(pods) - rs.replicas]
        self.peak_pods = max(self.peak_pods, sum(len(p) for p in self.pods.values()))
        self.min_available = min(self.min_available, self.available())

    def next_event(self) -> float:
        times = [p.ready_at for ps in self.pods.values() for p in ps]
        times += [t + self.d.min_ready_seconds for t in times]
        return min((x for x in times if x > self.t), default=NEVER)

    def run(self, until: float = 86400.0, check: bool = True) -> SyncResult:
        """Sync at t; again at once while the sync changed something; else at the next pod event or
        requeue. Checks Σ spec replicas <= replicas + surge after every sync."""
        cap = self.d.replicas + max_surge(self.d)
        while True:
            for _ in range(50):
                self.refresh()
                result = sync(self.d, self.rss, self.t)
                self.syncs.append(result)
                self.apply(result)
                if check:
                    assert sum(rs.replicas for rs in self.rss) <= cap
                if not result.changed:
                    break
            else:
                raise AssertionError(f"sync does not settle at t={self.t}")
            if result.reason in ("Complete", "ProgressDeadlineExceeded"):
                return result
            nxt = self.next_event()
            if result.requeue_after is not None:
                nxt = min(nxt, self.t + max(result.requeue_after, 1.0))
            if nxt > until:
                return result
            self.t = nxt


def completed_deployment(
    replicas: int,
    surge: IntOrStr | None = "25%",
    unavailable: IntOrStr | None = "25%",
    min_ready: int = 0,
    strategy: str = "RollingUpdate",
) -> Deployment:
    """A Deployment whose v1 rollout completed long ago, with its template just changed to v2."""
    base = Deployment(
        name="web",
        replicas=replicas,
        strategy=strategy,
        max_surge=surge,
        max_unavailable=unavailable,
        min_ready_seconds=min_ready,
        generation=2,
        template_hash="v2",
    )
    conditions = (
        Condition("Available", "True", "MinimumReplicasAvailable", "", -1000.0, -1000.0),
        Condition("Progressing", "True", "NewReplicaSetAvailable", "", -1000.0, -1000.0),
    )
    status = DeploymentStatus(replicas, replicas, replicas, replicas, 0, 1, conditions)
    return replace(base, status=status)


def start(d: Deployment, seed: int = 0, max_delay: float = 30.0) -> Sim:
    old = ReplicaSet(
        name="web-v1",
        replicas=d.replicas,
        created=-2000.0,
        template_hash="v1",
        generation=1,
        observed_generation=1,
        annotations={
            REVISION_ANNOTATION: "1",
            DESIRED_REPLICAS_ANNOTATION: str(d.replicas),
            MAX_REPLICAS_ANNOTATION: str(d.replicas + max_surge(d)),
        },
    )
    pods = {"web-v1": [Pod(-1500.0) for _ in range(d.replicas)]}
    return Sim(d, [old], pods, random.Random(seed), max_delay)


# ---------------------------------------------------------------------------------------------
# The closed form and the property over random specs
# ---------------------------------------------------------------------------------------------


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_ten_replicas_25_25_stay_within_13_pods_and_8_available(seed: int) -> None:
    sim = start(completed_deployment(10), seed)
    result = sim.run()
    assert result.reason == "Complete"
    assert sim.peak_pods == 13  # 10 + ceil(2.5): the bound is reached, never passed
    assert sim.min_available == 8  # 10 - floor(2.5)
    new = next(rs for rs in sim.rss if rs.name == "web-v2")
    assert (new.replicas, new.available_replicas) == (10, 10)
    assert [rs.replicas for rs in sim.rss if rs.name != "web-v2"] == [0]


def _int_or_percent(hi: int) -> st.SearchStrategy[IntOrStr]:
    return st.one_of(st.integers(0, hi), st.integers(0, 100).map(lambda p: f"{p}%"))


@given(
    replicas=st.integers(1, 25),
    surge=_int_or_percent(6),
    unavailable=_int_or_percent(6),
    min_ready=st.sampled_from([0, 5, 30]),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_rollout_invariants_over_random_specs(
    replicas: int, surge: IntOrStr, unavailable: IntOrStr, min_ready: int, seed: int
) -> None:
    if surge in (0, "0%") and unavailable in (0, "0%"):
        return  # rejected by API validation (both may not be 0)
    d = completed_deployment(replicas, surge, unavailable, min_ready)
    sim = start(d, seed)
    result = sim.run()
    assert result.reason == "Complete"  # the rollout ends when the pods become ready
    assert sim.peak_pods <= replicas + max_surge(d)  # Σ replicas <= desired + surge
    assert sim.min_available >= replicas - max_unavailable(d)  # no outside disruption
    assert result.status.updated_replicas == result.status.available_replicas == replicas
    progressing = result.status.condition("Progressing")
    assert progressing is not None and progressing.reason == "NewReplicaSetAvailable"


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def test_first_sync_creates_the_new_rs_at_surge_and_scales_the_old_one_down() -> None:
    sim = start(completed_deployment(10))
    sim.refresh()
    result = sync(sim.d, sim.rss, 0.0)
    assert result.created == "web-v2"
    by_name = {rs.name: rs for rs in result.replica_sets}
    assert by_name["web-v2"].replicas == 3  # created at NewRSNewReplicas = 13 - 10
    assert by_name["web-v2"].annotations[REVISION_ANNOTATION] == "2"
    assert by_name["web-v1"].replicas == 8  # available 10 - minAvailable 8
    assert [(a.replica_set, a.from_replicas, a.to_replicas, a.reason) for a in result.actions] == [
        ("web-v1", 10, 8, "ScaleDownOldReplicaSet")
    ]
    assert result.reason == "ScaledDownOldReplicaSets"
    cond = result.status.condition("Progressing")
    # the RS status shows no new pod yet: no progress, the creation condition stands (its time is now)
    assert cond is not None and (cond.reason, cond.last_update_time) == ("NewReplicaSetCreated", 0.0)


def test_recreate_scales_old_to_zero_then_new_up() -> None:
    sim = start(completed_deployment(4, strategy="Recreate"))
    result = sim.run()
    assert result.reason == "Complete"
    reasons = [s.reason for s in sim.syncs]
    assert reasons[0] == "RecreateScaledDownOld"
    assert reasons.index("RecreateScaledUpNew") > 0
    assert sim.min_available == 0 and sim.peak_pods == 4  # never old and new together


def test_pods_that_never_become_ready_exceed_the_progress_deadline_without_rollback() -> None:
    d = replace(completed_deployment(4, surge=1, unavailable=0), progress_deadline_seconds=600)
    sim = start(d)
    sim.stuck = frozenset({"web-v2"})
    result = sim.run()
    assert result.reason == "ProgressDeadlineExceeded"
    cond = result.status.condition("Progressing")
    assert cond is not None and (cond.status, cond.reason) == ("False", "ProgressDeadlineExceeded")
    assert sim.t == 601.0  # NewReplicaSetCreated at 0 + 600 s, strictly after: the requeue 1 s later
    assert {rs.name: rs.replicas for rs in sim.rss} == {"web-v1": 4, "web-v2": 1}  # no rollback
    assert sim.min_available == 4


def test_hpa_scaling_mid_rollout_is_spread_proportionally() -> None:
    sim = start(completed_deployment(10), seed=3)
    sim.run(until=0.0)  # t=0: v2 created with 3, v1 scaled to 8
    assert {rs.name: rs.replicas for rs in sim.rss} == {"web-v1": 8, "web-v2": 5}  # 3, then 13 - 11 more
    sim.d = replace(sim.d, replicas=20)  # the HPA doubles the Deployment
    sim.refresh()
    result = sync(sim.d, sim.rss, sim.t)
    assert result.reason == "ScalingEvent"
    after = {rs.name: rs.replicas for rs in result.replica_sets}
    # allowed 20 + 5 surge = 25, 12 to add; base = max-replicas annotation 13 on both RSs:
    # v1 8*25/13 = 15.38 -> 15 (+7), v2 5*25/13 = 9.62 -> 10 (+5), no leftover
    assert after == {"web-v1": 15, "web-v2": 10}
    assert sum(after.values()) == 25
    sim.apply(result)
    final = sim.run()
    assert final.reason == "Complete"
    assert {rs.name: rs.replicas for rs in sim.rss} == {"web-v1": 0, "web-v2": 20}


def test_revision_history_limit_deletes_the_oldest_empty_replica_sets_after_completion() -> None:
    d = replace(completed_deployment(3), revision_history_limit=1)
    sim = start(d)
    for i, hist in enumerate(["web-v0a", "web-v0b"]):
        sim.rss.append(
            ReplicaSet(
                hist, 0, created=-5000.0 + i, annotations={REVISION_ANNOTATION: f"0{i}"}, template_hash=hist
            )
        )
        sim.pods[hist] = []
    sim.rss = [
        replace(rs, annotations={**rs.annotations, REVISION_ANNOTATION: "5"}) if rs.name == "web-v1" else rs
        for rs in sim.rss
    ]
    result = sim.run()
    assert result.reason == "Complete"
    sim.run()  # the sync after completion cleans up (cleanup runs when the last status was complete)
    deleted = [name for s in sim.syncs for name in s.deleted]
    assert sorted(deleted) == ["web-v0a", "web-v0b"]  # 3 old, limit 1: the two lowest revisions
    assert sorted(rs.name for rs in sim.rss) == ["web-v1", "web-v2"]


def test_go_rounding_is_half_away_from_zero() -> None:
    assert [go_round_ratio(n, 2) for n in (5, -5, 3, -3, 1)] == [3, -3, 2, -2, 1]
    assert go_round_ratio(7, 3) == 2 and go_round_ratio(-7, 3) == -2
