"""A pod whose CPU allows a fraction of a request more (or less than one) serves at that rate, never 0.

`traffic.pod_servers`: a pod with CPU for p requests at once is ceil(p) servers each at p/ceil(p) of
full speed (CFS shares the quota among what is in progress), so no rounding removes capacity; the
request-level mode replays the same stations, so it stays the reference for fractional cases.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cases import load  # noqa: E402
from simkit.api import simulate  # noqa: E402
from simkit.engine.request_level import run_request_level  # noqa: E402
from simkit.engine.traffic import pod_servers, servers_per_pod  # noqa: E402
from simkit.scenario.loader import load_scenario  # noqa: E402


def _cpu_limited(replicas: int, cpu: str, duration: str, rps: float):
    """The bench's single service, CPU-bound: 10 ms of CPU per 10 ms request, limit `cpu`."""
    return load(
        "single-service",
        **{
            "workloads.0.replicas": replicas,
            "workloads.0.resources.requests.cpu": cpu,
            "workloads.0.resources.limits": {"cpu": cpu},
            "workloads.0.serving.concurrency": 8,
            "workloads.0.serving.service_time": "10ms",
            "workloads.0.serving.cpu_per_request": "10ms",
            "workloads.0.serving.timeout": "30s",
            "traffic.load.base_rps": rps,
            "simulation.duration": duration,
        },
    )


@pytest.mark.parametrize(("cpu", "slots", "speed"), [("250m", 1, 0.25), ("1500m", 2, 0.75), ("3", 3, 1.0)])
def test_pod_servers_keep_every_bit_of_cpu(cpu: str, slots: int, speed: float) -> None:
    w = _cpu_limited(1, cpu, "10m", 10).scenario.workloads[0]
    n, mean_s = pod_servers(w, 0.01)
    assert n == slots
    assert mean_s == pytest.approx(0.01 / speed, rel=1e-12)
    assert n / mean_s == pytest.approx(servers_per_pod(w, 0.01) / 0.01, rel=1e-12)  # capacity kept
    if speed == 1.0:
        assert mean_s == 0.01  # a whole number of servers is unchanged, to the bit


def test_a_cpu_limited_service_with_enough_cpu_serves():
    """bff-service at 100m: 3 pods x 0.1 core / 6 ms = 50 req/s of CPU against ~37 at peak (issue 11, 1).

    Before: floor(3 x 0.25) = 0 servers, 98 % errors and a P95 of nan.
    """
    sc = load_scenario(
        overrides={
            "workloads.4.resources.requests.cpu": "100m",
            "workloads.4.resources.limits.cpu": "100m",
        }
    )
    assert sc.workloads[4].name == "bff-service"
    r = simulate(sc, duration=86400, progress=False)
    assert r.summary["availability"] > 0.999
    bff = r.services[r.services["service"] == "bff-service"]
    assert (bff["ready_replicas"] == 3).all()
    assert bff["utilization"].max() == pytest.approx(37.0 / 50.0, rel=0.05)
    for route in ("api-read", "api-write", "files"):
        assert 100 < r.summary[f"p95_ms.{route}"] < 1000


@pytest.mark.parametrize(
    ("replicas", "cpu", "rps"),
    [(3, "250m", 60.0), (5, "1500m", 600.0)],  # 0.75 and 7.5 servers' worth, both at rho 0.8
)
def test_request_level_agrees_on_fractional_servers(replicas: int, cpu: str, rps: float) -> None:
    """Fast mode vs request-level replay on 3 x 0.25 and 5 x 1.5 servers: P95 within the bench's 2 %."""
    fast = simulate(_cpu_limited(replicas, cpu, "1h", rps), progress=False)
    svc = fast.services
    assert svc["utilization"].mean() == pytest.approx(0.8, rel=1e-9)  # all the CPU counted
    rl = run_request_level(fast, seed=5)
    assert rl.summary["requests"] == pytest.approx(rps * 3600, rel=0.01)
    assert rl.summary["errors"] == fast.summary["errors"] == 0
    assert fast.summary["p95_ms.r"] == pytest.approx(rl.summary["p95_ms.r"], rel=0.02)
