"""`queueing._one_calm_tick`, the scalar one-tick path of `service_ticks`, against the array code."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic import queueing
from simkit.traffic.critical_band import near_critical

FIELDS = queueing.ServiceTicks._fields


def _bits(x: object) -> object:
    a = np.asarray(x)
    return a.astype(np.float64).view(np.int64).tolist() if a.dtype.kind == "f" else a.tolist()


def _array_path(lam: float, c: float, mean_s: float, cv: float, dt: float, timeout: float, scv: float):
    """What `service_ticks` computed for this tick before the fast path (no band, so `_regular_ticks`)."""
    lam_a = np.array([lam])
    assert not near_critical(lam_a, np.array([c]) / mean_s, dt).any()
    return queueing._regular_ticks(lam_a, np.array([c]), mean_s, cv, dt, timeout, 0.0, np.array([scv]))


def _same(fast: queueing.ServiceTicks, slow: queueing.ServiceTicks) -> None:
    for name in FIELDS:
        assert _bits(getattr(fast, name)) == _bits(getattr(slow, name)), name


@settings(max_examples=400, deadline=None)
@given(
    load=st.floats(0.01, 0.999),
    c=st.integers(1, 400),
    mean_s=st.floats(0.001, 30.0),
    cv=st.sampled_from([0.0, 0.3, 0.8, 1.0]) | st.floats(0.0, 1.0),
    dt=st.floats(0.5, 60.0),
    timeout=st.sampled_from([1e9, np.inf]) | st.floats(0.01, 600.0),
    scv=st.sampled_from([1.0]) | st.floats(0.05, 4.0),
)
def test_fast_path_is_the_array_path(load, c, mean_s, cv, dt, timeout, scv):
    lam = load * c / mean_s
    fast = queueing._one_calm_tick(lam, float(c), mean_s, cv, dt, timeout, scv)
    if fast is not None:
        _same(fast, _array_path(lam, float(c), mean_s, cv, dt, timeout, scv))
        _same(fast, queueing.service_ticks(np.array([lam]), c, mean_s, cv, dt, timeout, arrival_scv=scv))


def test_fast_path_taken_for_split_stretches_and_declined_elsewhere():
    """The llm-agent-service stretches of a rollout (24 servers, 8 s, cv 0.8) take it; edge cases do not."""
    lam, c, mean_s, cv, dt = 1.5625, 24.0, 8.0, 0.8, 50.0
    fast = queueing._one_calm_tick(lam, c, mean_s, cv, dt, 1e9, 1.0)
    assert fast is not None
    _same(fast, _array_path(lam, c, mean_s, cv, dt, 1e9, 1.0))
    assert float(fast.p_wait[0]) > 0.0
    for args in [
        (0.0, c, mean_s, cv, dt, 1e9, 1.0),  # no arrivals
        (lam, 0.0, mean_s, cv, dt, 1e9, 1.0),  # no servers
        (4.0, c, mean_s, cv, dt, 1e9, 1.0),  # overload: the fluid queue grows
        (2.999, c, mean_s, cv, dt, 1e9, 1.0),  # ρ near 1: the critical band
        (lam, c, mean_s, 1.5, dt, 1e9, 1.0),  # cv > 1: the M/G/c tail weight
        (0.05, 1.0, mean_s, cv, dt, 1e9, 1.0),  # M/G/1 with cv != 1
        (lam, c, mean_s, cv, dt, 1.0, 1.0),  # give-ups within the tick
    ]:
        assert queueing._one_calm_tick(*args) is None, args
