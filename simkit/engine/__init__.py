"""The discrete-event engine: the only package that imports simpy.

What goes where:

- `simulation.py`: the composition root. `run_engine` builds an `Engine` and starts the loops and
  faults listed, in order, in `LOOPS`. A new controller loop: a module here with a
  `start_...(engine)` function, one entry in `LOOPS`, the decision logic pure in `simkit/control/`.
- `cluster.py`: `Engine`, the cluster itself (nodes, pods, the scheduler loop, the ReplicaSet /
  StatefulSet reconcile applied from `control/replicaset.py`) and `EngineOutput`, the rows a run
  records.
- `cloud.py`: launching, refusing and retrying nodes. A node provisioner (the cluster autoscaler
  today, Karpenter tomorrow): launch through `engine.cloud` (`Cloud.launch`), never by adding
  nodes directly; a new refusal (a quota): a branch of `Cloud.refusal`.
- `faults.py`: fault processes and the node lifecycle controller's taint timing
  (`control/node_lifecycle.py`). A new fault kind: a scenario field in `scenario/faults.py`, a
  process in `faults.py`, an entry in `FAULTS` and a line in `start_faults`.
- `hpa_loop.py`, `hpa_quiet.py`, `metrics.py`: the HPA loop, the syncs it may sleep past, and
  what the metrics APIs report. `ca_loop.py`: the cluster autoscaler loop and its `CAInputs`.
- A deployment strategy (rolling update, recreate): the pure planner in `control/deployment.py`
  and an engine loop that applies its steps through `Engine.scale_workload` / `delete_pod`.
- `traffic.py` (the fast, vectorised traffic model), `request_level.py` (the request-by-request
  replay), `state.py` (mutable cluster state), `convert.py` (scenario models -> controller types).
"""
