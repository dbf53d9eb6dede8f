"""Export of the default scenario: Kubernetes schemas, restricted security, Helm, Terraform, CA flags."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import hcl2
import kubernetes_validate
import pytest
import yaml

from simkit.errors import ExportError
from simkit.export.autoscaler import autoscaler_args
from simkit.export.exporter import FORMATS, build_files, export_scenario, parse_formats
from simkit.export.terraform import equivalent_instance
from simkit.scenario.loader import load_scenario, load_scenario_file

K8S_VERSION = "1.31.0"  # pinned: the default scenario's cluster.kubernetes_version


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    export_scenario(load_scenario_file(), out, "all")
    return out


def _hcl(text: str) -> dict:
    """Parse HCL with python-hcl2; strings and keys unquoted whatever its version's convention."""
    parsed = _unquote(hcl2.loads(text))
    assert isinstance(parsed, dict)
    return parsed


def _unquote(node: object) -> object:
    if isinstance(node, dict):
        return {_unquote(k): _unquote(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unquote(v) for v in node]
    if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"':
        return node[1:-1]
    return node


def _objects(root: Path) -> list[dict]:
    return [d for p in sorted((root / "k8s").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def _pods(root: Path) -> list[dict]:
    return [o for o in _objects(root) if o["kind"] in ("Deployment", "StatefulSet")]


def test_every_manifest_validates_against_pinned_openapi_schema(exported: Path) -> None:
    errors = []
    objs = _objects(exported)
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc}")
    assert errors == []
    kinds = {o["kind"] for o in objs}
    assert kinds == {
        "Namespace",
        "Deployment",
        "StatefulSet",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_schema_validation_is_not_vacuous() -> None:
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_every_pod_meets_the_restricted_pod_security_standard(exported: Path) -> None:
    pods = _pods(exported)
    assert len(pods) == len(load_scenario().workloads)
    for obj in pods:
        spec = obj["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            stock = STOCK_IMAGES.get(c["image"])
            if stock is None:  # the application images: a high UID and a read-only root
                assert sc["readOnlyRootFilesystem"] is True
                assert sc["runAsUser"] >= 10000
            else:  # a stock image runs as its own user; where / cannot stay read-only, a note says so
                assert sc["runAsUser"] == spec["securityContext"]["runAsUser"] == stock[0]
                assert sc["readOnlyRootFilesystem"] is stock[1]


# image -> (UID, read-only root) of the images the default scenario's data and identity services get
STOCK_IMAGES = {
    "postgres:17": (999, True),
    "redis:7": (999, True),
    "rabbitmq:3.13": (999, True),
    "quay.io/keycloak/keycloak:26.0": (1000, False),
}


def test_namespaces_enforce_restricted(exported: Path) -> None:
    namespaces = [o for o in _objects(exported) if o["kind"] == "Namespace"]
    assert {n["metadata"]["name"] for n in namespaces} == {
        "application",
        "data",
        "infrastructure",
        "istio-system",
    }
    for ns in namespaces:
        labels = ns["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.31"


def test_llm_agent_manifests_carry_the_scenario_fields(exported: Path) -> None:
    docs = list(yaml.safe_load_all((exported / "k8s/application/llm-agent-service.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs if d}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    assert c["startupProbe"]["failureThreshold"] == 30
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": 8080}
    assert pod["terminationGracePeriodSeconds"] == 30
    assert len(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]) == 2
    hpa = by_kind["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llm-agent-service",
    }
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert hpa["spec"]["metrics"][2]["external"]["target"] == {"type": "AverageValue", "averageValue": "10"}
    pdb = by_kind["PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"] == {"minAvailable": 2, "selector": {"matchLabels": {"app": "llm-agent-service"}}}


def _docs(path: Path) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(path.read_text()) if d}


@pytest.mark.parametrize(
    ("name", "image", "ports", "uid", "data", "writable", "size"),
    [
        (
            "postgresql",
            "postgres:17",
            {"postgres": 5432},
            999,
            "/var/lib/postgresql/data",
            {"/var/run/postgresql", "/tmp"},
            "100Gi",
        ),
        (
            "rabbitmq",
            "rabbitmq:3.13",
            {"amqp": 5672, "prometheus": 15692},
            999,
            "/var/lib/rabbitmq",
            {"/var/log/rabbitmq", "/tmp"},
            "20Gi",
        ),
        ("redis", "redis:7", {"redis": 6379}, 999, "/data", {"/tmp"}, "10Gi"),
    ],
)
def test_data_services_run_under_their_stock_images(
    exported: Path, name: str, image: str, ports: dict, uid: int, data: str, writable: set, size: str
) -> None:
    """Issue 13: the data services' real ports, UID, writable paths and a claim per replica."""
    path = exported / f"k8s/data/{name}.yaml"
    docs = _docs(path)
    sts, svc = docs["StatefulSet"], docs["Service"]
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"] == image
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == ports
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]} == ports
    assert all(p["targetPort"] in ports for p in svc["spec"]["ports"])
    assert pod["securityContext"]["runAsUser"] == c["securityContext"]["runAsUser"] == uid
    assert pod["securityContext"]["fsGroup"] == uid  # the claim's files are writable by the image's user
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts[data] == "data" and "data" not in volumes  # the claim, not an emptyDir
    for p in writable:
        assert volumes[mounts[p]] == {"name": mounts[p], "emptyDir": {}}
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "gp3",
        "resources": {"requests": {"storage": size}},
    }
    text = path.read_text()
    assert f"# note: StatefulSet data/{name}: image {image} chosen from the workload name" in text
    assert f"runs as the image's UID {uid}" in text


def test_postgres_data_goes_one_level_below_the_mount(exported: Path) -> None:
    c = _docs(exported / "k8s/data/postgresql.yaml")["StatefulSet"]["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"} in c["env"]


def test_keycloak_says_where_the_restricted_settings_cannot_hold(exported: Path) -> None:
    path = exported / "k8s/infrastructure/keycloak.yaml"
    c = _docs(path)["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "quay.io/keycloak/keycloak:26.0" and c["ports"][0]["containerPort"] == 8080
    assert c["securityContext"]["readOnlyRootFilesystem"] is False
    assert "# note: StatefulSet infrastructure/keycloak: readOnlyRootFilesystem is false" in path.read_text()


def test_unknown_images_keep_the_placeholder_and_say_so_once(exported: Path) -> None:
    path = exported / "k8s/application/bff-service.yaml"
    c = _docs(path)["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "registry.invalid/application/bff-service:unset"
    notes = [line for line in path.read_text().splitlines() if line.startswith("# note:")]
    assert notes == [
        "# note: Deployment application/bff-service: no image known; exported as "
        "registry.invalid/application/bff-service:unset (set workloads[].image to the real one)"
    ]


@pytest.mark.parametrize(
    ("image", "port", "uid"),
    [
        ("docker.io/library/postgres:16.4", 5432, 999),
        ("redis@sha256:" + "0" * 64, 6379, 999),
        ("postgres:16-alpine", 8080, 10001),  # Alpine's postgres user is another UID: not guessed
        ("bitnami/postgresql:16", 8080, 10001),  # another vendor's image: not the official one's facts
    ],
)
def test_images_are_recognised_by_repository_only(image: str, port: int, uid: int) -> None:
    sc = load_scenario(overrides={"workloads.bff-service.image": image})
    files = build_files(sc, "k8s")
    docs = _docs_text(files["k8s/application/bff-service.yaml"])
    c = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == image
    assert c["ports"][0]["containerPort"] == port and c["securityContext"]["runAsUser"] == uid


def _docs_text(text: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}


def test_a_deployment_with_a_declared_volume_says_it_gets_no_claim() -> None:
    sc = load_scenario(overrides={"cost.block_storage.0.name": "bff-service"})
    text = build_files(sc, "k8s")["k8s/application/bff-service.yaml"]
    assert "volumeClaimTemplates" not in text
    assert "cost.block_storage 'bff-service' not exported (claims: StatefulSets only)" in text
    post = build_files(sc, "k8s")["k8s/data/postgresql.yaml"]
    assert "no volume declared in cost.block_storage; /var/lib/postgresql/data is an emptyDir" in post
    pod = _docs_text(post)["StatefulSet"]["spec"]["template"]["spec"]
    assert {"name": "data", "emptyDir": {}} in pod["volumes"]


def test_export_prints_one_note_per_guess(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simkit.cli import main

    assert main(["export", "--out", str(tmp_path / "o"), "--format", "k8s"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    unset = [line for line in notes if "no image known" in line]
    assert len(unset) == len({line.split(":")[1] for line in unset}) == 10  # one per placeholder workload
    assert any("data/postgresql: image postgres:17" in line for line in notes)


def test_statefulset_tolerations_and_headless_service(exported: Path) -> None:
    docs = [d for d in yaml.safe_load_all((exported / "k8s/data/postgresql.yaml").read_text()) if d]
    sts, svc = docs[0], docs[1]
    assert sts["kind"] == "StatefulSet" and sts["spec"]["serviceName"] == "postgresql"
    assert svc["spec"]["clusterIP"] == "None"
    pod = sts["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": "workload", "value": "data", "effect": "NoSchedule"}]
    assert pod["nodeSelector"] == {"workload": "data"}
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"


def test_every_file_starts_with_provenance(exported: Path) -> None:
    loaded = load_scenario_file()
    files = [p for p in exported.rglob("*") if p.is_file()]
    assert len(files) == 32
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# Generated by simkit "), path
        assert (
            f"'{loaded.scenario.name}' (hash {loaded.sha256}, seed {loaded.scenario.simulation.seed})"
            in first
        )


def test_no_secret_values_anywhere(exported: Path) -> None:
    for path in exported.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (isinstance(doc, dict) and doc.get("kind") == "Secret"), path
            for env in _find(doc, "env"):
                for var in env:
                    assert "value" not in var or "secretKeyRef" not in str(var)


def _find(node: object, key: str) -> list:
    if isinstance(node, dict):
        return ([node[key]] if key in node else []) + [x for v in node.values() for x in _find(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in _find(v, key)]
    return []


def test_helm_values_follow_the_seed_layout(exported: Path) -> None:
    values = yaml.safe_load((exported / "helm/llm-agent-service/values.yaml").read_text())
    assert list(values)[:7] == [
        "replicaCount",
        "image",
        "resources",
        "autoscaling",
        "service",
        "ingress",
        "env",
    ]
    assert values["replicaCount"] == 3
    assert values["autoscaling"]["targetCPUUtilizationPercentage"] == 70
    assert values["autoscaling"]["targetMemoryUtilizationPercentage"] == 80
    assert values["service"] == {"type": "ClusterIP", "port": 8080}
    assert values["image"]["tag"] == "unset"
    assert yaml.safe_load((exported / "helm/redis/values.yaml").read_text())["autoscaling"] == {
        "enabled": False
    }


def test_terraform_parses_and_matches_pools(exported: Path) -> None:
    tfvars = _hcl((exported / "terraform/aws/terraform.tfvars").read_text())
    pools = tfvars["node_pools"]
    pools = pools[0] if isinstance(pools, list) else pools
    app = pools["application-pool"]
    assert app["instance_types"] == ["t3.xlarge"]
    assert app["capacity_type"] == "SPOT"
    assert (app["min_size"], app["max_size"], app["desired_size"]) == (3, 20, 3)
    declared = _hcl((exported / "terraform/aws/variables.tf").read_text())
    names = {next(iter(v)) for v in declared["variable"]}
    assert names == {"cluster_name", "region", "kubernetes_version", "node_pools"}


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_terraform_fmt_check(tmp_path: Path, provider: str) -> None:
    export_scenario(load_scenario_file(), tmp_path, "terraform", provider)
    for path in (tmp_path / "terraform" / provider).iterdir():
        _hcl(path.read_text())
    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary")
    proc = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "-recursive", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(
    ("given", "source", "target", "expected"),
    [
        ("t3.xlarge", "aws", "azure", "Standard_D4s_v3"),
        ("t3.xlarge", "aws", "gcp", "n2-standard-4"),
        ("Standard_E4s_v3", "azure", "gcp", "n2-highmem-4"),
        ("n2-standard-2", "gcp", "aws", "t3.large"),
        ("m5.xlarge", "aws", "aws", "m5.xlarge"),
    ],
)
def test_instance_mapping(given: str, source: str, target: str, expected: str) -> None:
    assert equivalent_instance(given, source, target)[0] == expected


def test_catalog_fallback_and_unknown_instance() -> None:
    assert equivalent_instance("m5.xlarge", "aws", "azure")[0] == "Standard_D4s_v3"  # 4 vCPU / 16 GiB
    with pytest.raises(ExportError, match="no known gcp equivalent"):
        equivalent_instance("x9.huge", "aws", "gcp")


def test_azure_pool_names_and_taints(tmp_path: Path) -> None:
    files = build_files(load_scenario_file(), "terraform", "azure")
    tfvars = _hcl(files["terraform/azure/terraform.tfvars"].split("\n", 3)[3])
    pools = tfvars["node_pools"]
    pools = pools[0] if isinstance(pools, list) else pools
    data = pools["data-pool"]
    assert data["name"] == "data" and data["priority"] == "Regular"
    assert data["node_taints"] == ["workload=data:NoSchedule"]


def test_autoscaler_flags() -> None:
    sc = load_scenario()
    args = autoscaler_args(sc, "aws")
    assert args[0] == "--cloud-provider=aws"
    assert "--nodes=3:20:application-pool" in args
    assert not any("data-pool" in a for a in args)  # manual pools are not autoscaled
    assert "--scale-down-unneeded-time=5m" in args
    assert "--expander=least-waste" in args  # CA default made explicit
    assert autoscaler_args(sc, "gcp")[0] == "--cloud-provider=gce"


def test_formats() -> None:
    assert parse_formats("all") == list(FORMATS)
    assert parse_formats("helm,k8s") == ["k8s", "helm"]
    with pytest.raises(ExportError, match="unknown export format"):
        parse_formats("k8s,docker")
    only_helm = build_files(load_scenario_file(), "helm")
    assert all(p.startswith("helm/") for p in only_helm) and len(only_helm) == 14


def test_memory_that_is_not_whole_mib_is_exact() -> None:
    sc = load_scenario(overrides={"workloads.0.resources.requests.memory": "1G"})
    files = build_files(sc, "k8s")
    doc = next(yaml.safe_load_all(files["k8s/istio-system/istio-ingressgateway.yaml"]))
    assert doc["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == "1000000000"


def test_secrets_are_exported_as_references_and_survive_import(tmp_path):
    """Issue 6: secrets stay `secretKeyRef` references in manifests and Helm values, never values."""
    import yaml as _yaml

    from simkit.cli import main

    out = tmp_path / "plan"
    assert main(["export", "--out", str(out), "--format", "k8s,helm"]) == 0
    docs = list(_yaml.safe_load_all((out / "k8s" / "application" / "llm-agent-service.yaml").read_text()))
    deploy = next(d for d in docs if d and d["kind"] == "Deployment")
    env = deploy["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "llm-agent-db-credentials", "key": "url"}},
    } in env
    values = _yaml.safe_load((out / "helm" / "llm-agent-service" / "values.yaml").read_text())
    assert values["env"] == env
    back = tmp_path / "back.yaml"
    assert main(["import", str(out / "k8s"), "-o", str(back)]) == 0
    from simkit.scenario.loader import load_scenario

    again = load_scenario(back).workload("llm-agent-service")
    assert [e.model_dump(exclude_none=True) for e in again.env] == env


def test_volume_claims_and_chosen_images_round_trip_through_import(tmp_path: Path) -> None:
    """The claims come back as cost.block_storage; an image chosen from the name is not pinned on import."""
    from simkit.export.importer import import_manifests

    export_scenario(load_scenario_file(), tmp_path, "k8s")
    back = import_manifests([tmp_path / "k8s"]).scenario
    assert back.cost.block_storage == load_scenario().cost.block_storage
    assert back.workload("postgresql").image == "" and back.workload("postgresql").env == []
