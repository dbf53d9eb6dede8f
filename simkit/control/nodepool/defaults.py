"""Each provider's documented node-pool upgrade defaults, with where they come from.

The same figures are in data/upgrade_defaults.csv (one row each, `source` and `as_of` = date read)
for the scenario layer, so a user can see and override them; tests/test_nodepool_upgrade.py checks
that the two agree. Figures whose `source` starts with "assumption:" could not be verified.
"""

from __future__ import annotations

READ_ON = "2026-12-06"

# --- EKS managed node groups ----------------------------------------------------------------
# "Understand each phase of node updates - Amazon EKS",
# https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
# (awsdocs/amazon-eks-user-guide latest/ug/nodes/managed-node-update-behavior.adoc, commit 0bfeeaf2).
EKS_DOC = "Understand each phase of node updates - Amazon EKS (managed-node-update-behavior.html)"
# Setup phase: "The maximum unavailable has a quota of 100 nodes. The default value is one node."
EKS_MAX_UNAVAILABLE_DEFAULT = 1
EKS_MAX_UNAVAILABLE_QUOTA = 100
# Scale up phase: desired size += the larger of "up to twice the number of Availability Zones" and
# "the maximum unavailable of upgrade" (5 AZs, maxUnavailable 1 -> 10; maxUnavailable 20 -> 20).
EKS_SURGE_PER_AZ = 2
# Upgrade phase: "If the Pods don't leave the node within 15 minutes and there's no force flag, the
# upgrade phase fails with a PodEvictionFailure error."
EKS_DRAIN_LIMIT_S = 15 * 60.0
# Upgrade phase: "It cordons the node after every Pod is evicted and waits for 60 seconds."
EKS_WAIT_AFTER_CORDON_S = 60.0
# NodegroupUpdateConfig.updateStrategy (EKS API Reference): DEFAULT launches new instances before
# terminating old ones; MINIMAL terminates first. DEFAULT is the default strategy.
EKS_STRATEGY_DEFAULT = "DEFAULT"
# ASSUMPTION: how maxUnavailablePercentage turns into a node count is not documented; we round
# down with a floor of 1 node (the API's minimum maxUnavailable), capped by the 100-node quota.

# --- GKE ------------------------------------------------------------------------------------
# "UpgradeSettings | Google Kubernetes Engine REST v1",
# https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/UpgradeSettings:
# "(maxUnavailable + maxSurge) determines the level of parallelism"; the 5-node, maxSurge=2,
# maxUnavailable=1 example "ensures that there are always at least 4 nodes available".
GKE_DOC = "UpgradeSettings - Google Kubernetes Engine REST v1 (reference/rest/v1/UpgradeSettings)"
# ASSUMPTION (not re-read this session; GKE "Node upgrade strategies" concept page, from memory):
# surge upgrades default to maxSurge=1, maxUnavailable=0.
GKE_MAX_SURGE_DEFAULT = 1
GKE_MAX_UNAVAILABLE_DEFAULT = 0
# BlueGreenSettings.StandardRolloutPolicy.batchSoakDuration: "Soak time after each batch gets
# drained. Default to zero." (google-cloud-container-v1 reference, cluster_service.proto docs).
GKE_BATCH_SOAK_S = 0.0
# ASSUMPTION: nodePoolSoakDuration default of one hour (GKE blue-green docs, from memory; the API
# reference read says only "Time needed after draining entire blue pool").
GKE_NODE_POOL_SOAK_S = 3600.0
# ASSUMPTION: the batch size when neither batchNodeCount nor batchPercentage is set is 1 node;
# batchPercentage (0, 1] is rounded up to whole nodes.
GKE_BATCH_NODE_COUNT_DEFAULT = 1
# ASSUMPTION: GKE respects PodDisruptionBudgets for up to 1 hour per node during a node upgrade and
# then evicts anyway (GKE "Node upgrade strategies" page, from memory; not re-read this session).
GKE_PDB_TIMEOUT_S = 3600.0

# --- AKS ------------------------------------------------------------------------------------
# "AgentPoolUpgradeSettings interface | @azure/arm-containerservice",
# https://learn.microsoft.com/en-us/javascript/api/@azure/arm-containerservice/agentpoolupgradesettings
AKS_DOC = "AgentPoolUpgradeSettings interface - @azure/arm-containerservice (learn.microsoft.com)"
# maxSurge: "If a percentage is specified ... fractional nodes are rounded up. If not specified, the
# default is 10%." (The conceptual page "Configure rolling upgrades for AKS node pools" says AKS
# surges one node by default; both give 1 node for pools of up to 10 nodes.)
AKS_MAX_SURGE_DEFAULT = "10%"
# maxUnavailable: "For percentages, fractional nodes are rounded up. If not specified, the default is 0."
AKS_MAX_UNAVAILABLE_DEFAULT = 0
# drainTimeoutInMinutes: "If this time is exceeded, the upgrade fails. If not specified, the
# default is 30 minutes."
AKS_DRAIN_TIMEOUT_S = 30 * 60.0
# nodeSoakDurationInMinutes: "wait after draining a node and before reimaging it ... If not
# specified, the default is 0 minutes."
AKS_NODE_SOAK_S = 0.0
# undrainableNodeBehavior values Cordon / Schedule (UndrainableNodeBehavior, same reference).
# ASSUMPTION: the default when unset is Schedule (not stated on the pages read).
AKS_UNDRAINABLE_DEFAULT = "Schedule"

# --- Simulation cadence (not a provider figure) -----------------------------------------------
# ASSUMPTION: the providers do not document their reconcile period; the engine should call a
# machine's step on every node/drain change and at least this often.
POLL_S = 5.0
