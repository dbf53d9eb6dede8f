"""Why table 2c's Azure-trace rows at ρ 0.8 failed: the reference's spread, not the fast mode.

The Azure LLM conversation trace at ρ 0.8 (4 servers) hovers around capacity for about ten minutes
(minutes 22-36: λ/cμ 0.92-1.22 minute by minute), so each replay's backlog there is a random walk
of its own. Against an exact FCFS simulation with give-ups (`tests/fcfs_sim.py`) over many seeds,
the fast mode's timeouts and waits are close; the seeds' spread is what 3 replications could not
average out (bench/ANALYSIS.md, 2c; `bench.fidelity2.TRACE_REPS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simkit.scenario.load import TraceSpec
from simkit.traffic.abandonment import mmc_patience
from simkit.traffic.load import read_trace
from simkit.traffic.queueing import erlang_b, latency_quantiles, service_ticks
from tests.fcfs_sim import fcfs, service_times

C, DT, DURATION = 4, 60.0, 3480.0
TRACE = Path("azure_llm_inference_2023") / "AzureLLMInferenceTrace_conv.csv"


def _trace_events() -> np.ndarray:
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / "traces" / TRACE
        if path.is_file():
            data = read_trace(TraceSpec(path=str(path), format="events"))
            assert data.events_s is not None
            ev = np.sort(np.asarray(data.events_s, dtype=float))
            return ev[ev < DURATION]
    pytest.skip("../shared/traces (Azure LLM conversation trace) not found")


def _replays(
    arrivals: np.ndarray, mean_s: float, timeout_s: float, seeds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Timeouts and mean wait (served requests, minutes 25-40) of `seeds` exact FCFS replays."""
    errors, waits = [], []
    late = (arrivals >= 25 * DT) & (arrivals < 40 * DT)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        wait, gave_up = fcfs(arrivals, service_times(rng, arrivals.size, mean_s, 1.0), C, timeout_s)
        errors.append(gave_up.sum())
        waits.append(wait[late & ~gave_up].mean())
    return np.asarray(errors, dtype=float), np.asarray(waits)


def test_azure_trace_near_capacity_fast_mode_within_the_many_seed_reference() -> None:
    """30 s timeout, ρ 0.8: timeouts vary by about 22 % (sd) between seeds (107 to 289 here), so a
    3-seed mean has a standard error above the 10 % target; against 24 seeds the fast mode's
    timeouts are within 15 % and its mean wait over the near-capacity minutes within 10 %."""
    ev = _trace_events()
    mean_s = 0.8 * C / (ev.size / DURATION)
    lam = np.bincount((ev // DT).astype(np.int64), minlength=int(DURATION // DT))[: int(DURATION // DT)] / DT
    errors, waits = _replays(ev, mean_s, 30.0, 24)
    # the cause: the mean of 3 replays has a standard error above the 10 % target
    assert errors.std(ddof=1) / errors.mean() / np.sqrt(3) > 0.10
    st = service_ticks(lam, C, mean_s, 1.0, DT, 30.0)
    fast_errors = float(st.timed_out.sum())
    assert abs(fast_errors / errors.mean() - 1) < 0.15, (fast_errors, errors.mean())
    minutes = slice(25, 40)
    fast_wait = float((st.mean_wait_s[minutes] * st.served[minutes]).sum() / st.served[minutes].sum())
    assert abs(fast_wait / waits.mean() - 1) < 0.10, (fast_wait, waits.mean())


@pytest.mark.parametrize("rho", [0.7, 1.3])
def test_give_up_queue_served_p99_is_bounded_by_the_timeout(rho: float) -> None:
    """Table 2c's "c 1, timeout 5x service" row (P99 +16 % before): with give-ups (M/M/1+D,
    100 ms service, 500 ms timeout) a served request waits at most the timeout, its wait being an
    atom at 0 and a truncated exponential on (0, τ). The fast mode's former two-moment shape
    (shift + P·Exp) put 2.6 % (ρ 0.7) and 9.3 % (ρ 1.3) of the served waits beyond τ (P99 +14 %
    and +20 %); the wait cut at τ (`queueing_cut`) gives the exact law, so P99 within 1 %."""
    mean_s, tau = 0.1, 0.5
    lam = np.array([rho / mean_s])
    st = service_ticks(lam, 1, mean_s, 1.0, DT, tau)
    fast_p99 = float(latency_quantiles([st.visit(1, timeout_s=tau)])[0, 2])
    rng = np.random.default_rng(0)
    n, delta = 400_000, 1.0 / mean_s - float(lam[0])
    p = float(mmc_patience(lam, 1, mean_s, tau, erlang_b(1, lam * mean_s)).p_wait_served[0])
    trunc = -np.log1p(-rng.random(n) * -np.expm1(-delta * tau)) / delta  # density ∝ e^{−δx} on (0, τ)
    exact = np.where(rng.random(n) < p, trunc, 0.0) + rng.exponential(mean_s, n)
    assert fast_p99 == pytest.approx(float(np.quantile(exact, 0.99)), rel=0.01)
