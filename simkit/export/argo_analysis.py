"""An Argo Rollouts `AnalysisTemplate` for a canary plan's analysis, and the Rollout's references to it.

A canary plan measures the canary version against `metrics` (simkit.scenario.plans.CanaryMetrics:
successRate, p95, interval, count, failureLimit; control/progressive/analysis.py simulates them).
What goes out is the same check as Argo runs it (argo-rollouts v1.9.1, docs/features/analysis.md,
docs/analysis/prometheus.md): one metric per threshold, each `interval`, `count` times (none: until
the rollout ends), `failureLimit` failures allowed, a Prometheus provider whose query returns a
vector (`successCondition: result[0] >= ...`). Prometheus cannot be known from the scenario, so the
address and the queries are the named templates below (`PROMETHEUS_ADDRESS`, `SUCCESS_RATE_QUERY`,
`P95_QUERY`, written for the common `http_requests_total` / `http_request_duration_seconds` metrics
with the pods' `rollouts-pod-template-hash` label kept by the scrape config): the template carries
a `simkit.io/adapt` annotation saying so. The canary's pods are picked by the Rollout's step args:
`service-name`, and `canary-hash` from `valueFrom.podTemplateHashValue: Latest` (analysis.md,
"Analysis arguments").

The Rollout's analysis steps and its background `analysis` name the template: the plan's own
`templateName`s when it gives them (each gets this template), else `<workload>-canary-analysis`.
Every template is validated against the AnalysisTemplate CRD's OpenAPI schema (crds/argo/SOURCE.md).
"""

from __future__ import annotations

from typing import Any

from simkit.scenario.plans import CanaryMetrics, Plan

PROMETHEUS_ADDRESS = "http://prometheus.monitoring.svc:9090"  # adapt: your Prometheus
SELECTOR = 'service="{{args.service-name}}",rollouts_pod_template_hash="{{args.canary-hash}}"'
SUCCESS_RATE_QUERY = (  # adapt: the canary's non-5xx share of requests over the interval
    'sum(rate(http_requests_total{%(sel)s,code!~"5.."}[%(window)s]))'
    " / sum(rate(http_requests_total{%(sel)s}[%(window)s]))"
)
P95_QUERY = (  # adapt: the canary's P95 request duration (seconds) over the interval
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{%(sel)s}[%(window)s])))"
)
ADAPT_NOTE = (
    "simkit wrote the Prometheus address and queries as templates (simkit/export/argo_analysis.py "
    "PROMETHEUS_ADDRESS, SUCCESS_RATE_QUERY, P95_QUERY): adapt them to your metrics before applying; "
    "the thresholds are the plan's."
)
ARGS = ("service-name", "canary-hash")


def _seconds(value: float) -> str:
    return f"{int(round(value))}s"


def _number(value: float) -> str:
    return repr(float(value))


def template_names(plan: Plan, workload: str) -> list[str]:
    """The AnalysisTemplate names the plan's Rollout references (its own, else one generated)."""
    canary = plan.canary
    if canary is None:
        return []
    entries = [s.analysis for s in canary.steps if s.analysis is not None]
    entries += [canary.analysis] if canary.analysis is not None else []
    if not entries or plan.metrics is None or not _has_threshold(plan.metrics):
        return []
    names = [t.templateName for a in entries for t in a.templates]
    return list(dict.fromkeys(names)) or [f"{workload}-canary-analysis"]


def _has_threshold(m: CanaryMetrics) -> bool:
    return m.successRate is not None or m.p95 is not None


def _metric(name: str, query: str, condition: str, m: CanaryMetrics) -> dict[str, Any]:
    window = _seconds(m.interval)
    out: dict[str, Any] = {"name": name, "interval": window, "successCondition": condition}
    if m.count is not None:
        out["count"] = m.count
    out["failureLimit"] = m.failureLimit
    out["provider"] = {
        "prometheus": {"address": PROMETHEUS_ADDRESS, "query": query % {"sel": SELECTOR, "window": window}}
    }
    return out


def analysis_template(name: str, m: CanaryMetrics, meta: dict[str, Any]) -> dict[str, Any]:
    """The AnalysisTemplate of the plan's thresholds: success rate >= successRate, P95 <= p95 (s)."""
    metrics = []
    if m.successRate is not None:
        metrics.append(
            _metric("success-rate", SUCCESS_RATE_QUERY, f"result[0] >= {_number(m.successRate)}", m)
        )
    if m.p95 is not None:
        metrics.append(_metric("p95-latency", P95_QUERY, f"result[0] <= {_number(m.p95)}", m))
    annotations = {**meta.get("annotations", {}), "simkit.io/adapt": ADAPT_NOTE}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {**meta, "name": name, "annotations": annotations},
        "spec": {"args": [{"name": a} for a in ARGS], "metrics": metrics},
    }


def reference_templates(canary: dict[str, Any], names: list[str], service: str) -> None:
    """Point the exported `strategy.canary`'s analysis steps and background analysis at `names`
    (those left without templates), with the args the template takes."""
    args = [
        {"name": "service-name", "value": service},
        {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
    ]
    entries = [s["analysis"] for s in canary.get("steps", []) if "analysis" in s]
    entries += [canary["analysis"]] if "analysis" in canary else []
    for entry in entries:
        if not entry.get("templates"):
            entry["templates"] = [{"templateName": n} for n in names]
        entry["args"] = args
