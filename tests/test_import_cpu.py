"""Imported CPU HPAs read load: the CPU-bound default for `serving.cpu_per_request` (import_serving.py).

Real manifests (Sock Shop's autoscaling/v1 HPAs; Online Boutique with an HPA added beside it) are read
from ../shared/manifests, never copied here.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simkit
from simkit.engine.traffic import pod_servers, servers_per_pod
from simkit.export.import_reminder import import_reminder
from simkit.export.import_serving import CPU_BOUND, MEMORY_FLAT, assume_serving
from simkit.export.importer import import_manifests
from simkit.scenario.model import Scenario, Workload

MANIFESTS = Path(__file__).resolve().parent.parent / "../shared/manifests"
needs_shared = pytest.mark.skipif(not MANIFESTS.is_dir(), reason="needs ../shared/manifests")

UTIL = {"type": "Utilization", "averageUtilization": 50}
CPU_HPA = {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": UTIL}}]}
MEM_HPA = {"metrics": [{"type": "Resource", "resource": {"name": "memory", "target": UTIL}}]}
CONTAINER_CPU = {
    "metrics": [
        {
            "type": "ContainerResource",
            "containerResource": {"name": "cpu", "container": "app", "target": UTIL},
        }
    ]
}
PODS_RPS = {
    "metrics": [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "http_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "10"},
            },
        }
    ]
}


def _w(hpa: dict | None, requests: str = "100m", limits: str | None = None, **serving: Any) -> dict:
    w: dict[str, Any] = {"name": "api", "resources": {"requests": {"cpu": requests, "memory": "64Mi"}}}
    if limits is not None:
        w["resources"]["limits"] = {"cpu": limits, "memory": "64Mi"}
    if hpa is not None:
        w["hpa"] = {"maxReplicas": 10, **hpa}
    if serving:
        w["serving"] = serving
    return w


# (workload, cpu_per_request written (None: left out), what the notes say)
CASES = {
    "request only, defaults": (_w(CPU_HPA), "2ms", [CPU_BOUND, "0.1 cores / concurrency 1"]),
    "limit over request": (_w(CPU_HPA, limits="300m"), "6ms", [CPU_BOUND, "0.3 cores"]),
    "limit over a core": (_w(CPU_HPA, limits="2"), "20ms", [CPU_BOUND, "min(1, 2 cores"]),
    "concurrency shares the limit": (
        _w(CPU_HPA, "500m", "2", concurrency=8, service_time="40ms"),
        "10ms",
        [CPU_BOUND, "40ms service time", "concurrency 8"],
    ),
    "ContainerResource cpu": (_w(CONTAINER_CPU, limits="1"), "20ms", [CPU_BOUND]),
    "stated value kept": (_w(CPU_HPA, cpu_per_request="3ms"), "3ms", []),
    "stated 0 kept (a round trip)": (_w(CPU_HPA, cpu_per_request=0), 0, []),
    "no HPA: CPU not modelled": (_w(None), None, []),
    "Pods metric reads request rates": (_w(PODS_RPS), None, []),
    "memory metric": (_w(MEM_HPA), None, [MEMORY_FLAT, "not stated: assumed 0"]),
    "memory metric, base_memory stated": (_w(MEM_HPA, base_memory="300Mi"), None, []),
    "no request: service time": (_w(CPU_HPA, requests="0"), "20ms", [CPU_BOUND, "no utilisation to read"]),
}


@pytest.mark.parametrize("case", CASES)
def test_cpu_per_request_default_table(case: str) -> None:
    w, expected, needles = CASES[case]
    notes = assume_serving(w)
    assert w.get("serving", {}).get("cpu_per_request") == expected
    joined = " | ".join(notes)
    for needle in needles:
        assert needle in joined, joined
    if not needles:
        assert notes == []
    Workload.model_validate(w)  # what is written is a valid workload


@settings(max_examples=200, deadline=None)
@given(
    millicores=st.integers(1, 16000),
    limited=st.booleans(),
    concurrency=st.integers(1, 256),
    service_ms=st.integers(1, 120_000),
)
def test_the_default_changes_what_cpu_reads_not_capacity_or_latency(
    millicores: int, limited: bool, concurrency: int, service_ms: int
) -> None:
    """With cpu_per_request assumed, a pod still serves `concurrency` requests at full speed (the CPU
    limit caps nothing below it), and at full concurrency it uses exactly min(concurrency, cores)."""
    cpu = f"{millicores}m"
    w = _w(CPU_HPA, "1m" if limited else cpu, cpu if limited else None)
    w["serving"] = {"concurrency": concurrency, "service_time": f"{service_ms}ms"}
    assume_serving(w)
    model = Workload.model_validate(w)
    service_s = model.serving.service_time
    assert servers_per_pod(model, service_s) == pytest.approx(concurrency, rel=1e-9)
    assert pod_servers(model, service_s) == (concurrency, service_s)
    busy_cores = concurrency / service_s * model.serving.cpu_per_request  # U = X x D at saturation
    assert busy_cores == pytest.approx(min(concurrency, millicores / 1000), rel=1e-9)


def _run_spike(sc: Scenario, workload: str, base_rps: float, factor: float) -> tuple[int, int, int]:
    """(desired before, the most during, desired at the end) of `workload` under a spike at 1 h."""
    data = sc.model_dump(mode="json")
    data["traffic"]["load"] = {
        "base_rps": base_rps,
        "spikes": [{"at": "1h", "ramp": "5m", "hold": "30m", "factor": factor}],
    }
    result = simkit.simulate(Scenario.model_validate(data), duration=3 * 3600, seed=3)
    rep = result.replicas[result.replicas.workload == workload].sort_values("t_s")
    before = rep[rep.t_s < 3600].desired.iloc[-1]
    changes = rep[(rep.t_s >= 3600) & (rep.t_s < 3600 + 35 * 60)].desired  # rows are changes of level
    during = max([int(before), *(int(d) for d in changes)])
    return int(before), during, int(rep.desired.iloc[-1])


@needs_shared
def test_imported_sock_shop_cpu_hpa_scales_up_under_load_and_down_after() -> None:
    result = import_manifests(sorted((MANIFESTS / "sock-shop").glob("*.yaml")))
    sc = result.scenario
    front = sc.workload("front-end")
    assert front.hpa is not None and front.hpa.maxReplicas == 10  # front-end-hsc.yaml, autoscaling/v1
    # 20 ms (simkit's default service time) x 300m limit / concurrency 1
    assert front.serving.cpu_per_request == pytest.approx(0.006)
    assert sc.workload("carts").serving.cpu_per_request == 0  # cart-hsc.yaml names Deployment/cart
    assert any("front-end" in a and CPU_BOUND in a for a in result.assumed)
    # 2 req/s: 12m of 100m requested (12 % < 50 %): one pod; 20 req/s: 120m in all, so
    # ceil(120m / 50m per pod) = 3 pods at the target; back to one after
    before, during, end = _run_spike(sc, "front-end", base_rps=2.0, factor=10)
    assert (before, end) == (1, 1)
    assert during == math.ceil(20 * 0.006 / (0.1 * 0.5))


OB_HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: frontend}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: frontend}
  minReplicas: 1
  maxReplicas: 8
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
"""


@needs_shared
def test_imported_online_boutique_with_an_added_cpu_hpa_scales_and_reminds(tmp_path: Path) -> None:
    hpa = tmp_path / "frontend-hpa.yaml"
    hpa.write_text(OB_HPA)
    result = import_manifests([MANIFESTS / "online-boutique", hpa])
    sc = result.scenario
    frontend = sc.workload("frontend")
    assert frontend.hpa is not None
    assert frontend.serving.cpu_per_request == pytest.approx(0.02 * 0.2)  # 200m limit
    # workloads without a CPU HPA keep CPU unmodelled, as before
    assert all(w.serving.cpu_per_request == 0 for w in sc.workloads if w.name != "frontend")
    before, during, end = _run_spike(sc, "frontend", base_rps=3.0, factor=20)
    assert (before, end) == (1, 1)  # 3 x 4 ms = 12m of 100m: 12 % < 60 %
    assert during == math.ceil(60 * 0.004 / (0.1 * 0.6))  # 240m in all over 60m per pod: 4 pods
    out = tmp_path / "ob.yaml"
    out.write_text(result.text)
    note = import_reminder(out)
    assert note is not None
    assert "1 CPU-scaled HPAs read a guessed CPU per request" in note
    assert "cpu_per_request: 4ms" in result.text and CPU_BOUND in result.text.split("\nname:")[0]


def test_stated_serving_without_cpu_uses_its_service_time_and_memory_hpa_is_flagged(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          annotations: {simkit.io/serving: '{"concurrency": 4, "service_time": "50ms"}'}
        spec:
          template:
            spec:
              containers:
              - name: api
                resources: {requests: {cpu: 250m, memory: 128Mi}, limits: {cpu: "1", memory: 256Mi}}
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
          maxReplicas: 5
          metrics:
          - type: Resource
            resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
          - type: Resource
            resource: {name: memory, target: {type: Utilization, averageUtilization: 80}}
        """
    )
    path = tmp_path / "api.yaml"
    path.write_text(text)
    result = import_manifests([path])
    serving = result.scenario.workload("api").serving
    assert (serving.concurrency, serving.service_time) == (4, 0.05)
    assert serving.cpu_per_request == pytest.approx(0.05 * 1 / 4)  # 1 core shared by 4 in flight
    assert serving.base_memory == 0
    out = tmp_path / "s.yaml"
    out.write_text(result.text)
    note = import_reminder(out) or ""
    assert "1 CPU-scaled HPAs" in note and "1 HPAs' memory metric reads a constant" in note
    assert "serve with simkit's default" not in note  # serving was stated


def test_export_then_import_keeps_cpu_per_request(tmp_path: Path) -> None:
    """A stated value (what export writes, 0 included) is never replaced by the guess."""
    from simkit.export.exporter import export_scenario

    sc = simkit.load_scenario()
    export_scenario(sc, tmp_path, "k8s")
    back = import_manifests([tmp_path / "k8s"]).scenario
    for w in sc.workloads:
        assert back.workload(w.name).serving.cpu_per_request == w.serving.cpu_per_request
    assert back.workload("notification-service").serving.cpu_per_request == 0  # stated 0, kept


CUSTOM = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: api
        resources: {requests: {cpu: 250m, memory: 128Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 8
  metrics:
  - type: Pods
    pods:
      metric: {name: istio_requests_total}
      target: {type: AverageValue, averageValue: "10"}
"""


def test_custom_metric_no_adapter_maps_is_read_as_a_request_rate_and_scales(tmp_path: Path) -> None:
    """A Pods metric simkit's adapter does not map used to fail the import; it is now the per-pod request
    rate (one assumption line), CPU is not guessed for it, and the HPA follows the load."""
    path = tmp_path / "api.yaml"
    path.write_text(CUSTOM)
    result = import_manifests([path])
    sc = result.scenario
    assert sc.cluster.metrics_adapter["istio_requests_total"] == "requests_per_second"
    assert sc.cluster.metrics_adapter["http_requests_per_second"] == "requests_per_second"  # kept
    assert sc.workload("api").serving.cpu_per_request == 0
    assert sum("istio_requests_total" in a for a in result.assumed) == 1
    before, during, end = _run_spike(sc, "api", base_rps=5.0, factor=6)
    assert (before, during, end) == (1, 3, 1)  # 30 req/s over 10 per pod
    out = tmp_path / "s.yaml"
    out.write_text(result.text)
    assert "1 custom HPA metrics read as request rates" in (import_reminder(out) or "")


@needs_shared
def test_imports_without_custom_metrics_write_no_metrics_adapter() -> None:
    text = import_manifests([MANIFESTS / "online-boutique"]).text
    assert "metrics_adapter" not in text


def test_memory_only_hpa_holds_min_replicas_whatever_the_load(tmp_path: Path) -> None:
    """What happens, stated: simkit's pod memory is `base_memory`, constant under load, so an imported
    memory-only HPA (no base_memory in the manifest: 0 %) never scales; the import says so."""
    text = CUSTOM.replace(
        "  - type: Pods\n    pods:\n      metric: {name: istio_requests_total}\n"
        '      target: {type: AverageValue, averageValue: "10"}\n',
        "  - type: Resource\n    resource:\n      name: memory\n"
        "      target: {type: Utilization, averageUtilization: 60}\n",
    )
    path = tmp_path / "api.yaml"
    path.write_text(text)
    result = import_manifests([path])
    assert any(MEMORY_FLAT in a for a in result.assumed)
    assert _run_spike(result.scenario, "api", base_rps=5.0, factor=6) == (1, 1, 1)


def test_simkit_run_reminds_that_the_cpu_hpa_verdict_follows_a_guess(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simkit.cli import main

    text = CUSTOM.replace(
        "  - type: Pods\n    pods:\n      metric: {name: istio_requests_total}\n"
        '      target: {type: AverageValue, averageValue: "10"}\n',
        "  - type: Resource\n    resource:\n      name: cpu\n"
        "      target: {type: Utilization, averageUtilization: 70}\n",
    )
    manifests = tmp_path / "api.yaml"
    manifests.write_text(text)
    out = tmp_path / "s.yaml"
    assert main(["import", str(manifests), "-o", str(out)]) == 0
    assert "assumed CPU-bound, serving.cpu_per_request 5ms" in capsys.readouterr().out  # 20 ms x 250m
    main(["run", str(out), "--duration", "1h"])
    printed = capsys.readouterr().out
    assert "1 CPU-scaled HPAs read a guessed CPU per request" in printed
