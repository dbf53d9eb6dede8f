"""Progressive delivery controllers: Argo Rollouts canary and blue-green, Flagger canary.

Pure, like the rest of `simkit.control`: `now` is passed in, every decision carries a reason code,
and each module cites the upstream files (and the release) it follows:

- `argo_counts.py`: Argo Rollouts v1.9.1 `utils/replicaset/canary.go` replica arithmetic
  (basic canary and traffic-routed canary) and the `utils/defaults/defaults.go` defaults.
- `argo.py`: the Argo canary step machine (`rollout/canary.go`: setWeight, pause, setCanaryScale,
  analysis, abort) and blue-green (`rollout/bluegreen.go`).
- `flagger.py`: Flagger v1.44.0 `pkg/controller/scheduler.go` (interval, threshold, stepWeight(s),
  maxWeight, iterations) with `pkg/apis/flagger/v1beta1/canary.go` defaults.
- `analysis.py`: the canary version's success rate and P95 as a metric provider would report them
  (Argo AnalysisTemplate / Flagger metrics style thresholds).
"""
