"""`simkit import`: Kubernetes manifests -> a scenario YAML that `simkit validate` accepts.

Workloads come from Deployments and StatefulSets, with their HPAs (autoscaling/v2, v1 converted) and
PDBs attached; DaemonSets become `daemonsets:` entries (a pod on every node they match); the
cluster-autoscaler Deployment gives `cluster.cluster_autoscaler`.
Routes and the load are inferred from the call graph (simkit/export/import_graph.py) and the node
pools from the pods' selectors and tolerations (import_cluster.py), one line per guess in `inferred`;
the provider, region and targets come from the seed platform, marked as assumptions.
Argo Rollouts, Flagger Canaries and workloads annotated `simkit.io/plan` become `plans:`
(simkit/export/import_plans.py); an HPA scaling a Rollout is attached to the Rollout's workload.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simkit.errors import ScenarioError
from simkit.export.import_cluster import size_cluster
from simkit.export.import_graph import CLIENT_KINDS, infer_graph, routes
from simkit.export.import_links import (
    autoscaler_flags,
    autoscaler_pools,
    deep_merge,
    hpa_spec,
    is_cluster_autoscaler,
    pdb_spec,
)
from simkit.export.import_plans import (
    is_plan_object,
    plan_from_object,
    plan_from_workload,
    rollout_as_deployment,
    target_ref,
    validate_plan,
)
from simkit.export.import_render import default_cluster, external_queues, render_scenario, traffic_section
from simkit.export.import_serving import assume_metric_sources, assume_serving
from simkit.export.import_workload import daemonset_from, volume_from, workload_from
from simkit.export.manifests import Doc, read_manifests
from simkit.scenario.loader import parse_scenario
from simkit.scenario.model import DEFAULT_METRICS_ADAPTER, Scenario
from simkit.units import parse_duration

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
NOTED_KINDS = ("Service", "Namespace")
ENTRY_KINDS = ("Ingress", "VirtualService")


@dataclass
class ImportResult:
    """The scenario (as commented YAML and as a model) and what import assumed or ignored."""

    text: str
    scenario: Scenario
    assumed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)  # understood, but simkit does not model them
    inferred: list[str] = field(default_factory=list)  # guesses from the manifests, with their field


@dataclass
class _Sorted:
    workloads: dict[tuple[str, str], list[Doc]] = field(default_factory=dict)
    hpas: list[Doc] = field(default_factory=list)
    pdbs: list[Doc] = field(default_factory=list)
    autoscalers: list[Doc] = field(default_factory=list)
    services: list[Doc] = field(default_factory=list)
    plans: list[Doc] = field(default_factory=list)  # Argo Rollouts and Flagger Canaries
    others: list[Doc] = field(
        default_factory=list
    )  # clients (Jobs) and entry points (Ingress, VirtualService)


def _label(doc: Doc) -> str:
    return f"{doc.where} ({doc.kind}/{doc.name or '?'})"


def _sort(docs: Iterable[Doc], read: list[str], ignored: list[str]) -> _Sorted:
    out = _Sorted()
    for doc in docs:
        if doc.obj is None:
            continue
        if not isinstance(doc.obj, dict) or not doc.kind or "apiVersion" not in doc.obj:
            ignored.append(f"{doc.where}: not a Kubernetes object (no apiVersion/kind)")
        elif is_plan_object(doc):
            out.plans.append(doc)
            own = rollout_as_deployment(doc)
            if own is not None:
                if not doc.name:
                    raise doc.error("metadata.name", "required field is missing")
                out.workloads.setdefault(("Deployment", doc.name), []).append(own)
                read.append(f"{_label(doc)}: its pod template imported as Deployment {doc.name}")
        elif doc.kind == "AnalysisTemplate" and str(doc.obj.get("apiVersion", "")).startswith("argoproj.io/"):
            read.append(
                f"{_label(doc)}: read, not modelled (a canary's thresholds are the plan's metrics, "
                "from its simkit.io/plan annotation)"
            )
        elif doc.kind in WORKLOAD_KINDS and is_cluster_autoscaler(doc):
            out.autoscalers.append(doc)
        elif doc.kind in WORKLOAD_KINDS:
            if not doc.name:
                raise doc.error("metadata.name", "required field is missing")
            out.workloads.setdefault((doc.kind, doc.name), []).append(doc)
        elif doc.kind == "HorizontalPodAutoscaler":
            out.hpas.append(doc)
        elif doc.kind == "PodDisruptionBudget":
            out.pdbs.append(doc)
        elif doc.kind in CLIENT_KINDS + ENTRY_KINDS:
            out.others.append(doc)
            read.append(f"{_label(doc)}: read for the call graph, not simulated")
        elif doc.kind in NOTED_KINDS:
            if doc.kind == "Service":
                out.services.append(doc)
            read.append(f"{_label(doc)}: read, not modelled (export writes its own)")
        else:
            ignored.append(f"{_label(doc)}: kind not imported")
    return out


def _merge(docs: list[Doc], assumed: list[str]) -> list[Doc]:
    """Documents of one kind and name: merged when their namespaces agree or one has none."""
    groups: list[Doc] = []
    for doc in docs:
        host = next(
            (g for g in groups if None in (g.namespace, doc.namespace) or g.namespace == doc.namespace), None
        )
        if host is None:
            groups.append(Doc(doc.file, doc.index, doc.obj, doc.lines))
            continue
        conflicts: list[str] = []
        host.obj = deep_merge(host.obj, doc.obj, "", conflicts)
        assumed.append(
            f"{_label(doc)}: merged into {host.where}"
            + (f"; kept its {', '.join(conflicts)}" if conflicts else "")
        )
    return groups


def _workloads(
    sorted_docs: _Sorted, assumed: list[str]
) -> tuple[list[tuple[Doc, dict]], list[dict[str, Any]]]:
    """(document, workload) of each Deployment/StatefulSet, and the `daemonsets:` entries."""
    out: list[tuple[Doc, dict[str, Any]]] = []
    daemonsets: list[dict[str, Any]] = []
    names: set[str] = set()  # workloads and DaemonSets share one name space (both label pods app=name)
    for docs in sorted_docs.workloads.values():
        for doc in _merge(docs, assumed):
            notes: list[str] = []
            w = daemonset_from(doc, notes) if doc.kind == "DaemonSet" else workload_from(doc, notes)
            if w["name"] in names:
                old = w["name"]
                w["name"] = f"{old}-{w['namespace']}"[:63].rstrip("-")
                notes.append(f"name {old!r} taken by another workload: renamed {w['name']!r}")
                if w["name"] in names:
                    raise doc.error("metadata.name", f"duplicate workload name {old!r}")
            names.add(w["name"])
            assumed.extend(f"{_label(doc)}: {n}" for n in notes)
            if doc.kind == "DaemonSet":
                daemonsets.append(w)
            else:
                out.append((doc, w))
    return out, daemonsets


def _did_you_mean(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _attach_hpas(
    hpas: list[Doc],
    workloads: list[tuple[Doc, dict]],
    assumed: list[str],
    ignored: list[str],
    read: list[str],
    rollouts: dict[tuple[str, str | None], dict[str, Any]] | None = None,
) -> None:
    """Attach each HPA to the workload its `scaleTargetRef` names, or that the Argo Rollout it names
    runs (`rollouts`: (name, namespace) -> workload; argo-rollouts docs/features/hpa-support.md)."""
    for doc in hpas:
        ref = (doc.obj.get("spec") or {}).get("scaleTargetRef") or {}
        via = _rollout_of(rollouts or {}, ref, doc.namespace) if ref.get("kind") == "Rollout" else None
        target = via or next(
            (
                w
                for d, w in workloads
                if d.name == ref.get("name")
                and d.kind == ref.get("kind")
                and doc.namespace in (None, w["namespace"])
            ),
            None,
        )
        if target is None:
            why = (
                "a DaemonSet has no scale subresource, an HPA cannot scale it"
                if ref.get("kind") == "DaemonSet"
                else f"no imported workload {ref.get('kind')}/{ref.get('name')}"
                + _did_you_mean(
                    str(ref.get("name")), [d.name for d, _ in workloads if d.kind == ref.get("kind")]
                )
            )
            ignored.append(f"{_label(doc)}: {why}")
            continue
        notes: list[str] = []
        target["hpa"] = hpa_spec(doc, notes)
        read.append(f"{_label(doc)}: attached to workload {target['name']}")
        assumed.extend(f"{_label(doc)}: {n}" for n in notes)


def _rollout_of(
    rollouts: dict[tuple[str, str | None], dict[str, Any]], ref: dict[str, Any], namespace: str | None
) -> dict[str, Any] | None:
    if not str(ref.get("apiVersion", "argoproj.io/")).startswith("argoproj.io/"):
        return None
    name = str(ref.get("name"))
    return rollouts.get((name, namespace)) or next(
        (w for (n, ns), w in rollouts.items() if n == name and None in (ns, namespace)), None
    )


def _plans(
    sorted_docs: _Sorted,
    workloads: list[tuple[Doc, dict]],
    assumed: list[str],
    ignored: list[str],
    read: list[str],
) -> tuple[list[dict[str, Any]], dict[tuple[str, str | None], dict[str, Any]]]:
    """The plans of the Rollouts, Canaries and annotated workloads, and each Rollout's workload."""
    plans: list[dict[str, Any]] = []
    rollouts: dict[tuple[str, str | None], dict[str, Any]] = {}
    for doc in sorted_docs.plans:
        kind, name = target_ref(doc)
        w = next(
            (
                w
                for d, w in workloads
                if d.kind == kind and d.name == name and doc.namespace in (None, w["namespace"])
            ),
            None,
        )
        if w is None:
            ignored.append(f"{_label(doc)}: no imported workload {kind}/{name}")
            continue
        notes: list[str] = []
        plans.append(plan_from_object(doc, w["name"], notes))
        assumed.extend(f"{_label(doc)}: {n}" for n in notes)
        read.append(
            f"{_label(doc)}: plan {plans[-1]['name']!r} ({plans[-1]['kind']}) of workload {w['name']}"
        )
        if doc.kind == "Rollout":
            rollouts[(doc.name, doc.namespace)] = w
            _rollout_replicas(doc, w, assumed)
        else:
            _autoscaler_ref(doc, w, sorted_docs.hpas, assumed, read)
    for d, w in workloads:
        notes = []
        plan = plan_from_workload(d, w["name"], notes)
        if plan is not None:
            plans.append(validate_plan(d, plan))
            assumed.extend(f"{_label(d)}: {n}" for n in notes)
            read.append(
                f"{_label(d)}: plan {plan['name']!r} ({plan['kind']}) from its simkit.io/plan annotation"
            )
    return plans, rollouts


def _rollout_replicas(doc: Doc, w: dict[str, Any], assumed: list[str]) -> None:
    """The Rollout's `spec.replicas` is what runs once it has taken over its Deployment."""
    replicas = (doc.obj.get("spec") or {}).get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas != w["replicas"]:
        assumed.append(
            f"{_label(doc)}: spec.replicas {replicas} replaces the Deployment's {w['replicas']} "
            "(the Rollout runs the pods)"
        )
        w["replicas"] = replicas


def _autoscaler_ref(
    doc: Doc, w: dict[str, Any], hpas: list[Doc], assumed: list[str], read: list[str]
) -> None:
    """A Flagger Canary's `autoscalerRef`: that HPA scales the target (Flagger copies it for the
    primary), whatever its own scaleTargetRef says."""
    ref = (doc.obj.get("spec") or {}).get("autoscalerRef")
    if not isinstance(ref, dict):
        return
    if ref.get("kind", "HorizontalPodAutoscaler") != "HorizontalPodAutoscaler":
        assumed.append(f"{_label(doc)}: spec.autoscalerRef kind {ref.get('kind')}: not modelled, ignored")
        return
    hpa = next((h for h in hpas if h.name == ref.get("name") and h.namespace in (None, doc.namespace)), None)
    if hpa is None:
        assumed.append(f"{_label(doc)}: spec.autoscalerRef names no imported HPA {ref.get('name')!r}")
    elif "hpa" not in w:
        notes: list[str] = []
        w["hpa"] = hpa_spec(hpa, notes)
        assumed.extend(f"{_label(hpa)}: {n}" for n in notes)
        read.append(f"{_label(hpa)}: attached to workload {w['name']} by the Canary's autoscalerRef")


def _attach_pdbs(
    pdbs: list[Doc],
    workloads: list[tuple[Doc, dict]],
    assumed: list[str],
    ignored: list[str],
    read: list[str],
) -> None:
    for doc in pdbs:
        selector = ((doc.obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        spec = pdb_spec(doc)
        hits = [
            w
            for _, w in workloads
            if selector
            and doc.namespace in (None, w["namespace"])
            and all({"app": w["name"], **w.get("labels", {})}.get(k) == v for k, v in selector.items())
        ]
        if not hits:
            ignored.append(f"{_label(doc)}: selector {selector or '(none)'} matches no imported workload")
        for w in hits:
            if "pdb" in w:
                assumed.append(f"{_label(doc)}: {w['name']} already has a PDB, this one skipped")
            else:
                w["pdb"] = spec
                read.append(f"{_label(doc)}: attached to workload {w['name']}")


def import_documents(
    docs: Iterable[Doc], name: str = "imported", sources: Iterable[str] = ()
) -> ImportResult:
    """Build the scenario from parsed documents."""
    assumed: list[str] = []
    ignored: list[str] = []
    read: list[str] = []
    inferred: list[str] = []
    sorted_docs = _sort(docs, read, ignored)
    workloads, daemonsets = _workloads(sorted_docs, assumed)
    if not workloads:
        what = " (DaemonSets alone serve no traffic)" if daemonsets else ""
        raise ScenarioError(f"no Deployment or StatefulSet to import{what}", source=", ".join(sources))
    plans, rollouts = _plans(sorted_docs, workloads, assumed, ignored, read)
    _attach_hpas(sorted_docs.hpas, workloads, assumed, ignored, read, rollouts)
    _attach_pdbs(sorted_docs.pdbs, workloads, assumed, ignored, read)
    tasks = {
        q["consumer"]: parse_duration(q["task_time"]) for q in external_queues([w for _, w in workloads])
    }
    for d, w in workloads:  # after the HPAs: what their Resource metrics read (import_serving.py)
        assumed.extend(f"{_label(d)}: {n}" for n in assume_serving(w, tasks.get(w["name"])))
    graph = infer_graph({w["name"]: d for d, w in workloads}, sorted_docs.services, sorted_docs.others)
    inferred += graph.notes
    named = {n for doc in sorted_docs.autoscalers for n in autoscaler_pools(doc)}
    cluster = size_cluster(default_cluster(), [w for _, w in workloads], inferred, named)
    pools = cluster["node_pools"]
    for d, w in workloads:
        assumed.extend(f"{_label(d)}: {n}" for n in assume_metric_sources(w, cluster))
    if cluster.get("metrics_adapter") == DEFAULT_METRICS_ADAPTER:
        del cluster["metrics_adapter"]  # the default: the scenario says nothing it would not
    for doc in sorted_docs.autoscalers:
        notes: list[str] = []
        cluster["cluster_autoscaler"] = autoscaler_flags(doc, {p["name"] for p in pools}, notes)
        assumed.extend(f"{_label(doc)}: {n}" for n in notes + ["flags read into cluster.cluster_autoscaler"])
    assumed.extend(
        f"queue {q['name']} (read by {q['consumer']}'s HPA): {q['tasks_per_request']:g} tasks per request of "
        f"{q['task_time']} each"
        for q in external_queues([w for _, w in workloads])
    )
    text = render_scenario(
        name,
        list(sources),
        cluster,
        [w for _, w in workloads],
        daemonsets,
        assumed,
        ca_from_manifests=bool(sorted_docs.autoscalers),
        traffic=traffic_section(routes(graph), graph.rps),
        inferred=inferred,
        load_from_manifests=graph.rps is not None,
    )
    text += _block_storage([docs[-1] for docs in sorted_docs.workloads.values()], assumed)
    text += _plans_section(plans)
    scenario = parse_scenario(text, source=f"<import {name}>")
    return ImportResult(text, scenario, assumed, ignored, read, inferred)


def _block_storage(docs: Iterable[Doc], assumed: list[str]) -> str:
    """The StatefulSets' volume claims as a `cost.block_storage` section (empty text when there are none)."""
    volumes = []
    for doc in docs:
        notes: list[str] = []
        volume = volume_from(doc, notes)
        assumed.extend(f"{_label(doc)}: {n}" for n in notes)
        if volume is not None:
            volumes.append(volume)
    if not volumes:
        return ""
    body = yaml.safe_dump({"cost": {"block_storage": volumes}}, sort_keys=False, default_flow_style=None)
    return "# volumes: the StatefulSets' volumeClaimTemplates, one per replica\n" + body


def _plans_section(plans: list[dict[str, Any]]) -> str:
    """The `plans:` section (empty text when the manifests carry none)."""
    if not plans:
        return ""
    body = yaml.safe_dump({"plans": plans}, sort_keys=False, default_flow_style=None)
    return "# plans: from the Argo Rollouts, Flagger Canaries and simkit.io/plan annotations\n" + body


def import_manifests(paths: Iterable[str | Path], name: str = "imported") -> ImportResult:
    """Read files or directories of manifests and build the scenario."""
    names = [str(p) for p in paths]
    return import_documents(read_manifests(names), name, names)
