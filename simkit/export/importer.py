"""`simkit import`: Kubernetes manifests -> a scenario YAML that `simkit validate` accepts.

Workloads come from Deployments and StatefulSets, with their HPAs (autoscaling/v2, v1 converted) and
PDBs attached; DaemonSets become `daemonsets:` entries (a pod on every node they match); the
cluster-autoscaler Deployment gives `cluster.cluster_autoscaler`.
Routes and the load are inferred from the call graph (simkit/export/import_graph.py) and the node
pools from the pods' selectors and tolerations (import_cluster.py), one line per guess in `inferred`;
the provider, region and targets come from the seed platform, marked as assumptions.
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
from simkit.export.import_render import default_cluster, external_queues, render_scenario, traffic_section
from simkit.export.import_workload import daemonset_from, volume_from, workload_from
from simkit.export.manifests import Doc, read_manifests
from simkit.scenario.loader import parse_scenario
from simkit.scenario.model import Scenario

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
) -> None:
    for doc in hpas:
        ref = (doc.obj.get("spec") or {}).get("scaleTargetRef") or {}
        target = next(
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
    _attach_hpas(sorted_docs.hpas, workloads, assumed, ignored, read)
    _attach_pdbs(sorted_docs.pdbs, workloads, assumed, ignored, read)
    graph = infer_graph({w["name"]: d for d, w in workloads}, sorted_docs.services, sorted_docs.others)
    inferred += graph.notes
    named = {n for doc in sorted_docs.autoscalers for n in autoscaler_pools(doc)}
    cluster = size_cluster(default_cluster(), [w for _, w in workloads], inferred, named)
    pools = cluster["node_pools"]
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


def import_manifests(paths: Iterable[str | Path], name: str = "imported") -> ImportResult:
    """Read files or directories of manifests and build the scenario."""
    names = [str(p) for p in paths]
    return import_documents(read_manifests(names), name, names)
