"""A workload without a CPU limit uses no CPU while none of its pods is ready (burstable.cpu_use):
its cap, ready pods x an infinite limit, was 0 x inf = NaN there, and np.minimum carried the NaN
into the pool's CPU use (seen as a RuntimeWarning in test_faults' node failures)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import simkit
from simkit.analysis.burstable import cpu_use


def test_no_ready_pod_of_an_unlimited_workload_uses_no_cpu() -> None:
    sc = simkit.load_scenario(None, overrides={"workloads.bff-service.resources.limits": None})
    w = sc.workload("bff-service")
    assert w.resources.limits is None or not w.resources.limits.cpu
    ticks = np.arange(6) * 60.0
    ready = np.array([3.0, 0.0, 0.0, 2.0, 0.0, 3.0])
    served = np.array([600.0, 0.0, 0.0, 400.0, 0.0, 600.0])
    replicas = pd.concat(
        [
            pd.DataFrame({"t_s": ticks, "workload": x.name, "desired": 3, "ready": ready if x is w else 1.0})
            for x in sc.workloads
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # 0 x inf is no longer computed
        use, got_ready = cpu_use(sc, {"bff-service": (ready, served)}, {}, replicas, ticks)["bff-service"]
    assert not np.isnan(use).any()
    base = float(w.serving.base_cpu) / 1000
    want = ready * base + served / 60.0 * float(w.serving.cpu_per_request)
    np.testing.assert_allclose(use, want)
    assert (use[ready == 0] == 0).all()
