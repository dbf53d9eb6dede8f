"""What `simkit validate` warns about without failing: workloads no pool can ever run, and cluster
autoscaler `--nodes` ranges that disagree with their pool.

A workload can never be scheduled when the default scheduler's filters (`control.scheduler.schedule`:
nodeSelector and node affinity, taints, resources, max pods) reject an empty node of every pool, in
every zone of the pool, after that node's DaemonSet pods (`control.daemonset.place_daemon_pods`)
took their requests. The templates are built as the engine and the autoscaler build a pool's node
(`Engine.pool_shape`, `engine.ca_loop.ca_group`): catalog allocatable, the pool's labels plus its
instance type, pool, zone and hostname labels, and its taints.
"""

from __future__ import annotations

from simkit.catalog import allocatable_for, load_catalog
from simkit.control.daemonset import place_daemon_pods
from simkit.control.scheduler import schedule
from simkit.control.types import HOSTNAME_LABEL, ZONE_LABEL, NodeView
from simkit.engine.convert import daemon_pod_spec, pod_spec, taints
from simkit.scenario.karpenter import instance_labels, matching_types
from simkit.scenario.model import NodePool, Scenario

__all__ = ["ca_range_warnings", "pool_templates", "unschedulable_warnings", "validation_warnings"]


def validation_warnings(scenario: Scenario) -> list[str]:
    """One line per problem, each starting with the YAML path it is about."""
    return unschedulable_warnings(scenario) + ca_range_warnings(scenario)


def pool_templates(scenario: Scenario, pool: NodePool) -> list[NodeView]:
    """An empty node of `pool` in each of its zones, with its DaemonSet pods bound."""
    catalog = load_catalog()
    cluster = scenario.cluster
    itype = catalog.instance(cluster.provider, cluster.region, pool.instance_type)
    cpu_m, mem_mib = allocatable_for(itype, pool.max_pods)
    daemons = tuple(daemon_pod_spec(d) for d in scenario.daemonsets)
    out = []
    for zone in pool.zones or cluster.zones:
        name = f"template-{pool.name}-{zone}"
        labels = {
            **pool.labels,
            "node.kubernetes.io/instance-type": pool.instance_type,
            "simkit.io/pool": pool.name,
            ZONE_LABEL: zone,
            HOSTNAME_LABEL: name,
        }
        node = NodeView(
            name=name,
            labels=labels,
            taints=taints(pool.taints),
            alloc_cpu_m=cpu_m,
            alloc_mem_mib=mem_mib,
            alloc_pods=pool.max_pods or itype.max_pods,
        )
        out.append(place_daemon_pods(daemons, node)[0])
    return out


def karpenter_pools(scenario: Scenario) -> list[NodePool]:
    """Each Karpenter NodePool as a node group of its largest instance type (its labels and taints)."""
    cluster = scenario.cluster
    catalog = load_catalog().instance_types(cluster.provider, cluster.region)
    out = []
    for np in cluster.nodepools:
        it = max(matching_types(np, catalog), key=lambda t: (t.vcpu, t.memory_gib, t.name))
        labels = {**instance_labels(it), "karpenter.sh/nodepool": np.name, **np.labels}
        out.append(
            NodePool(
                name=np.name, instance_type=it.name, min_nodes=0, max_nodes=0, labels=labels, taints=np.taints
            )
        )
    return out


def unschedulable_warnings(scenario: Scenario) -> list[str]:
    """'workloads[i] (<name>): ...' for each workload whose pods fit no pool's empty node."""
    pools = [*scenario.cluster.node_pools, *karpenter_pools(scenario)]
    templates = [t for pool in pools for t in pool_templates(scenario, pool)]
    out = []
    for i, workload in enumerate(scenario.workloads):
        placement = schedule(pod_spec(workload, f"{workload.name}-0"), templates)
        if placement.node is None:
            out.append(
                f"workloads[{i}] ({workload.name}): can never be scheduled on an empty node of any pool: "
                f"{placement.message}"
            )
    return out


def ca_range_warnings(scenario: Scenario) -> list[str]:
    """'cluster.cluster_autoscaler.nodes[i]: ...' for each `--nodes` range unlike its pool's bounds."""
    flags = scenario.cluster.ca_flags
    if flags is None:
        return []
    pools = {p.name: (i, p) for i, p in enumerate(scenario.cluster.node_pools)}
    out = []
    for i, bounds in enumerate(flags.nodes):
        path = f"cluster.cluster_autoscaler.nodes[{i}]"
        if bounds.name not in pools:
            out.append(f"{path}: names no node pool ({bounds.name!r}); the autoscaler ignores it")
            continue
        j, pool = pools[bounds.name]
        if (bounds.min_size, bounds.max_size) != (pool.min_nodes, pool.max_nodes):
            out.append(
                f"{path}: {bounds.min_size}:{bounds.max_size}:{bounds.name} disagrees with "
                f"cluster.node_pools[{j}] min_nodes/max_nodes {pool.min_nodes}/{pool.max_nodes}; "
                f"the autoscaler keeps the pool within {bounds.min_size}..{bounds.max_size}"
            )
    return out
