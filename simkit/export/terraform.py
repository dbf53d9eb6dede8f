"""Terraform variables for the node pools on one provider (EKS node groups, AKS node pools, GKE node
pools): `variables.tf` declaring them and `terraform.tfvars` giving the scenario's values.

Instance types are mapped to the target provider's equivalent when the scenario runs elsewhere, with
the seed's table first (t3.xlarge<->Standard_D4s_v3<->n2-standard-4, ...) and otherwise the catalog's
type with the same vCPU and memory.
"""

from __future__ import annotations

import re
from typing import Any

from simkit.catalog import load_catalog
from simkit.errors import ExportError
from simkit.export.hcl import attributes, variable_block
from simkit.export.plan_settings import UPGRADE_BLOCK, UPGRADE_TYPES, pool_plan, upgrade_values
from simkit.export.provenance import Provenance
from simkit.scenario.model import NodePool, Scenario

PROVIDERS = ("aws", "azure", "gcp")
# shared/seed/infrastructure-overview.md, "Worker Nodes": (aws, azure, gcp)
SEED_EQUIVALENTS = (
    ("t3.xlarge", "Standard_D4s_v3", "n2-standard-4"),
    ("r5.xlarge", "Standard_E4s_v3", "n2-highmem-4"),
    ("t3.large", "Standard_D2s_v3", "n2-standard-2"),
)
DEFAULT_REGION = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}  # the catalog's regions
_EFFECT_ENUM = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
_TAINT_TYPE = "list(object({\n  key    = string\n  value  = string\n  effect = string\n}))"

POOL_TYPES: dict[str, dict[str, str]] = {
    "aws": {
        "instance_types": "list(string)",
        "capacity_type": "string",
        "min_size": "number",
        "max_size": "number",
        "desired_size": "number",
        "autoscaling_enabled": "bool",
        "labels": "map(string)",
        "taints": _TAINT_TYPE,
    },
    "azure": {
        "name": "string",
        "vm_size": "string",
        "priority": "string",
        "min_count": "number",
        "max_count": "number",
        "node_count": "number",
        "auto_scaling_enabled": "bool",
        "node_labels": "map(string)",
        "node_taints": "list(string)",
    },
    "gcp": {
        "machine_type": "string",
        "spot": "bool",
        "min_node_count": "number",
        "max_node_count": "number",
        "initial_node_count": "number",
        "autoscaling_enabled": "bool",
        "node_labels": "map(string)",
        "taints": _TAINT_TYPE,
    },
}


def equivalent_instance(instance_type: str, source: str, target: str) -> tuple[str, str]:
    """(instance type on `target`, how it was chosen) for `instance_type` on `source`."""
    if source == target:
        return instance_type, "as in the scenario"
    i, j = PROVIDERS.index(source), PROVIDERS.index(target)
    for row in SEED_EQUIVALENTS:
        if row[i] == instance_type:
            return row[j], f"{instance_type} on {source}, seed mapping"
    catalog = load_catalog()
    matches = [it for it in catalog.instance_types(source) if it.name == instance_type]
    if matches:
        want = matches[0]
        same = sorted(
            it.name
            for it in catalog.instance_types(target)
            if (it.vcpu, it.memory_gib, it.category, it.arch)
            == (want.vcpu, want.memory_gib, want.category, want.arch)  # a D4s, not a burstable B4ms
        )
        if same:
            return same[0], f"{instance_type} on {source}, same vCPU and memory in the catalog"
    raise ExportError(
        f"node pool instance type {instance_type!r} ({source}) has no known {target} equivalent; "
        "set the pool's instance_type for that provider"
    )


def _aks_name(pool: str) -> str:
    """AKS Linux pool names: lower-case alphanumerics, at most 12 characters."""
    return re.sub(r"[^a-z0-9]", "", pool.removesuffix("-pool"))[:12]


def _taints(pool: NodePool) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value, "effect": _EFFECT_ENUM[t.effect]} for t in pool.taints]


def pool_values(pool: NodePool, provider: str, instance: str) -> dict[str, Any]:
    """One pool's attributes in the target provider's vocabulary."""
    spot, lo, hi, start = pool.capacity_type == "spot", pool.min_nodes, pool.max_nodes, pool.start_nodes
    if provider == "aws":
        return {
            "instance_types": [instance],
            "capacity_type": "SPOT" if spot else "ON_DEMAND",
            "min_size": lo,
            "max_size": hi,
            "desired_size": start,
            "autoscaling_enabled": pool.autoscaling,
            "labels": dict(pool.labels),
            "taints": _taints(pool),
        }
    if provider == "azure":
        return {
            "name": _aks_name(pool.name),
            "vm_size": instance,
            "priority": "Spot" if spot else "Regular",
            "min_count": lo,
            "max_count": hi,
            "node_count": start,
            "auto_scaling_enabled": pool.autoscaling,
            "node_labels": dict(pool.labels),
            "node_taints": [f"{t.key}={t.value}:{t.effect}" for t in pool.taints],
        }
    return {
        "machine_type": instance,
        "spot": spot,
        "min_node_count": lo,
        "max_node_count": hi,
        "initial_node_count": start,
        "autoscaling_enabled": pool.autoscaling,
        "node_labels": dict(pool.labels),
        "taints": _taints(pool),
    }


def _object_type(fields: dict[str, str]) -> str:
    width = max(len(k) for k in fields)
    lines = ["map(object({"]
    for key, type_expr in fields.items():
        sub = type_expr.splitlines()
        if len(sub) == 1:
            lines.append(f"  {key.ljust(width)} = {type_expr}")
        else:
            lines.append(f"  {key} = {sub[0]}")
            lines.extend("  " + s for s in sub[1:])
    lines.append("}))")
    return _realign(lines)


def _realign(lines: list[str]) -> str:
    """Break `=` alignment around multi-line attributes, as `terraform fmt` does."""
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"  {k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for line in lines:
        key, sep, value = line.strip().partition(" = ")
        single = line.startswith("  ") and not line.startswith("    ") and sep and not value.endswith("({")
        if single:
            run.append((key.strip(), value))
            continue
        flush()
        if sep and value.endswith("({"):  # keep a nested block's own indentation
            out.append(line[: len(line) - len(line.lstrip())] + f"{key.strip()} = {value}")
        else:
            out.append(line)
    flush()
    return "\n".join(out)


def terraform_files(sc: Scenario, provider: str, prov: Provenance) -> dict[str, str]:
    """`terraform/<provider>/variables.tf` and `terraform/<provider>/terraform.tfvars`."""
    source = sc.cluster.provider
    pools: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for pool in sc.cluster.node_pools:
        instance, how = equivalent_instance(pool.instance_type, source, provider)
        pools[pool.name] = pool_values(pool, provider, instance)
        notes[pool.name] = f"{instance}: {how}"
        plan = pool_plan(sc, pool)
        if plan is not None:  # a node-pool-upgrade plan's settings (export/plan_settings.py)
            upgrade, why = upgrade_values(plan, provider, source)
            if upgrade is not None:
                pools[pool.name][UPGRADE_BLOCK[provider]] = upgrade
            notes[pool.name] += f"; {why}"
    if provider == "azure":
        names = [p["name"] for p in pools.values()]
        if len(set(names)) != len(names) or not all(names):
            raise ExportError(
                f"node pool names do not give distinct AKS pool names (<= 12 alphanumerics): {names}"
            )
    region = sc.cluster.region if provider == source else DEFAULT_REGION[provider]
    values: dict[str, Any] = {
        "cluster_name": sc.name,
        "region": region,
        "kubernetes_version": sc.cluster.kubernetes_version,
        "node_pools": pools,
    }
    head = prov.comment()
    if provider != source:
        head += f"# Scenario ran on {source}; region {region!r} is an assumption for {provider}.\n"
    tfvars = _with_pool_notes(head + "\n".join(attributes(values)), notes)
    declarations = [
        variable_block("cluster_name", "Kubernetes cluster name", "string"),
        variable_block("region", f"{provider} region", "string"),
        variable_block("kubernetes_version", "Kubernetes minor version", "string"),
        variable_block(
            "node_pools",
            f"Node pools ({_POOL_KIND[provider]}) keyed by pool name",
            _object_type({**POOL_TYPES[provider], UPGRADE_BLOCK[provider]: UPGRADE_TYPES[provider]}),
        ),
    ]
    return {
        f"terraform/{provider}/variables.tf": prov.comment() + "\n" + "\n".join(declarations),
        f"terraform/{provider}/terraform.tfvars": tfvars,
    }


_POOL_KIND = {"aws": "EKS managed node groups", "azure": "AKS node pools", "gcp": "GKE node pools"}


def _with_pool_notes(text: str, notes: dict[str, str]) -> str:
    """Put a `# instance: how chosen` comment above each pool entry."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        for name, note in notes.items():
            if stripped == f'"{name}" = {{' or stripped == f"{name} = {{":
                lines.append(line[: len(line) - len(stripped)] + f"# {note}")
        lines.append(line)
    return "\n".join(lines) + "\n"
