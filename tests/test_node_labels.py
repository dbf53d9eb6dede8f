"""Simulated nodes carry the labels kubelet, the cloud node controller and the provider put on real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

import simkit
from simkit.catalog.node_labels import arch_of, karpenter_labels, pool_labels, zone_labels
from simkit.engine.cluster import Engine
from simkit.export.importer import import_manifests

SOCK_SHOP = Path(__file__).resolve().parent.parent / "../shared/manifests/sock-shop"


def test_pool_labels_have_ga_and_beta_names_and_the_provider_labels() -> None:
    aws = pool_labels("aws", "us-east-1", "apps", "m6g.large", "spot")
    assert aws["kubernetes.io/os"] == aws["beta.kubernetes.io/os"] == "linux"
    assert aws["kubernetes.io/arch"] == aws["beta.kubernetes.io/arch"] == "arm64"
    assert aws["node.kubernetes.io/instance-type"] == aws["beta.kubernetes.io/instance-type"] == "m6g.large"
    assert (
        aws["topology.kubernetes.io/region"] == aws["failure-domain.beta.kubernetes.io/region"] == "us-east-1"
    )
    assert aws["eks.amazonaws.com/nodegroup"] == "apps" and aws["eks.amazonaws.com/capacityType"] == "SPOT"
    gke = pool_labels("gcp", "us-central1", "p", "n2-standard-4", "spot")
    assert gke["cloud.google.com/gke-nodepool"] == "p" and gke["cloud.google.com/gke-spot"] == "true"
    assert "cloud.google.com/gke-spot" not in pool_labels("gcp", "r", "p", "n2-standard-4", "on-demand")
    aks = pool_labels("azure", "eastus", "p", "Standard_D4s_v3", "spot")
    assert aks["kubernetes.azure.com/agentpool"] == "p"
    assert aks["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert "kubernetes.azure.com/scalesetpriority" not in pool_labels(
        "azure", "r", "p", "Standard_D4s_v3", "on-demand"
    )
    assert zone_labels("z")["failure-domain.beta.kubernetes.io/zone"] == "z"
    assert karpenter_labels("np", "on-demand") == {
        "karpenter.sh/nodepool": "np",
        "karpenter.sh/capacity-type": "on-demand",
    }


@pytest.mark.parametrize(
    ("provider", "itype", "arch"),
    [
        ("aws", "t3.large", "amd64"),
        ("aws", "g4dn.xlarge", "amd64"),
        ("aws", "c7gn.large", "arm64"),
        ("aws", "t4g.medium", "arm64"),
        ("aws", "a1.large", "arm64"),
        ("azure", "Standard_D4s_v3", "amd64"),
        ("azure", "Standard_D4ps_v5", "arm64"),
        ("gcp", "t2a-standard-4", "arm64"),
        ("gcp", "n2-standard-4", "amd64"),
    ],
)
def test_arch_from_the_providers_naming_rules(provider: str, itype: str, arch: str) -> None:
    assert arch_of(provider, itype) == arch


def test_engine_nodes_carry_the_labels_per_node() -> None:
    sc = simkit.load_scenario()
    engine = Engine(sc, seed=0, duration_s=60.0)
    pool = sc.cluster.node_pools[0]
    labels = engine.pool_shape(pool).labels
    assert labels["kubernetes.io/os"] == "linux" and labels["beta.kubernetes.io/os"] == "linux"
    assert labels["eks.amazonaws.com/nodegroup"] == pool.name
    assert labels["simkit.io/pool"] == pool.name
    node = engine._add_node(pool, sc.cluster.zones[0], 0.0)
    assert node.labels["failure-domain.beta.kubernetes.io/zone"] == node.zone
    assert node.labels["kubernetes.io/hostname"] == node.name


@pytest.mark.skipif(not SOCK_SHOP.is_dir(), reason="needs ../shared/manifests")
def test_sock_shop_imports_and_serves_with_no_pending_pods() -> None:
    """Every Sock Shop pod selects beta.kubernetes.io/os: linux."""
    scenario = import_manifests(sorted(SOCK_SHOP.glob("*.yaml"))).scenario
    result = simkit.simulate(scenario, duration=3600, seed=1)
    last = result.replicas[result.replicas.t_s == result.replicas.t_s.max()]
    assert (last.ready == last.desired).all(), last
    assert result.summary["availability"] > 0.999
