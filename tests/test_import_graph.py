"""Import infers the platform: routes from the call graph, clients apart, a cluster sized for the pods."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import simkit
from simkit.export.import_reminder import import_reminder
from simkit.export.importer import import_manifests
from simkit.scenario.model import Scenario

MANIFESTS = Path(__file__).resolve().parent.parent / "../shared/manifests"
needs_shared = pytest.mark.skipif(not MANIFESTS.is_dir(), reason="needs ../shared/manifests")


def _paths(sc: Scenario) -> dict[str, list[str]]:
    return {r.name: [s.service for s in r.path] for r in sc.traffic.routes}


def _no_pending(sc: Scenario) -> None:
    result = simkit.simulate(sc, duration=3600, seed=1)
    last = result.replicas[result.replicas.t_s == result.replicas.t_s.max()]
    assert (last.ready == last.desired).all(), last


@needs_shared
def test_online_boutique_routes_follow_its_service_addr_env_vars() -> None:
    result = import_manifests([MANIFESTS / "online-boutique"])
    sc = result.scenario
    paths = _paths(sc)
    assert {p[0] for p in paths.values()} == {"frontend"}  # loadgenerator sends, frontend serves
    assert not any("loadgenerator" in p for p in paths.values())
    checkout = paths["frontend-checkoutservice"]
    assert set(checkout) == {
        "frontend", "checkoutservice", "productcatalogservice", "shippingservice", "paymentservice",
        "emailservice", "currencyservice", "cartservice", "redis-cart",
    }  # fmt: skip
    assert paths["frontend-cartservice"] == ["frontend", "cartservice", "redis-cart"]
    assert paths["frontend-recommendationservice"][-1] == "productcatalogservice"
    assert sc.traffic.load.base_rps == 10.0  # loadgenerator's USERS
    assert [p.name for p in sc.cluster.node_pools] == ["general"]  # not the seed's tainted pools
    assert any("PRODUCT_CATALOG_SERVICE_ADDR" in line for line in result.inferred)
    assert any("shoppingassistantservice" in line and "dropped" in line for line in result.inferred)
    _no_pending(sc)


@needs_shared
def test_sock_shop_enters_at_the_exposed_front_end_and_reaches_each_db_through_its_owner() -> None:
    result = import_manifests(sorted((MANIFESTS / "sock-shop").glob("*.yaml")))
    paths = _paths(result.scenario)
    assert {p[0] for p in paths.values()} == {"front-end"}  # Service type NodePort
    for path in paths.values():
        for i, svc in enumerate(path):
            if svc.endswith("-db") and svc != "session-db":
                assert path[i - 1] == svc.removesuffix("-db"), path
    assert any("user calls user-db" in line for line in result.inferred)  # MONGO_HOST-style env value
    _no_pending(result.scenario)


SYNTHETIC = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
        env:
        - {name: API_URL, value: "http://api-svc.demo.svc.cluster.local:8080/v1"}
        - {name: GREETING, value: "hello api"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: demo}
spec:
  template:
    metadata: {labels: {app: api, tier: backend}}
    spec:
      containers:
      - name: api
        image: example/api:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
        args: ["--db=postgres://app@store:5432/app"]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store, namespace: demo}
spec:
  template:
    metadata: {labels: {app: store}}
    spec:
      containers:
      - {name: store, image: postgres:16, resources: {requests: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: v1
kind: Service
metadata: {name: api-svc, namespace: demo}
spec: {selector: {tier: backend}, ports: [{port: 8080}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: smoke, namespace: demo}
spec:
  template:
    spec:
      containers:
      - name: k
        image: example/driver:1
        env: [{name: RPS, value: "25"}, {name: TARGET, value: "web:80"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: demo}
spec:
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
"""


def test_inference_is_general_urls_args_jobs_and_ingress(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(SYNTHETIC))
    result = import_manifests([path])
    assert _paths(result.scenario) == {"web-api": ["web", "api", "store"]}
    assert result.scenario.traffic.load.base_rps == 25.0  # the Job's RPS
    assert any("web calls api" in line and "API_URL" in line for line in result.inferred)
    assert any("api calls store" in line and "args[0]" in line for line in result.inferred)
    assert not any(w.name == "smoke" for w in result.scenario.workloads)


def test_run_reminds_of_the_assumptions_of_an_imported_scenario(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(SYNTHETIC))
    out = tmp_path / "s.yaml"
    out.write_text(import_manifests([path]).text)
    note = import_reminder(out)
    assert note is not None and "assumptions and inferences still in effect" in note
    assert "default (concurrency 1, 20 ms)" in note
    assert (
        import_reminder(Path(__file__).resolve().parent.parent / "scenarios/platform-baseline.yaml") is None
    )


@needs_shared
def test_hpa_with_a_misspelt_target_offers_the_close_name() -> None:
    result = import_manifests(sorted((MANIFESTS / "sock-shop").glob("*.yaml")))
    [line] = [x for x in result.ignored if "HorizontalPodAutoscaler/cart)" in x]
    assert line.endswith("no imported workload Deployment/cart; did you mean carts?")


def test_every_unmodelled_deployment_field_gets_a_line(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: demo}
        spec:
          replicas: 2
          strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
          revisionHistoryLimit: 3
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
        """)
    )
    assumed = "\n".join(import_manifests([path]).assumed)
    assert "spec.strategy: simulated only as a plan, dropped" in assumed and "maxSurge" in assumed
    assert "spec.revisionHistoryLimit: not modelled by simkit, dropped" in assumed
