"""`queueing.service_ticks` is causal: a tick's results do not depend on the ticks after it.

The traffic model computes a stream in chunks and relies on this (engine/traffic.py `reach`): the
first tick of a chunk may be computed alone (a chunk of one) while the rest waits to be read, and
the reader must see the very bits the whole chunk gives that tick. Checked bit for bit on every
prefix of random chunks that cross the regimes: idle, calm (the scalar one-tick path), near
critical (the diffusion band), overloaded (the fluid backlog), with a backlog handed in or not,
short and long timeouts (give-ups within the tick) and cv below and above 1.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic.queueing import ServiceTicks, service_ticks

ARRAY_FIELDS = [f for f in ServiceTicks._fields if f not in ("mean_service_s", "service_cv", "wait_cap_s")]
# offered load over capacity per tick: idle, calm, the critical band around 1, overload
LOADS = st.one_of(
    st.just(0.0),
    st.floats(0.05, 0.9),
    st.floats(0.96, 1.04),
    st.floats(1.05, 1.8),
)


@settings(max_examples=150, deadline=None)
@given(
    rho=st.lists(LOADS, min_size=2, max_size=24),
    servers=st.integers(1, 48),
    mean_service_s=st.sampled_from([0.015, 0.2, 8.0]),
    cv=st.sampled_from([0.5, 0.8, 1.0, 1.5, 3.0]),
    dt_s=st.sampled_from([15.0, 60.0]),
    timeout_s=st.sampled_from([0.5, 30.0, 120.0, 1e9]),
    backlog=st.sampled_from([0.0, 0.0, 3.0, 250.0]),
    var=st.sampled_from([0.0, 4.0]),
)
def test_every_prefix_gives_the_same_bits(
    rho: list[float],
    servers: int,
    mean_service_s: float,
    cv: float,
    dt_s: float,
    timeout_s: float,
    backlog: float,
    var: float,
) -> None:
    lam = np.asarray(rho) * servers / mean_service_s
    whole = service_ticks(lam, servers, mean_service_s, cv, dt_s, timeout_s, backlog, var if backlog else 0.0)
    for m in range(1, lam.size):
        part = service_ticks(
            lam[:m], servers, mean_service_s, cv, dt_s, timeout_s, backlog, var if backlog else 0.0
        )
        for name in ARRAY_FIELDS:
            got, want = np.asarray(getattr(part, name)), np.asarray(getattr(whole, name))[:m]
            assert got.tobytes() == want.tobytes(), (name, m)
        assert part.wait_cap_s == whole.wait_cap_s or (
            np.isnan(part.wait_cap_s) and np.isnan(whole.wait_cap_s)
        )


def test_the_cases_cross_the_regimes() -> None:
    """The strategy reaches the one-tick scalar path, the band and the fluid backlog (a sanity check
    of the property test's reach, on fixed chunks)."""
    lam = np.array([0.5, 1.0, 1.5, 0.2]) * 24 / 8.0
    ticks = service_ticks(lam, 24, 8.0, 0.8, 60.0, 1e9)
    assert ticks.band[1] and not ticks.band[0]
    assert ticks.backlog_end[2] > 0  # overload leaves a backlog
    one = service_ticks(lam[:1], 24, 8.0, 0.8, 60.0, 1e9)  # the scalar path
    assert one.p_wait.tobytes() == ticks.p_wait[:1].tobytes()
