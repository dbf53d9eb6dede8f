"""Regression test, fixed on 2026-12-07; the bug as the review found it:
Review of 910ab5c (imported CPU HPAs: `cpu_per_request = service_time x min(1, cores / concurrency)`,
simkit/export/import_serving.py). Its stated property: "a pod with every server busy uses exactly
min(concurrency, cores)". For a queue consumer it does not hold: the engine charges `cpu_per_request`
per task too (engine/metrics.py: base_cpu + arrivals per pod x cpu_per_request, arrivals including the
queue's tasks, engine/traffic.py `arrival_rate`), but a task holds a server for the queue's
`task_time` (the importer's ASSUMED_TASK: 1 s), not the serving's 20 ms. A worker whose HPA reads
CPU and an External queue metric (the usual KEDA/RabbitMQ consumer) busy with 1 s tasks then reads
20m of CPU instead of 1 core: its CPU metric stays near 0 % of its request at full load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simkit.engine.traffic import pod_servers
from simkit.export.importer import import_manifests

WORKER = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker}
    spec:
      replicas: 2
      selector: {matchLabels: {app: worker}}
      template:
        metadata: {labels: {app: worker}}
        spec:
          containers:
            - name: worker
              image: example/worker:1
              resources: {requests: {cpu: 500m, memory: 256Mi}, limits: {cpu: "1", memory: 512Mi}}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: worker}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
      minReplicas: 2
      maxReplicas: 20
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
        - type: External
          external:
            metric: {name: rabbitmq_queue_messages, selector: {matchLabels: {queue: jobs}}}
            target: {type: AverageValue, averageValue: "1000"}
    """
)


def test_a_busy_imported_consumer_uses_its_cores(tmp_path: Path) -> None:
    path = tmp_path / "worker.yaml"
    path.write_text(WORKER)
    sc = import_manifests([path]).scenario
    w = sc.workload("worker")
    (queue,) = sc.traffic.queues
    assert queue.consumer == "worker" and queue.task_time == pytest.approx(1.0)
    assert w.serving.cpu_per_request == pytest.approx(1.0)  # its 1 s task x min(1, 1 core / concurrency 1)
    servers, mean_s = pod_servers(w, queue.task_time)  # how the traffic model serves the queue's tasks
    tasks_per_s = servers / mean_s  # a pod with every server busy with tasks
    cores_used = tasks_per_s * w.serving.cpu_per_request  # engine/metrics.py, in cores
    assert cores_used == pytest.approx(min(w.serving.concurrency, 1.0))  # was 0.02 with the 20 ms guess
