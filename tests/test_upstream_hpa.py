"""HPA cases from kubernetes/kubernetes' own tests where the resource metrics API returns nothing.

Each case names its upstream file and test (pkg/controller/podautoscaler/). Facts only: the pods,
what the metrics API returns, and the error / condition upstream reports. The wording of errors
follows the call chain metrics/client.go GetResourceMetric -> replica_calculator.go
GetResourceReplicas -> horizontal.go computeStatusForResourceMetricGeneric ("failed to get cpu
utilization: ...") -> computeStatusForResourceMetric (condition FailedGetResourceMetric, message
"the HPA was unable to compute the replica count: <error>") -> computeReplicasForMetric ("failed to
get cpu resource metric value: ...") -> computeReplicasForMetrics ("invalid metrics (1 invalid out
of 1), first error is: ...", event FailedComputeMetricsReplicas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from simkit.control.hpa import decide
from simkit.control.hpa.compute import compute_replicas_for_metrics
from simkit.control.hpa.pods import MetricError, resource_samples
from simkit.control.hpa.spec import hpa_spec_from_k8s
from simkit.control.hpa.types import ContainerSample, HPAControllerConfig, HPAObservation, HPAState, PodSample

K8S = "kubernetes/kubernetes:pkg/controller/podautoscaler/"
NOW = 10_000.0
NO_METRICS = "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
NOT_TARGETED = "did not receive metrics for targeted pods (pods might be unready)"


def _pod(
    i: int, request: int | None, usage: Sequence[int] | None, *, ready: bool = True, other: bool = False
) -> PodSample:
    """test-pod-<i>: two containers (as the upstream fakes build them), each requesting `request`.

    `usage` = per-container cpu usage from the metrics API; None = the API has no PodMetrics item
    for the pod. `other`: the API returned an item whose containers report memory but not cpu.
    """
    usages: list[dict[str, int]]
    if usage is None:
        usages = [{"memory": 1}, {"memory": 1}] if other else [{}, {}]
    else:
        usages = [{"cpu": u} for u in usage] + [{} for _ in range(2 - len(usage))]
    requests = {} if request is None else {"cpu": request}
    containers = tuple(ContainerSample(f"container{c}", requests, usages[c]) for c in range(2))
    return PodSample(f"test-pod-{i}", start_time=NOW - 3600, ready=ready, containers=containers)


CPU_100 = hpa_spec_from_k8s(
    {
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 100}},
            }
        ],
    }
)


@dataclass(frozen=True)
class ErrorCase:
    name: str
    pods: tuple[PodSample, ...]
    spec_replicas: int
    error: str  # substring of the error upstream returns for the metric


ERRORS = [
    ErrorCase(
        K8S + "replica_calculator_test.go:TestReplicaCalcEmptyMetrics",
        tuple(_pod(i, 1000, None) for i in range(3)) + (_pod(3, None, None),),
        4,
        NO_METRICS,
    ),
    ErrorCase(
        K8S + "replica_calculator_test.go:TestReplicaCalcEmptyCPURequest",
        (_pod(0, None, [100, 100]),),
        1,
        "missing request for",
    ),
    ErrorCase(
        # metrics/client.go getPodMetrics: an item without the resource is a missing pod, not an
        # empty API answer; replica_calculator.go GetResourceReplicas then finds no usable metric.
        K8S
        + "metrics/client.go:GetResourceMetric + "
        + "replica_calculator.go:GetResourceReplicas (items without cpu)",
        tuple(_pod(i, 1000, None, other=True) for i in range(3)),
        3,
        NOT_TARGETED,
    ),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.name.rsplit(":", 1)[-1])
def test_resource_metric_errors(case: ErrorCase) -> None:
    obs = HPAObservation(case.spec_replicas, case.spec_replicas, case.pods)
    result = compute_replicas_for_metrics(CPU_100, obs, NOW, HPAControllerConfig())
    assert result.replicas is None
    assert result.error_reason == "FailedGetResourceMetric"
    assert result.error is not None and case.error in result.error
    if case.error != NO_METRICS:
        assert "no metrics returned" not in result.error


def test_rest_client_cpu_empty_metrics() -> None:
    """metrics/client_test.go TestRESTClientCPUEmptyMetrics: no PodMetrics at all is an error."""
    with pytest.raises(MetricError, match="no metrics returned from resource metrics API"):
        resource_samples((), "cpu", None, NOW)


def test_rest_client_cpu_empty_metrics_for_one_pod() -> None:
    """metrics/client_test.go TestRESTClientCPUEmptyMetricsForOnePod: items {100}, {300, 400} and one
    with no containers -> pod 0 = 100, pod 1 = 700, pod 2 missing, and no error."""
    pods = (
        PodSample("test-pod-0", NOW, containers=(ContainerSample("c0", {}, {"cpu": 100}),)),
        PodSample(
            "test-pod-1",
            NOW,
            containers=(ContainerSample("c0", {}, {"cpu": 300}), ContainerSample("c1", {}, {"cpu": 400})),
        ),
        PodSample("test-pod-2", NOW, containers=()),
    )
    samples = resource_samples(pods, "cpu", None, NOW)
    assert {name: s.value for name, s in samples.items()} == {"test-pod-0": 100, "test-pod-1": 700}


def test_empty_metrics_reconcile() -> None:
    """horizontal_test.go TestEmptyMetrics: 4 pods requesting 1 CPU, the metrics API returns nothing.

    The HPA keeps 4 replicas and ScalingActive is False with reason FailedGetResourceMetric. Upstream's
    condition message is "the HPA was unable to compute the replica count: " + the metric's own
    error (`condition_error`); the FailedComputeMetricsReplicas event carries the wrapped
    "invalid metrics" error (`error`). decide() (hpa/__init__.py) still puts the latter in the
    condition message, which tests/test_hpa.py pins.
    """
    pods = tuple(_pod(i, 1000, None) for i in range(4))
    obs = HPAObservation(4, 4, pods)
    decision = decide(CPU_100, obs, HPAState(), NOW, HPAControllerConfig())
    assert decision.desired_replicas == 4
    active = decision.condition("ScalingActive")
    assert active is not None and (active.status, active.reason) == (False, "FailedGetResourceMetric")
    inner = f"failed to get cpu utilization: {NO_METRICS}"
    result = compute_replicas_for_metrics(CPU_100, obs, NOW, HPAControllerConfig())
    assert (result.error_reason, result.condition_error) == ("FailedGetResourceMetric", inner)
    assert result.error == (
        "invalid metrics (1 invalid out of 1), first error is: "
        f"failed to get cpu resource metric value: {inner}"
    )
