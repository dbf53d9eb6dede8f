"""A cluster sized for the imported pods: node pools from their nodeSelectors and tolerations.

The seed platform's pools are kept only when imported pods select their labels and tolerate their
taints (the manifests were written for it); pods with no selector of their own get one general
on-demand pool; a selector no seed pool satisfies gets a pool carrying those labels. Labels that
every node carries (`kubernetes.io/os`, `beta.kubernetes.io/arch`, the providers' labels: see
simkit/catalog/node_labels.py) select nothing. New pools are sized from the pods' requests.
"""

from __future__ import annotations

import math
import re
from typing import Any

from simkit.catalog import allocatable_for, load_catalog
from simkit.units import parse_cpu, parse_memory

WELL_KNOWN = (
    "kubernetes.io/",
    "beta.kubernetes.io/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
    "eks.amazonaws.com/",
    "cloud.google.com/",
    "kubernetes.azure.com/",
)
GENERAL_INSTANCE = {"aws": "m5.xlarge", "azure": "Standard_D4s_v3", "gcp": "n2-standard-4"}
FILL = 0.7  # pods' requests fill at most 70 % of a new pool's allocatable at its minimum size (assumed)


def _own_selector(w: dict[str, Any]) -> dict[str, str]:
    sel = w.get("nodeSelector") or {}
    return {str(k): str(v) for k, v in sel.items() if not str(k).startswith(WELL_KNOWN)}


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    if taint.get("effect") == "PreferNoSchedule":
        return True
    for t in tolerations:
        if t.get("effect") not in (None, "", taint.get("effect")):
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") == taint.get("key") and (
            t.get("operator") == "Exists" or str(t.get("value", "")) == str(taint.get("value", ""))
        ):
            return True
    return False


def _fits(pool: dict[str, Any], w: dict[str, Any]) -> bool:
    labels = pool.get("labels") or {}
    return all(labels.get(k) == v for k, v in _own_selector(w).items()) and all(
        _tolerates(w.get("tolerations") or [], t) for t in pool.get("taints") or []
    )


def _pool_name(sel: dict[str, str]) -> str:
    raw = "-".join(v for _, v in sorted(sel.items())) or "general"
    return (re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:50] or "general") + ("-pool" if sel else "")


def _size(cluster: dict[str, Any], pool: dict[str, Any], pods: list[dict[str, Any]]) -> None:
    itype = load_catalog().instance(cluster["provider"], cluster["region"], pool["instance_type"])
    cpu_m, mem_mib = allocatable_for(itype)

    def nodes(count: str) -> int:
        cpu = sum(parse_cpu(w["resources"]["requests"]["cpu"]) * _replicas(w, count) for w in pods)
        mem = sum(parse_memory(w["resources"]["requests"]["memory"]) * _replicas(w, count) for w in pods)
        return max(math.ceil(cpu / (cpu_m * FILL)), math.ceil(mem / (mem_mib * FILL)), 1)

    zones = len(cluster.get("zones") or [1])
    pool["min_nodes"] = max(zones, nodes("min"))
    pool["max_nodes"] = max(pool["min_nodes"] + zones, nodes("max"))


def _replicas(w: dict[str, Any], which: str) -> int:
    hpa = w.get("hpa") or {}
    if which == "max" and hpa.get("maxReplicas"):
        return int(hpa["maxReplicas"])
    return int(w.get("replicas", 1))


def size_cluster(
    seed: dict[str, Any], workloads: list[dict[str, Any]], notes: list[str], named: set[str] | None = None
) -> dict[str, Any]:
    """The cluster section for `workloads`, starting from the seed's provider, region and zones.

    `named`: node groups the manifests' cluster-autoscaler `--nodes` flags name (those seed pools are kept).
    """
    seed_pools: list[dict[str, Any]] = list(seed["node_pools"])
    kept: list[dict[str, Any]] = [p for p in seed_pools if p["name"] in (named or set())]
    notes += [
        f"node pool {p['name']}: the seed's, kept: named by the cluster-autoscaler's --nodes" for p in kept
    ]
    new: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    selecting = [w for w in workloads if _own_selector(w)]
    for w in selecting:
        pool = next((p for p in seed_pools if _fits(p, w)), None)
        if pool is not None and pool not in kept:
            kept.append(pool)
            notes.append(
                f"node pool {pool['name']}: the seed's, kept: workload {w['name']} selects {_own_selector(w)}"
            )
    for w in workloads:
        if any(_fits(p, w) for p in kept):
            continue
        untainted = next((p for p in seed_pools if kept and not p.get("taints") and _fits(p, w)), None)
        if untainted is not None:
            kept.append(untainted)
            notes.append(
                f"node pool {untainted['name']}: the seed's untainted pool, kept for pods without a selector "
                "(the manifests select the seed's other pools)"
            )
            continue
        sel = _own_selector(w)
        name = _pool_name(sel)
        if name not in new:
            pool = {
                "name": name,
                "instance_type": GENERAL_INSTANCE.get(str(seed["provider"]), "m5.xlarge"),
                "capacity_type": "on-demand",
                "min_nodes": 1,
                "max_nodes": 1,
                **({"labels": sel} if sel else {}),
            }
            new[name] = (pool, [])
        new[name][1].append(w)
    for pool, pods in new.values():
        _size(seed, pool, pods)
        why = (
            f"labels {pool['labels']} from the nodeSelector of"
            if pool.get("labels")
            else "for the pods without a nodeSelector of"
        )
        notes.append(
            f"node pool {pool['name']}: {pool['min_nodes']}-{pool['max_nodes']} x {pool['instance_type']} "
            "on-demand, "
            f"{why} {', '.join(w['name'] for w in pods)} (sized for their requests at {FILL:.0%} fill, "
            "HPA maxReplicas at max)"
        )
    for p in seed_pools:
        if p not in kept:
            notes.append(
                f"node pool {p['name']} of the seed: dropped, no imported pod selects its labels "
                "and tolerates its taints"
            )
    pools = [p for p in seed_pools if p in kept] + [p for p, _ in new.values()]
    out = {k: v for k, v in seed.items() if k != "node_pools"}
    out["node_pools"] = pools
    ca = dict(out.get("cluster_autoscaler") or {})
    names = {p["name"] for p in pools}
    ca["nodes"] = [n for n in ca.get("nodes") or [] if str(n).split(":")[-1] in names] + [
        f"{p['min_nodes']}:{p['max_nodes']}:{p['name']}" for p, _ in new.values()
    ]
    if not ca["nodes"]:
        ca.pop("nodes")
    out["cluster_autoscaler"] = ca
    return out
