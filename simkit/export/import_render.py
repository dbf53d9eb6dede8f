"""The imported scenario as YAML, with every default section marked as an assumption in comments."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import yaml

from simkit.export.provenance import simkit_version
from simkit.scenario.loader import DEFAULT_SCENARIO

DEFAULT_RPS = 10.0
DEFAULT_SLOS = {"availability": "99.9%", "p95_latency": "200ms"}  # the seed's design goals
DEFAULT_SIMULATION = {"duration": "1d", "seed": 0, "resolution": "60s"}


def default_cluster() -> dict[str, Any]:
    """The seed platform's cluster section (three node pools), as written in the default scenario."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    return dict(data["cluster"])


def traffic_section(routes: list[dict[str, Any]], rps: float | None) -> dict[str, Any]:
    """The traffic section of inferred routes and, when the manifests carry none, the default load."""
    return {"load": {"base_rps": DEFAULT_RPS if rps is None else rps}, "routes": routes}


def default_traffic(workloads: list[dict[str, Any]]) -> dict[str, Any]:
    """Equal shares of a small load, one single-service route per workload (shares add up to 1)."""
    n = len(workloads)
    shares = [Fraction(1, n)] * n
    routes = []
    for i, w in enumerate(workloads):
        share = float(1 - sum(shares[:-1])) if i == n - 1 else round(float(shares[i]), 9)
        routes.append({"name": w["name"], "share": share, "path": [w["name"]]})
    if n > 1:  # make the float shares add up to exactly 1 within the validator's 1e-6
        routes[-1]["share"] = round(1 - sum(r["share"] for r in routes[:-1]), 9)
    return {"load": {"base_rps": DEFAULT_RPS}, "routes": routes}


ASSUMED_TASK = {"tasks_per_request": 0.1, "task_time": "1s"}
"""What an imported queue is assumed to carry: manifests name the queue an HPA reads, not its load."""


def external_queues(workloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A task queue for each queue an HPA's External metric reads (its `queue` label, else the metric's
    name), consumed by that workload: without it the HPA would have no source (an input error)."""
    queues: dict[str, dict[str, Any]] = {}
    for w in workloads:
        for metric in (w.get("hpa") or {}).get("metrics", []):
            ident = (
                (metric.get("external") or {}).get("metric") or {} if metric.get("type") == "External" else {}
            )
            labels = (ident.get("selector") or {}).get("matchLabels") or {}
            name = labels.get("queue") or ident.get("name")
            if isinstance(name, str) and name not in queues:
                queues[name] = {"name": name, "consumer": w["name"], **ASSUMED_TASK}
    return list(queues.values())


def _dump(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False, width=110)


def render_scenario(
    name: str,
    sources: list[str],
    cluster: dict[str, Any],
    workloads: list[dict[str, Any]],
    daemonsets: list[dict[str, Any]],
    assumed: list[str],
    ca_from_manifests: bool,
    traffic: dict[str, Any] | None = None,
    inferred: list[str] | None = None,
    load_from_manifests: bool = False,
) -> str:
    """Commented scenario YAML: header, assumptions, inferences, then the sections."""
    lines = [
        f"# Scenario imported by simkit {simkit_version()} from: {', '.join(sources) or '(documents)'}",
        "# Review every ASSUMPTION below before trusting a simulation of this file.",
        f"# Import assumptions ({len(assumed)}):",
    ]
    lines += [f"#   - {a}" for a in assumed] or ["#   (none)"]
    lines += [f"# Inferred ({len(inferred or [])}):"] + [f"#   - {a}" for a in inferred or []]
    out = "\n".join(lines) + "\n"
    out += _dump("name", name)
    out += _dump(
        "description",
        "Imported from Kubernetes manifests; cluster and routes inferred from them, targets are defaults.",
    )
    pools = ", ".join(p["name"] for p in cluster["node_pools"])
    out += (
        "# ASSUMPTION: manifests describe no nodes. The seed platform's provider, region and zones "
        f"(aws us-east-1, 3 zones);\n# node pools ({pools}) from the pods' nodeSelectors and tolerations"
        + (
            "; cluster_autoscaler flags come from the manifests.\n"
            if ca_from_manifests
            else ", with the seed's cluster-autoscaler flags.\n"
        )
    )
    out += _dump("cluster", cluster)
    out += _dump("workloads", workloads)
    if daemonsets:
        out += _dump("daemonsets", daemonsets)
    if traffic is None:
        out += (
            f"# ASSUMPTION: manifests carry no traffic. {DEFAULT_RPS:g} requests/s in total, an equal share "
            "sent straight to\n# each workload; no queues. Replace with real routes, rates and queues.\n"
        )
        traffic = default_traffic(workloads)
    else:
        load = (
            "the load from the manifests' load generator"
            if load_from_manifests
            else f"{DEFAULT_RPS:g} requests/s in total (no load generator in the manifests)"
        )
        out += (
            "# ASSUMPTION: routes inferred from the call graph (see Inferred above), shares split equally "
            f"among each\n# entry point's dependencies; {load}; no queues.\n"
        )
    queues = external_queues(workloads)
    if queues:
        names = ", ".join(q["name"] for q in queues)
        out += (
            f"# ASSUMPTION: queue(s) {names}, read by an HPA's External metric, carry "
            f"{ASSUMED_TASK['tasks_per_request']:g} tasks per request of {ASSUMED_TASK['task_time']} each.\n"
        )
        traffic = {**traffic, "queues": queues}
    out += _dump("traffic", traffic)
    out += "# ASSUMPTION: the seed's design goals (99.9% availability, 200 ms P95).\n"
    out += _dump("slos", DEFAULT_SLOS)
    out += "# ASSUMPTION: one simulated day, seed 0.\n"
    out += _dump("simulation", DEFAULT_SIMULATION)
    return out
