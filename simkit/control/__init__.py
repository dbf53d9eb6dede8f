"""Pure controllers: Kubernetes control loops as functions of `now` and state, returning decisions.

Nothing here imports simpy, pandas or reads a clock; every decision carries a reason code and each
module cites the upstream file it follows (`control/hpa::decide` is the model). The engine
(`simkit/engine/`) observes its state, calls these, and applies the result.

What goes where:

- `hpa/`: the HorizontalPodAutoscaler (`decide`) and kube-controller-manager's HPA flags
  (`hpa/config.py`).
- `ca/`: the cluster autoscaler (`scale_up`, `scale_down`), its flags, expanders, estimator and
  cluster health (`ca/clusterstate.py`). Provisioning times are the cloud's: `catalog/provisioning.py`.
- `replicaset.py`: the ReplicaSet / StatefulSet replica count and deletion order.
- `node_lifecycle.py`: when an unreachable node is tainted and its pods evicted.
- `scheduler.py`, `daemonset.py`, `types.py`: kube-scheduler's filters and scores, the DaemonSet
  controller, and the value types they share.
- A deployment strategy: `deployment.py` (upstream `rolling.go` next to `recreate.go`) beside
  `replicaset.py`, applied by an engine loop (see `simkit/engine/__init__.py`).
- A node provisioner (Karpenter): its decisions here (`pkg/controllers/provisioning`), its
  launches through `engine/cloud.py`.
"""
