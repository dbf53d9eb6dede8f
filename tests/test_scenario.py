"""The scenario schema: the default scenario validates; each bad input gives one exact line."""

import re
from pathlib import Path

import pytest

from simkit.errors import ScenarioError
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario, load_scenario_file, parse_scenario

BASE = DEFAULT_SCENARIO.read_text()


def test_default_scenario_is_the_seed_platform():
    sc = load_scenario()
    pools = {p.name: p for p in sc.cluster.node_pools}
    assert sc.cluster.zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    app, data, infra = pools["application-pool"], pools["data-pool"], pools["infrastructure-pool"]
    assert (app.instance_type, app.capacity_type, app.min_nodes, app.max_nodes) == (
        "t3.xlarge",
        "spot",
        3,
        20,
    )
    assert (data.instance_type, data.capacity_type, data.min_nodes, data.max_nodes) == (
        "r5.xlarge",
        "on-demand",
        3,
        6,
    )
    assert data.taints[0].model_dump() == {"key": "workload", "value": "data", "effect": "NoSchedule"}
    assert (infra.instance_type, infra.min_nodes, infra.max_nodes) == ("t3.large", 3, 6)
    names = {w.name for w in sc.workloads}
    assert {
        "bff-service",
        "llm-agent-service",
        "workflow-orchestrator-service",
        "validation-service",
        "notification-service",
        "audit-logging-service",
        "file-storage-service",
    } <= names
    assert {"istio-ingressgateway", "kong", "keycloak", "vault", "postgresql", "rabbitmq", "redis"} <= names
    llm = sc.workload("llm-agent-service")
    assert llm.resources.requests.cpu == 500 and llm.resources.requests.memory == 1024
    assert llm.resources.limits is not None and llm.resources.limits.cpu == 2000
    assert llm.hpa is not None and (llm.hpa.minReplicas, llm.hpa.maxReplicas) == (3, 20)
    assert llm.pdb is not None and llm.pdb.minAvailable == 2
    assert sc.slos.availability == pytest.approx(0.999)
    assert sc.slos.p95_latency == pytest.approx(0.2)
    assert sc.cost.budget_usd_month == 10000


def test_ten_x_is_one_override():
    sc = load_scenario(overrides={"traffic.load.growth": 10})
    assert sc.traffic.load.growth == 10


def test_hash_is_stable_and_content_based():
    a = load_scenario_file()
    b = load_scenario_file(overrides={"simulation.duration": "168h"})  # same value, other spelling
    c = load_scenario_file(overrides={"traffic.load.growth": 2})
    assert a.sha256 == b.sha256 != c.sha256


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# (description, old text, new text, exact message with the line of the first changed line, or of the
# text after "@" in the description). Each change is applied once to the default scenario.
CORPUS = [
    (
        "max below min",
        "      max_nodes: 20\n",
        "      max_nodes: 2\n",
        "cluster.node_pools[0].max_nodes: must be >= min_nodes (3), got 2 (line {line})",
    ),
    (
        "typo in a key",
        "      instance_type: t3.xlarge\n",
        "      instance_tpye: t3.xlarge\n",
        "cluster.node_pools[0].instance_tpye: unknown key; did you mean 'instance_type'? (line {line})",
    ),
    (
        "unknown key, nothing close",
        "    - name: data-pool",
        "    - flavour: x\n      name: data-pool",
        "cluster.node_pools[1].flavour: unknown key (expected one of: autoscaling, capacity_type, initial_nodes, "
        "instance_type, "
        "labels, max_nodes, max_pods, min_nodes, name, taints, zones) (line {line})",
    ),
    (
        "bad enum",
        "capacity_type: spot",
        "capacity_type: spott",
        "cluster.node_pools[0].capacity_type: input should be 'spot' or 'on-demand', got 'spott' (line {line})",
    ),
    (
        "bad cpu quantity",
        "cpu: 250m, memory: 256Mi}, limits",
        "cpu: 250x, memory: 256Mi}, limits",
        "workloads[0].resources.requests.cpu: expected a Kubernetes quantity such as '500m' or '2Gi', "
        "got '250x' (line {line})",
    ),
    (
        "bad duration",
        "duration: 7d",
        "duration: 7days",
        "simulation.duration: expected a duration such as '30s', '5m', '1h30m' or '7d', got '7days' (line {line})",
    ),
    (
        "unknown service on a route",
        "[istio-ingressgateway, kong, keycloak, vault]",
        "[istio-ingressgateway, kong, keycloack, vault]",
        "traffic.routes[3].path[2].service: unknown workload 'keycloack'; known: istio-ingressgateway, kong, "
        "keycloak, vault, bff-service, llm-agent-service, workflow-orchestrator-service, validation-service, "
        "notification-service, audit-logging-service, file-storage-service, postgresql, rabbitmq, redis (line {line})",
    ),
    (
        "shares do not add up@  routes:",
        "share: 0.02",
        "share: 0.5",
        "traffic.routes: route shares must add up to 1, got 1.48 (line {line})",
    ),
    (
        "both PDB fields",
        "pdb: {minAvailable: 2}\n    hpa",
        "pdb: {minAvailable: 2, maxUnavailable: 1}\n    hpa",
        "workloads[5].pdb: give exactly one of minAvailable or maxUnavailable (line {line})",
    ),
    (
        "HPA max below min",
        "maxReplicas: 20",
        "maxReplicas: 2",
        "workloads[5].hpa.maxReplicas: must be >= minReplicas (3), got 2 (line {line})",
    ),
    (
        "no zones",
        "zones: [us-east-1a, us-east-1b, us-east-1c]",
        "zones: []",
        "cluster.zones: expected at least 1 item(s), got [] (line {line})",
    ),
    (
        "availability above 100%",
        "availability: 99.9%",
        "availability: 199.9%",
        "slos.availability: input should be less than or equal to 1, got 1.999 (line {line})",
    ),
    (
        "not a DNS name",
        "- name: kong\n",
        "- name: Kong_GW\n",
        "workloads[1].name: must be a DNS-1123 label (lower-case letters, digits and '-', at most 63), "
        "got 'Kong_GW' (line {line})",
    ),
    (
        "negative replicas",
        "    replicas: 2\n    resources: {requests: {cpu: 250m, memory: 512Mi}",
        "    replicas: -2\n    resources: {requests: {cpu: 250m, memory: 512Mi}",
        "workloads[7].replicas: input should be greater than or equal to 0, got -2 (line {line})",
    ),
    (
        "bad topology spread",
        "whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: kong}}",
        "whenUnsatisfiable: Never, labelSelector: {matchLabels: {app: kong}}",
        "workloads[1].topologySpreadConstraints[0].whenUnsatisfiable: input should be 'DoNotSchedule' or "
        "'ScheduleAnyway', got 'Never' (line {line})",
    ),
    (
        "DaemonSet cpu quantity@cpu: 25x",
        "\ncluster:\n",
        "\ndaemonsets:\n  - name: aws-node\n    resources: {requests: {cpu: 25x}}\ncluster:\n",
        "daemonsets[0].resources.requests.cpu: expected a Kubernetes quantity such as '500m' or '2Gi', "
        "got '25x' (line {line})",
    ),
    (
        "DaemonSet key typo@nodeselector",
        "\ncluster:\n",
        "\ndaemonsets:\n  - name: aws-node\n    nodeselector: {workload: data}\ncluster:\n",
        "daemonsets[0].nodeselector: unknown key; did you mean 'nodeSelector'? (line {line})",
    ),
    (
        "DaemonSet toleration operator@operator: Exist}",
        "\ncluster:\n",
        "\ndaemonsets:\n  - name: aws-node\n    tolerations: [{operator: Exist}]\ncluster:\n",
        "daemonsets[0].tolerations[0].operator: input should be 'Equal' or 'Exists', got 'Exist' (line {line})",
    ),
    (
        "duplicate DaemonSet@- name: aws-node",
        "\ncluster:\n",
        "\ndaemonsets:\n  - {name: aws-node}\n  - name: aws-node\ncluster:\n",
        "daemonsets[1].name: duplicate DaemonSet name 'aws-node' (line {line})",
    ),
    (
        "DaemonSet named like a workload@- name: kong",
        "\ncluster:\n",
        "\ndaemonsets:\n  - name: kong\ncluster:\n",
        "daemonsets[0].name: 'kong' is also a workload's name; their pods would share the label app=kong "
        "(line {line})",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_gives_one_exact_line(what, old, new, message):
    assert BASE.count(old) >= 1, what
    text = BASE.replace(old, new, 1)
    _, _, anchor = what.partition("@")
    line = _line_of(text, anchor or new.strip().splitlines()[0])
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert str(info.value) == "s.yaml: " + message.format(line=line)


def test_yaml_syntax_error_names_the_line():
    text = BASE.replace("slos:", "slos: [", 1)
    with pytest.raises(ScenarioError, match=r"not valid YAML: .* \(line \d+\)"):
        parse_scenario(text, source="s.yaml")


def test_top_level_must_be_a_mapping():
    with pytest.raises(ScenarioError, match="expected a mapping at the top level"):
        parse_scenario("- a\n- b\n")


def test_missing_file(tmp_path: Path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_yaml_tags_are_not_executed():
    text = "!!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_scenario(text)


def test_hash_sees_sub_second_changes():
    a = load_scenario_file(overrides={"workloads.0.serving.service_time": "1ms"})
    b = load_scenario_file(overrides={"workloads.0.serving.service_time": "2ms"})
    assert a.sha256 != b.sha256


def test_extends_merges_and_reports_lines_in_the_right_file(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {DEFAULT_SCENARIO}\nname: child\nsimulation:\n  seed: 9\n  duration: 2days\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value).startswith(f"{child}: simulation.duration: expected a duration")
    assert "(line 5)" in str(info.value)
    child.write_text(f"extends: {DEFAULT_SCENARIO}\nname: child\nsimulation:\n  seed: 9\n")
    sc = load_scenario(child)
    assert sc.simulation.seed == 9 and sc.simulation.duration == 7 * 86400 and len(sc.workloads) == 14


def test_a_missing_trace_is_bad_input_at_load_time(tmp_path):
    child = tmp_path / "trace.yaml"
    child.write_text(
        f"extends: {DEFAULT_SCENARIO}\ntraffic:\n  load:\n    base_rps: null\n    daily: null\n    weekly: null\n"
        "    trace: {path: nope.csv, rate_unit: per_interval}\n"
    )
    with pytest.raises(ScenarioError, match=r"traffic.load.trace.path: trace file not found"):
        load_scenario_file(child)


def test_extends_merges_lists_of_named_things_by_name(tmp_path):
    """A child that changes one node pool keeps the others; `$patch: delete` removes one (strategic merge)."""
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {DEFAULT_SCENARIO}\nname: child\ncluster:\n  node_pools:\n"
        "    - {name: application-pool, max_nodes: 30}\n"
        "    - {name: extra-pool, instance_type: m5.xlarge, min_nodes: 0, max_nodes: 3}\n"
        "    - {name: infrastructure-pool, $patch: delete}\n"
        "workloads:\n  - {name: bff-service, replicas: 5}\n"
    )
    base = load_scenario()
    sc = load_scenario(child)
    pools = {p.name: p for p in sc.cluster.node_pools}
    assert list(pools) == ["application-pool", "data-pool", "extra-pool"]
    assert pools["application-pool"].max_nodes == 30
    assert pools["application-pool"].instance_type == base.cluster.node_pools[0].instance_type
    assert sc.workload("bff-service").replicas == 5
    assert sc.workload("bff-service").resources == base.workload("bff-service").resources
    assert [w.name for w in sc.workloads] == [w.name for w in base.workloads]


def test_extends_delete_of_an_unknown_name_names_the_child_line(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {DEFAULT_SCENARIO}\nworkloads:\n  - {{name: rediss, $patch: delete}}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert err.value.line == 3 and "rediss" in err.value.message


def test_set_addresses_list_items_by_name():
    sc = load_scenario(
        overrides={"workloads.bff-service.replicas": 7, "cluster.node_pools.data-pool.max_nodes": 9}
    )
    assert sc.workload("bff-service").replicas == 7
    assert next(p for p in sc.cluster.node_pools if p.name == "data-pool").max_nodes == 9
    with pytest.raises(ScenarioError, match="no such place"):
        load_scenario(overrides={"workloads.no-such-service.replicas": 7})


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"workloads.bff-service.resources.limits": {"cpu": "100m"}}, "limits.cpu must be >= requests.cpu"),
        ({"workloads.bff-service.pdb": {"maxUnavailable": -1}}, "must be >= 0"),
        ({"workloads.bff-service.startupProbe": {"httpGet": {"port": 80, "replicaz": 1}}}, "replicaz"),
        (
            {
                "workloads.bff-service.hpa": {
                    "maxReplicas": 3,
                    "metrics": [
                        {
                            "type": "External",
                            "external": {
                                "metric": {"name": "m", "selector": {"replicaz": 1}},
                                "target": {"type": "Value", "value": 1},
                            },
                        }
                    ],
                }
            },
            "metric.selector.replicaz: unknown key",
        ),
    ],
)
def test_validation_kubernetes_would_not_pass(override, expected):
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        load_scenario(overrides=override)


def test_every_validation_error_is_shown(tmp_path):
    child = tmp_path / "c.yaml"
    child.write_text(
        f"extends: {DEFAULT_SCENARIO}\nworkloads:\n  - {{name: bff-service, replicas: -1, replicaz: 2}}\n"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    lines = err.value.lines()  # one line per error, none hidden behind "+1 more error"
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    text = "\n".join(lines)
    assert "replicaz" in text and "replicas" in text.replace("replicaz", "")
    assert "more error" not in text
    assert all(line.startswith(str(child)) or line.startswith(child.name) for line in lines), lines


def test_the_cli_prints_every_error_on_its_own_line(tmp_path, capsys):
    from simkit.cli import main

    bad = tmp_path / "s.yaml"
    bad.write_text(BASE.replace("      instance_type: t3.xlarge\n", "      instance_tpye: t3.xlarge\n", 1))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "cluster.node_pools[0].instance_tpye: unknown key; did you mean 'instance_type'? (line 30)"
    )
    assert err[1].endswith("cluster.node_pools[0].instance_type: required key is missing (line 29)")
    assert all(line.startswith(f"error: {bad}") or line.startswith("error: s.yaml") for line in err), err
