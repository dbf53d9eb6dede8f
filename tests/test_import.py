"""Import of real (partial, odd) manifests: round trip, assumptions, refusals by file, document and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simkit.cli import main
from simkit.errors import ScenarioError
from simkit.export.exporter import export_scenario
from simkit.export.importer import import_manifests
from simkit.scenario.loader import load_scenario, load_scenario_file, parse_scenario

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  template:
    spec:
      containers:
      - name: {name}
        image: example/{name}:1.0
        resources: {resources}
"""


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_import_of_export_gives_back_the_same_workloads(tmp_path: Path) -> None:
    original = load_scenario()
    export_scenario(load_scenario_file(), tmp_path, "k8s")
    result = import_manifests([tmp_path / "k8s"])
    # manifests name the queue llm-agent's HPA reads, not its load: the one assumption of the round trip
    assert result.assumed == [
        "queue llm-agent-tasks (read by llm-agent-service's HPA): 0.1 tasks per request of 1s each"
    ]
    assert result.ignored == []
    assert [q.name for q in result.scenario.traffic.queues] == ["llm-agent-tasks"]
    assert sorted(w.name for w in result.scenario.workloads) == sorted(w.name for w in original.workloads)
    for w in original.workloads:
        assert result.scenario.workload(w.name) == w, w.name


def test_round_trip_keeps_sub_second_serving_times(tmp_path: Path) -> None:
    sc = load_scenario()
    ingress = sc.workload("istio-ingressgateway")
    assert ingress.serving.service_time == pytest.approx(0.001)
    export_scenario(sc, tmp_path, "k8s")
    back = import_manifests([tmp_path]).scenario.workload("istio-ingressgateway")
    assert back.serving.service_time == ingress.serving.service_time
    assert back.serving.cpu_per_request == ingress.serving.cpu_per_request


def test_imported_text_validates_and_marks_assumptions(tmp_path: Path) -> None:
    path = _write(
        tmp_path, DEPLOY.format(name="cart", resources="{requests: {cpu: 0.25, memory: 268435456}}")
    )
    result = import_manifests([path])
    parse_scenario(result.text)  # what `simkit validate` does
    assert result.text.count("# ASSUMPTION:") == 4
    w = result.scenario.workload("cart")
    assert (w.resources.requests.cpu, w.resources.requests.memory) == (250, 256.0)
    assert w.replicas == 1 and w.image == "example/cart:1.0"
    assumed = "\n".join(result.assumed)
    assert "spec.replicas absent: assumed 1" in assumed
    assert "spec.selector absent" in assumed
    assert "pod labels absent: assumed app=cart" in assumed


@pytest.mark.parametrize(
    ("cpu", "memory", "millicores", "mib"),
    [
        ("500m", "512Mi", 500, 512.0),
        ("0.5", "0.5Gi", 500, 512.0),
        (1, "1e9", 1000, 1e9 / 2**20),
        ("1500000u", "1048576k", 1500, 1048576e3 / 2**20),
        ("2", "1G", 2000, 1e9 / 2**20),
        ("+100m", "64Ki", 100, 0.0625),
    ],
)
def test_every_legal_quantity_spelling(
    tmp_path: Path, cpu: object, memory: object, millicores: int, mib: float
) -> None:
    res = f"{{requests: {{cpu: {cpu!r}, memory: {memory!r}}}}}"
    result = import_manifests([_write(tmp_path, DEPLOY.format(name="q", resources=res))])
    w = result.scenario.workload("q")
    assert w.resources.requests.cpu == millicores
    assert w.resources.requests.memory == pytest.approx(mib, rel=1e-12)


def test_missing_requests_default_to_limits_or_zero(tmp_path: Path) -> None:
    result = import_manifests([_write(tmp_path, DEPLOY.format(name="l", resources="{limits: {cpu: '1'}}"))])
    w = result.scenario.workload("l")
    assert w.resources.requests.cpu == 1000 and w.resources.requests.memory == 0
    assumed = "\n".join(result.assumed)
    assert "requests.cpu absent: Kubernetes defaults it to the limit" in assumed
    assert "requests.memory absent: assumed 0" in assumed


def test_bad_quantity_is_refused_with_file_document_and_field(tmp_path: Path) -> None:
    text = "kind: Namespace\napiVersion: v1\nmetadata: {name: shop}\n---\n" + DEPLOY.format(
        name="x", resources="{requests: {cpu: lots}}"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        import_manifests([path])
    msg = str(err.value)
    assert msg.startswith(f"{path}: document 1, spec.template.spec.containers[0].resources.requests.cpu: ")
    assert "'lots'" in msg and "(line 14)" in msg


def test_invalid_toleration_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = DEPLOY.format(name="t", resources="{}") + "      tolerations: [{key: a, operator: Maybe}]\n"
    with pytest.raises(ScenarioError, match=r"document 0, spec\.template\.spec\.tolerations\.0\.operator"):
        import_manifests([_write(tmp_path, text)])


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: v1\nkind: [Deployment\n")
    with pytest.raises(ScenarioError, match=r"not valid YAML.*line"):
        import_manifests([path])


def test_partial_documents_merge_and_hpa_pdb_attach(tmp_path: Path) -> None:
    text = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      replicas: 4
      template:
        spec:
          containers: [{name: api, image: "api:2", resources: {requests: {cpu: 200m, memory: 128Mi}}}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      template:
        spec:
          affinity:
            podAntiAffinity:
              preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 50
                podAffinityTerm:
                  labelSelector: {matchLabels: {app: api}}
                  topologyKey: kubernetes.io/hostname
    ---
    apiVersion: autoscaling/v1
    kind: HorizontalPodAutoscaler
    metadata: {name: api-hpa, namespace: shop}
    spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, maxReplicas: 9,
           targetCPUUtilizationPercentage: 60}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: api-pdb, namespace: shop}
    spec: {maxUnavailable: "25%", selector: {matchLabels: {app: api}}}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    """
    result = import_manifests([_write(tmp_path, text)])
    w = result.scenario.workload("api")
    assert w.replicas == 4
    assert w.affinity is not None and w.affinity.podAntiAffinity is not None
    assert w.hpa is not None and w.hpa.maxReplicas == 9
    assert w.hpa.metrics[0].resource == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 60},
    }
    assert w.pdb is not None and w.pdb.maxUnavailable == "25%"
    assert any("merged into" in a for a in result.assumed)
    assert result.ignored == [f"{tmp_path / 'm.yaml'}: document 4 (ConfigMap/settings): kind not imported"]


def test_daemonset_and_cluster_autoscaler(tmp_path: Path) -> None:
    text = """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-agent, namespace: monitoring}
    spec:
      selector: {matchLabels: {app: node-agent}}
      template:
        metadata: {labels: {app: node-agent}}
        spec:
          nodeSelector: {kubernetes.io/os: linux}
          tolerations: [{operator: Exists}]
          affinity: {nodeAffinity: {}}
          containers:
          - {name: a, image: "agent:1", resources: {requests: {cpu: 50m, memory: 64Mi}}}
          - {name: b, image: "side:1", resources: {requests: {cpu: 10m, memory: 16Mi}}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cluster-autoscaler, namespace: kube-system}
    spec:
      template:
        spec:
          containers:
          - name: cluster-autoscaler
            image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.28.0
            command: [./cluster-autoscaler, --nodes=2:9:application-pool, --nodes=1:2:nope,
                      --scale-down-unneeded-time=7m, --expander=price, --made-up-flag=1]
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: agent, namespace: monitoring}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: DaemonSet, name: node-agent}
      maxReplicas: 3
    """
    manifests = textwrap.dedent(text) + "---\n" + DEPLOY.format(name="cart", resources="{}")
    result = import_manifests([_write(tmp_path, manifests)])
    assert [w.name for w in result.scenario.workloads] == ["cart"]
    [agent] = result.scenario.daemonsets
    assert (agent.name, agent.namespace) == ("node-agent", "monitoring")
    assert agent.resources.requests.cpu == 60 and agent.resources.requests.memory == 80  # summed
    assert agent.nodeSelector == {"kubernetes.io/os": "linux"} and len(agent.tolerations) == 1
    ca = result.scenario.cluster.cluster_autoscaler
    assert ca == {"nodes": ["2:9:application-pool"], "scale-down-unneeded-time": "7m", "expander": "price"}
    assumed = "\n".join(result.assumed)
    assert "no node pool 'nope'" in assumed and "made-up-flag" in assumed
    assert "spec.template.spec.affinity: not modelled for DaemonSets, dropped" in assumed
    assert any("an HPA cannot scale it" in line for line in result.ignored)
    assert "daemonsets:" in result.text and "kind: DaemonSet" not in result.text


def test_daemonsets_alone_are_refused(tmp_path: Path) -> None:
    text = """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-agent}
    spec:
      template: {spec: {containers: [{name: a, image: "agent:1"}]}}
    """
    with pytest.raises(ScenarioError, match=r"no Deployment or StatefulSet to import \(DaemonSets alone"):
        import_manifests([_write(tmp_path, text)])


def test_nothing_to_import_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no Deployment or StatefulSet to import"):
        import_manifests([_write(tmp_path, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")])


def test_cli_import_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = _write(tmp_path, DEPLOY.format(name="cart", resources="{}"))
    out = tmp_path / "sc.yaml"
    assert main(["import", str(manifests), "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("assumed: ") and "spec.replicas absent" in line for line in printed)
    assert main(["validate", str(out)]) == 0
    assert main(["import", str(tmp_path / "missing.yaml"), "-o", str(out)]) == 2
    assert "no such file or directory" in capsys.readouterr().err
