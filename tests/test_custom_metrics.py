"""HPAs on Pods and Object metrics (custom.metrics.k8s.io) scale on the simulated request rate.

`cluster.metrics_adapter` maps a metric name to what it measures (today: `requests_per_second`),
as prometheus-adapter rules do in a real cluster; a metric with no source is an input error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simkit
import simkit.engine.hpa_loop as autoscaling
from simkit.errors import ScenarioError
from simkit.scenario.loader import LoadedScenario, load_scenario_file

SPIKE = Path(__file__).parents[1] / "scenarios" / "traffic-spike.yaml"
BFF, ORCHESTRATOR = 4, 6  # indexes in the baseline's workloads

PODS_HPA = {
    "minReplicas": 3,
    "maxReplicas": 12,
    "metrics": [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "http_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "15"},
            },
        }
    ],
}
OBJECT_HPA = {
    "minReplicas": 3,
    "maxReplicas": 10,
    "metrics": [
        {
            "type": "Object",
            "object": {
                "metric": {"name": "requests-per-second"},
                "describedObject": {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "name": "api-read",
                },
                "target": {"type": "AverageValue", "averageValue": "8"},
            },
        }
    ],
}


def _spike(**overrides: Any) -> LoadedScenario:
    return load_scenario_file(SPIKE, overrides={"simulation.duration": "1d12h", **overrides})


def _hpa_rows(result: simkit.RunResult, workload: str) -> pd.DataFrame:
    d = result.decisions
    return d[(d.controller == "hpa") & (d.object == workload)]


def test_pods_and_object_metrics_drive_the_hpa_through_the_spike() -> None:
    loaded = _spike(**{f"workloads.{BFF}.hpa": PODS_HPA, f"workloads.{ORCHESTRATOR}.hpa": OBJECT_HPA})
    result = simkit.simulate(loaded, seed=3, progress=False)
    for name, metric in (
        ("bff-service", "pods metric http_requests_per_second"),
        ("workflow-orchestrator-service", "object metric requests-per-second"),
    ):
        rows = _hpa_rows(result, name)
        ups = rows[rows["to"] > rows["from"]]
        assert not ups.empty, name
        assert ups.message.str.contains(f"{metric} above target").all(), ups.message.tolist()
        spike_start = 86400 + 10 * 3600
        assert ups.t_s.min() >= spike_start, "scaled before the spike"
        assert ups["to"].max() > 3
        downs = rows[rows["to"] < rows["from"]]
        assert not downs.empty and downs.t_s.max() > ups.t_s.max(), "never scaled back down"
        assert "FailedGet" not in " ".join(rows.reason)


def test_skipping_quiet_syncs_is_exact_with_custom_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _spike(**{f"workloads.{BFF}.hpa": PODS_HPA, f"workloads.{ORCHESTRATOR}.hpa": OBJECT_HPA})
    runs = {}
    for skip in (False, True):
        monkeypatch.setattr(autoscaling, "SKIP_QUIET_SYNCS", skip)
        runs[skip] = simkit.simulate(loaded, seed=5, progress=False)
    for name in ("decisions", "replicas", "routes", "nodes"):
        pd.testing.assert_frame_equal(getattr(runs[True], name), getattr(runs[False], name), check_exact=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                f"workloads.{BFF}.hpa": {
                    **PODS_HPA,
                    "metrics": [
                        {
                            **PODS_HPA["metrics"][0],
                            "pods": {
                                "metric": {"name": "queue_length"},
                                "target": {"type": "AverageValue", "averageValue": "1"},
                            },
                        }
                    ],
                }
            },
            "workloads[4].hpa.metrics[0].pods.metric.name: no source for Pods metric 'queue_length': map it "
            "to a signal under cluster.metrics_adapter",
        ),
        (
            {"cluster.metrics_adapter": {"queue_length": "latency"}},
            "cluster.metrics_adapter.queue_length",
        ),
        (
            {
                f"workloads.{ORCHESTRATOR}.hpa": {
                    **OBJECT_HPA,
                    "metrics": [
                        {
                            "type": "Object",
                            "object": {
                                **OBJECT_HPA["metrics"][0]["object"],
                                "describedObject": {"kind": "Ingress", "name": "api"},
                            },
                        }
                    ],
                }
            },
            "workloads[6].hpa.metrics[0].object.describedObject.name: unknown route 'api'",
        ),
        (
            {
                f"workloads.{ORCHESTRATOR}.hpa": {
                    **OBJECT_HPA,
                    "metrics": [
                        {
                            "type": "Object",
                            "object": {
                                **OBJECT_HPA["metrics"][0]["object"],
                                "describedObject": {"kind": "Node", "name": "x"},
                            },
                        }
                    ],
                }
            },
            "workloads[6].hpa.metrics[0].object.describedObject.kind: expected one of Service, Deployment, "
            "StatefulSet, Ingress, got 'Node'",
        ),
    ],
)
def test_custom_metric_without_a_source_is_an_input_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        _spike(**overrides)
    assert message in str(err.value)


def test_a_mapped_name_serves_pods_metrics() -> None:
    hpa = {
        **PODS_HPA,
        "metrics": [
            {
                **PODS_HPA["metrics"][0],
                "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
            }
        ],
    }
    loaded = _spike(
        **{f"workloads.{BFF}.hpa": hpa, "cluster.metrics_adapter": {"rps": "requests_per_second"}}
    )
    rows = _hpa_rows(simkit.simulate(loaded, seed=3, progress=False), "bff-service")
    assert (rows["to"] > rows["from"]).any()


def test_the_error_names_the_line(tmp_path: Path) -> None:
    lines = (SPIKE.parent / "platform-baseline.yaml").read_text().splitlines()
    at = lines.index("      metrics:") + 1  # the first HPA's metrics (llm-agent-service)
    pods = "{type: Pods, pods: {metric: {name: latency_ms}, target: {type: AverageValue, averageValue: 5}}}"
    lines.insert(at, f"        - {pods}")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario_file(scenario)
    assert "hpa.metrics[0].pods.metric.name: no source for Pods metric 'latency_ms'" in str(err.value)
    assert f"(line {at + 1})" in str(err.value)


def test_an_external_metric_on_a_queue_that_does_not_exist_is_an_input_error() -> None:
    """Issue 14: it used to be accepted, and the HPA then had no source (FailedGetExternalMetric)."""
    from simkit import load_scenario
    from simkit.errors import ScenarioError

    sc = load_scenario()
    wi, mi = next(
        (i, j)
        for i, w in enumerate(sc.workloads)
        for j, m in enumerate(w.hpa.metrics if w.hpa else [])
        if m.type == "External"
    )
    at = f"workloads.{wi}.hpa.metrics.{mi}.external.metric.selector.matchLabels.queue"
    with pytest.raises(ScenarioError) as err:
        load_scenario(overrides={at: "no-such-queue"})
    text = str(err.value)
    assert f"workloads[{wi}].hpa.metrics[{mi}].external.metric.selector.matchLabels.queue: no source" in text
    assert (
        "queue 'no-such-queue' is not in traffic.queues (llm-agent-tasks, notifications, audit-events)"
        in text
    )
    assert text.endswith(")") and "(line " in text
