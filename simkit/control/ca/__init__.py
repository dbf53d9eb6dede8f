"""Cluster Autoscaler as a pure controller: the public API the engine calls.

Semantics follow kubernetes/autoscaler `cluster-autoscaler-release-1.37` as paraphrased in
shared/reference/ca_spec.md. Nothing here touches simpy, pandas or the wall clock: `now` (seconds)
and a numpy `rng` come in, a decision with a reason code and the new `CAState` goes out.

One CA loop (every `flags.scan_interval`) for the engine:

    su = scale_up(pending_pods, groups, nodes, upcoming, flags, state, now, rng)
    sd = scale_down(nodes, pods_by_node, groups, flags, su.state, now, pdbs=pdbs)
    state = sd.state
    # apply su.reverted (cancel provisioning nodes), su.increases (order nodes; each takes
    # provision_time_distribution().sample(rng) seconds), sd.remove (taint, drain, delete).

The pieces live in this package's submodules: flags, model (types), clusterstate (health), backoff,
expanders, estimator, balance, drain, scale_up and scale_down. The provisioning-time presets are a
property of the cloud, not of the autoscaler: they live in `simkit.catalog.provisioning` and are
re-exported here.
"""

from __future__ import annotations

from simkit.catalog.provisioning import (
    PROVISION_TIME_PRESETS,
    ProvisionTimeDistribution,
    provision_time_distribution,
)
from simkit.control.ca.backoff import is_backed_off, register_failure, remove_stale
from simkit.control.ca.balance import TemplateInfo, balance_scale_up, nodes_similar
from simkit.control.ca.clusterstate import cluster_healthy
from simkit.control.ca.drain import DrainPlan, Utilization, node_utilization, plan_drain
from simkit.control.ca.estimator import Estimate, estimate_nodes
from simkit.control.ca.expanders import ExpansionOption, PodPriceModel, choose
from simkit.control.ca.flags import CAFlags, NodeGroupBounds
from simkit.control.ca.model import (
    CANode,
    CAPod,
    CAState,
    FitFn,
    NodeGroup,
    PodDisruptionBudget,
    Volume,
)
from simkit.control.ca.scale_down import ScaleDownDecision, register_scale_down_failure, scale_down
from simkit.control.ca.scale_up import ScaleUpDecision, register_failed_scale_up, scale_up

__all__ = [
    "CAFlags",
    "NodeGroupBounds",
    "NodeGroup",
    "CANode",
    "CAPod",
    "Volume",
    "PodDisruptionBudget",
    "CAState",
    "FitFn",
    "ScaleUpDecision",
    "ScaleDownDecision",
    "scale_up",
    "scale_down",
    "register_failed_scale_up",
    "register_scale_down_failure",
    "cluster_healthy",
    "ProvisionTimeDistribution",
    "provision_time_distribution",
    "PROVISION_TIME_PRESETS",
    # building blocks, exposed for notebooks and the test vectors
    "ExpansionOption",
    "PodPriceModel",
    "choose",
    "Estimate",
    "estimate_nodes",
    "TemplateInfo",
    "nodes_similar",
    "balance_scale_up",
    "Utilization",
    "node_utilization",
    "DrainPlan",
    "plan_drain",
    "is_backed_off",
    "register_failure",
    "remove_stale",
]
