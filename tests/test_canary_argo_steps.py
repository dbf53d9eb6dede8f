"""The Argo canary / blue-green step machines (argo-rollouts v1.9.1 rollout/canary.go,
rollout/bluegreen.go), driven with pods that become available at once (one sync later)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.control.progressive.analysis import FAILED, SUCCESSFUL
from simkit.control.progressive.argo import (
    ABORTED,
    ANALYSIS_RUNNING,
    COMPLETE,
    PAUSED,
    PAUSED_INDEFINITELY,
    SCALE_DOWN_DELAY,
    BlueGreenSpec,
    BlueGreenState,
    CanarySpec,
    CanaryState,
    CanaryStep,
    Observation,
    Side,
    blue_green_sync,
    canary_sync,
)

N = 10


def _drive(spec: CanarySpec, until: float, analysis: str = "", promoted: bool = False, dt: float = 5.0):
    """Sync every `dt` seconds; pods match the last decision's counts (all available)."""
    st, now, trail = CanaryState(canary_replicas=0, stable_replicas=N), 0.0, []
    canary, stable = 0, N
    while now <= until:
        d = canary_sync(
            spec, st, Observation(N, Side(canary, canary), Side(stable, stable), analysis, promoted), now
        )
        st = d.state
        trail.append((now, st.canary_replicas, st.stable_replicas, st.weight, d.reason))
        canary, stable = st.canary_replicas, st.stable_replicas
        if st.done:
            break
        now += dt
    return st, trail


STEPS = (
    CanaryStep(set_weight=10),
    CanaryStep(pause=True, pause_s=60),
    CanaryStep(set_weight=50),
    CanaryStep(pause=True, pause_s=60),
)


def test_basic_canary_walks_the_steps_and_completes() -> None:
    st, trail = _drive(CanarySpec(STEPS), 1000)
    assert st.done == COMPLETE
    # basic canary, 10 replicas, 25 %/25 %: 10 % -> 1 canary pod next to 9 stable
    assert (1, 9) in {(c, s) for _, c, s, _, _ in trail}
    assert (5, 5) in {(c, s) for _, c, s, _, _ in trail}
    assert max(c + s for _, c, s, _, _ in trail) <= N + 3  # maxSurge 25 % of 10, rounded up
    paused = [t for t, *_, r in trail if r == PAUSED]
    assert paused and paused[-1] - paused[0] >= 55  # a 60 s pause, synced every 5 s


def test_traffic_routing_keeps_stable_full_and_delays_scale_down() -> None:
    st, trail = _drive(CanarySpec(STEPS, traffic_routing=True), 1000)
    assert st.done == COMPLETE
    assert all(s == N for _, c, s, w, r in trail if w < 100)  # stable at full scale throughout
    assert (1, N) in {(c, s) for _, c, s, _, _ in trail}
    delays = [t for t, *_, r in trail if r == SCALE_DOWN_DELAY]
    assert delays and delays[-1] - delays[0] >= 25  # scaleDownDelaySeconds 30


def test_dynamic_stable_scale_shrinks_stable() -> None:
    _, trail = _drive(CanarySpec(STEPS, traffic_routing=True, dynamic_stable_scale=True), 1000)
    assert (5, 5) in {(c, s) for _, c, s, _, _ in trail}


def test_indefinite_pause_waits_for_promote() -> None:
    steps = (CanaryStep(set_weight=20), CanaryStep(pause=True))
    st, trail = _drive(CanarySpec(steps), 600)
    assert not st.done and trail[-1][-1] == PAUSED_INDEFINITELY
    st, _ = _drive(CanarySpec(steps), 600, promoted=True)
    assert st.done == COMPLETE


def test_failed_analysis_aborts_back_to_stable() -> None:
    steps = (CanaryStep(set_weight=20), CanaryStep(analysis=True), CanaryStep(set_weight=60))
    st, trail = _drive(CanarySpec(steps), 600, analysis="Running")
    assert trail[-1][-1] == ANALYSIS_RUNNING
    st, trail = _drive(CanarySpec(steps), 600, analysis=FAILED)
    assert st.done == ABORTED and st.canary_replicas == 0 and st.stable_replicas == N and st.weight == 0
    st, _ = _drive(CanarySpec(steps), 600, analysis=SUCCESSFUL)
    assert st.done == COMPLETE


def test_blue_green_defaults_promote_at_once_and_scale_down_after_30s() -> None:
    spec, st = BlueGreenSpec(), BlueGreenState()
    new, old, now, reasons = 0, N, 0.0, []
    while now < 300:
        d = blue_green_sync(spec, st, Observation(N, Side(new, new), Side(old, old)), now)
        st, new, old = d.state, d.state.new_replicas, d.state.old_replicas
        reasons.append((now, d.reason, new, old))
        if st.done:
            break
        now += 5
    assert st.done == COMPLETE
    assert max(n + o for _, _, n, o in reasons) == 2 * N  # both stacks run at full scale
    assert st.switch_s is not None and now - st.switch_s >= 30


def test_blue_green_auto_promotion_seconds_and_manual() -> None:
    spec = BlueGreenSpec(auto_promotion_s=120)
    st = BlueGreenState()
    obs = Observation(N, Side(N, N), Side(N, N))
    st = blue_green_sync(spec, st, obs, 0).state
    assert not st.active_new
    assert not blue_green_sync(spec, st, obs, 100).state.active_new
    assert blue_green_sync(spec, st, obs, 121).state.active_new
    manual = BlueGreenSpec(auto_promotion_enabled=False)
    d = blue_green_sync(manual, BlueGreenState(), obs, 0)
    assert d.reason == PAUSED_INDEFINITELY and not d.state.active_new
    promoted = Observation(N, Side(N, N), Side(N, N), promoted=True)
    assert blue_green_sync(manual, d.state, promoted, 10).state.active_new


def test_each_analysis_step_starts_its_own_run() -> None:
    """A later analysis step does not pass on the previous run's Successful: entering it asks for a
    new AnalysisRun (rollout/canary.go creates one AnalysisRun per analysis step)."""
    steps = (CanaryStep(analysis=True), CanaryStep(set_weight=50), CanaryStep(analysis=True))
    spec = CanarySpec(steps, traffic_routing=True)
    st = CanaryState(stable_replicas=N)
    obs = Observation(N, Side(0, 0), Side(N, N), SUCCESSFUL)
    d = canary_sync(spec, st, obs, 0.0)
    assert d.start_analysis and d.state.step == 0
    d = canary_sync(spec, d.state, obs, 1.0)  # the new run reports Successful: on to setWeight 50
    assert d.state.step == 1
    obs = Observation(N, Side(5, 5), Side(N, N), SUCCESSFUL)
    d = canary_sync(spec, d.state, obs, 2.0)
    assert d.state.step == 2 and d.start_analysis and d.reason == ANALYSIS_RUNNING


@given(
    n=st.integers(1, 20),
    weights=st.lists(st.integers(0, 100), min_size=1, max_size=5).map(sorted),
    surge=st.integers(0, 4),
    unavailable=st.integers(0, 4),
)
@settings(max_examples=60, deadline=None)
def test_basic_canary_property(n: int, weights: list[int], surge: int, unavailable: int) -> None:
    """Any non-decreasing setWeight steps: the basic canary completes, never runs more than
    replicas + maxSurge pods nor fewer than replicas - maxUnavailable (pods ready at once)."""
    if surge == 0 and unavailable == 0:
        unavailable = 1
    unavailable = min(unavailable, n)
    spec = CanarySpec(
        tuple(CanaryStep(set_weight=w) for w in weights), max_surge=surge, max_unavailable=unavailable
    )
    st_, now, canary, stable = CanaryState(stable_replicas=n), 0.0, 0, n
    for _ in range(400):
        d = canary_sync(spec, st_, Observation(n, Side(canary, canary), Side(stable, stable)), now)
        st_ = d.state
        canary, stable = st_.canary_replicas, st_.stable_replicas
        assert canary + stable <= n + surge
        assert canary + stable >= n - unavailable
        if st_.done:
            break
        now += 5.0
    assert st_.done == COMPLETE and (canary, stable) == (n, 0)
