"""Node-pool upgrades as pure state machines with each provider's documented defaults.

    eks_step / gke_step / aks_step(state, observation, now) -> (actions, new_state, reason)

Start a machine with `eks_start(EKSSettings(...))`, `gke_start(GKESettings(...))` or
`aks_start(AKSSettings(...))`; the defaults and their sources are in control/nodepool/defaults.py
(and data/upgrade_defaults.csv). No simpy, no clock: `now` is passed in (seconds).

Engine integration (a `node-pool-upgrade` plan kind)
---------------------------------------------------
Each step the engine OBSERVES the pool as a `PoolObservation`: every node of the target pool
(`PoolNode`: name, zone, upgraded = runs the new image, Ready, unschedulable, pods left) and, for
each node it is draining, a `DrainReport` (done; the last eviction 429 message and the PDB it
names). It calls the step on every change of those and at least every `defaults.POLL_S` seconds.
It APPLIES the returned actions in order:
  launch(zone)      add a node of the new image to the pool at once, Ready=False until it boots
                    (the CA's node start-up delay); the scheduler may use it once Ready.
  cordon/uncordon   set spec.unschedulable.           label   a node label (informational).
  drain(node)       start `control.drain.drain_step` for the node (kubectl defaults plus
                    --ignore-daemonsets --delete-emptydir-data --force, the providers' behaviour)
                    and report it in `drains`; the MACHINE enforces the per-node limit (`limit_s`).
  force_drain(node) delete the node's remaining pods without the eviction API.
  terminate(node)   remove the node (its pods are deleted; owners recreate them elsewhere).
  reimage(node)     AKS: the node comes back with upgraded=True, Ready=False while it boots.
Mapping to result tables: a plan row's `start` = the first step, `end` = the step where
`state.phase` turns Done or Failed, `outcome` = `state.outcome` (Complete | PodEvictionFailure |
DrainTimeout | Aborted) with `state.message` naming the node and the blocking PDB; every action
with its reason is a `plan_steps` row (a node's drain start..terminate is one step; the `reason`
string returned while nothing happens is the step's "why it waited", e.g. "ScaleUp: waiting for
2/6 new nodes Ready" or the 429 text). Peak nodes and extra node-hours come from the engine's own
node accounting (launches minus terminations).
"""

from __future__ import annotations

from simkit.control.nodepool.aks import AKSSettings, aks_start, aks_step, aks_surge
from simkit.control.nodepool.eks import EKSSettings, eks_max_unavailable, eks_start, eks_step, eks_surge
from simkit.control.nodepool.gke import GKESettings, gke_batch_size, gke_start, gke_step
from simkit.control.nodepool.types import (
    ABORTED,
    COMPLETE,
    DRAIN_TIMEOUT,
    POD_EVICTION_FAILURE,
    DrainReport,
    NodeAction,
    PoolNode,
    PoolObservation,
    StepResult,
    UpgradeState,
)

__all__ = [
    "ABORTED",
    "COMPLETE",
    "DRAIN_TIMEOUT",
    "POD_EVICTION_FAILURE",
    "AKSSettings",
    "DrainReport",
    "EKSSettings",
    "GKESettings",
    "NodeAction",
    "PoolNode",
    "PoolObservation",
    "StepResult",
    "UpgradeState",
    "aks_start",
    "aks_step",
    "aks_surge",
    "eks_max_unavailable",
    "eks_start",
    "eks_step",
    "eks_surge",
    "gke_batch_size",
    "gke_start",
    "gke_step",
]
