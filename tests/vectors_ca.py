"""Adapter: check Cluster Autoscaler test vectors (shared/reference/ca_vectors.json) against simkit.

`check(vector) -> str | None` translates one vector's input into simkit's CA types, calls the
matching building block of `simkit.control.ca`, and compares with `expected`.
Memory in the vectors is in bytes; the rules under test are ratios, so bytes are passed through
unchanged except where a vector mixes units (binpacking: template MiB, pod bytes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simkit.control.ca.backoff import is_backed_off, register_failure, remove_stale
from simkit.control.ca.balance import TemplateInfo, balance_scale_up, nodes_similar
from simkit.control.ca.estimator import estimate_nodes
from simkit.control.ca.expanders import (
    ExpansionOption,
    least_nodes,
    least_waste,
    most_pods,
    price,
    priority,
)
from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import (
    ANN_POD_SCALE_UP_DELAY,
    CANode,
    CAPod,
    CAState,
    NodeGroup,
)
from simkit.control.ca.scale_down import UnneededNode, eligibility_reason, removable_at
from simkit.control.ca.scale_up import filter_young_pods
from simkit.control.types import (
    HOSTNAME_LABEL,
    ZONE_LABEL,
    NodeView,
    PodSpec,
    TopologySpreadConstraint,
)
from simkit.units import MIB

Vector = Mapping[str, Any]
HOST_PORT_LABEL = "simkit.test/host-port"  # vector-only encoding of a pod's hostPort


def _mismatch(what: str, expected: object, got: object) -> str | None:
    return None if expected == got else f"{what}: expected {expected!r}, got {got!r}"


def _close(expected: float, got: float, rel: float = 0.01) -> bool:
    return math.isclose(expected, got, rel_tol=rel, abs_tol=1e-12)


def _group(gid: str, *, cpu: float = 1000, mem: float = 1000, **kw: Any) -> NodeGroup:
    """A node group whose template is a bare node of `cpu` millicores / `mem` memory."""
    template = NodeView(name=f"{gid}-template", labels={}, alloc_cpu_m=int(cpu), alloc_mem_mib=mem)
    fields: dict[str, Any] = {"min_size": 0, "max_size": 1000, "target_size": 0}
    fields.update(kw)
    return NodeGroup(name=gid, template=template, **fields)


def _pod(p: Mapping[str, Any], name: str = "p") -> CAPod:
    """A CAPod from a vector pod (`cpu_milli`/`memory` may be null = no request)."""
    owner = "DaemonSet" if p.get("daemonset") else "ReplicaSet"
    spec = PodSpec(
        name=p.get("name", name), cpu_m=int(p.get("cpu_milli") or 0), mem_mib=float(p.get("memory") or 0)
    )
    return CAPod(spec=spec, owner_kind=owner, mirror=bool(p.get("mirror")), gpus=int(p.get("gpu", 0)))


# ------------------------------------------------------------------ utilization and eligibility


def _node_utilization(v: Vector) -> str | None:
    from simkit.control.ca.drain import node_utilization

    inp, exp = v["input"], v["expected"]
    alloc = inp["node"]["allocatable"]
    util = node_utilization(
        alloc["cpu_milli"],
        alloc["memory"],
        [_pod(p) for p in inp["pods"]],
        now=0.0,
        ignore_daemonsets=bool(inp.get("ignore_daemonsets_utilization")),
        ignore_mirror_pods=bool(inp.get("ignore_mirror_pods_utilization")),
        alloc_gpus=int(alloc.get("nvidia.com/gpu", 0)) if inp.get("gpu_node") else 0,
    )
    if not _close(exp["utilization"], util.utilization):
        return f"utilization: expected {exp['utilization']}, got {util.utilization}"
    if "cpu_util" in exp and not _close(exp["cpu_util"], util.cpu):
        return f"cpu_util: expected {exp['cpu_util']}, got {util.cpu}"
    return _mismatch("resource", exp.get("resource", util.resource), util.resource)


def _scale_down_eligibility(v: Vector) -> str | None:
    inp, exp = v["input"], v["expected"]
    opts, spec = inp["options"], inp["node"]
    flags = CAFlags.from_mapping(
        {
            "scale-down-utilization-threshold": opts["scale_down_utilization_threshold"],
            "ignore-daemonsets-utilization": opts["ignore_daemonsets_utilization"],
            "scale-down-unready-enabled": opts["scale_down_unready_enabled"],
        }
    )
    alloc = spec["allocatable"]
    view = NodeView(
        name=spec["name"], labels={}, alloc_cpu_m=alloc["cpu_milli"], alloc_mem_mib=alloc["memory"]
    )
    node = CANode(
        view=view,
        group="ng",
        ready=spec.get("ready", True),
        annotations=spec.get("annotations", {}),
        deletion="drain" if spec.get("being_deleted") else None,
    )
    pods = [_pod(p) for p in inp["pods"]]
    reason, util = eligibility_reason(node, pods, {"ng": _group("ng")}, flags, CAState(), now=0.0)
    problem = _mismatch("unneeded_candidate", exp["unneeded_candidate"], reason is None)
    if problem is None and "reason" in exp:
        problem = _mismatch("reason", exp["reason"], reason)
    if problem is None and "utilization" in exp and not _close(exp["utilization"], util):
        problem = f"utilization: expected {exp['utilization']}, got {util}"
    return problem


# ------------------------------------------------------------------ expanders


def _best(v: Vector, got: Sequence[ExpansionOption]) -> str | None:
    return _mismatch("best", sorted(v["expected"]["best"]), sorted(o.group.name for o in got))


def _plain_pods(n: int) -> tuple[PodSpec, ...]:
    return tuple(PodSpec(name=f"p{i}") for i in range(n))


def _expander_least_waste(v: Vector) -> str | None:
    options = []
    for o in v["input"]["options"]:
        cap = o["node_group"]["capacity"]
        group = _group(o["node_group"]["id"], cpu=cap["cpu_milli"], mem=cap["memory"])
        pods = tuple(PodSpec(name="p", cpu_m=p["cpu_milli"], mem_mib=p["memory"]) for p in o["pods"])
        options.append(ExpansionOption(group, o["node_count"], pods))
    return _best(v, least_waste(options))


def _expander_most_pods(v: Vector) -> str | None:
    options = [ExpansionOption(_group(o["id"]), 1, _plain_pods(o["pods"])) for o in v["input"]["options"]]
    return _best(v, most_pods(options))


def _expander_least_nodes(v: Vector) -> str | None:
    options = [ExpansionOption(_group(o["id"]), o["node_count"], ()) for o in v["input"]["options"]]
    return _best(v, least_nodes(options))


def _expander_priority(v: Vector) -> str | None:
    inp = v["input"]
    options = [ExpansionOption(_group(gid), 1, ()) for gid in inp["option_node_group_ids"]]
    config = {int(k): list(regexes) for k, regexes in inp["priorities_configmap"].items()}
    return _best(v, priority(options, config))


def _expander_price(v: Vector) -> str | None:
    inp = v["input"]
    prices = inp["pod_prices"]
    options = []
    for o in inp["options"]:
        ng = o["node_group"]
        group = _group(
            ng["id"],
            cpu=ng["node_cpu_milli"],
            price_per_hour=o["node_price"],
            exists=ng.get("exists", True),
            gpus=1 if ng.get("gpu") else 0,
        )
        options.append(ExpansionOption(group, o["node_count"], tuple(PodSpec(name=n) for n in o["pods"])))
    got = price(
        options,
        inp["preferred_node_cpu_milli"],
        pod_price=lambda p: prices[p.name],
        stabilization_price=prices["stabilize"],
    )
    return _best(v, got)


# ------------------------------------------------------------------ balancing


def _balance_scale_up(v: Vector) -> str | None:
    inp, exp = v["input"], v["expected"]
    groups = [
        _group(g["id"], min_size=g["min"], max_size=g["max"], target_size=g["target_size"])
        for g in inp["groups"]
    ]
    try:
        got = balance_scale_up(groups, inp["new_nodes"])
    except ValueError as exc:
        return None if exp.get("error") else f"unexpected error {exc}"
    if exp.get("error"):
        return f"expected an error, got {got}"
    return _mismatch("new sizes", dict(exp["new_sizes_of_changed_groups"]), got)


def _template(t: Mapping[str, Any]) -> TemplateInfo:
    return TemplateInfo(
        capacity=dict(t["capacity"]),
        allocatable=dict(t["allocatable"]),
        requested=dict(t.get("requested", {})),
        labels=dict(t.get("labels", {})),
    )


def _node_groups_similar(v: Vector) -> str | None:
    inp = v["input"]
    ratios = inp["ratios"]
    got = nodes_similar(
        _template(inp["template_a"]),
        _template(inp["template_b"]),
        memory_ratio=ratios["max_capacity_memory_difference"],
        allocatable_ratio=ratios["max_allocatable_difference"],
        free_ratio=ratios["max_free_difference"],
        extra_ignored_labels=inp.get("extra_ignored_labels", ()),
    )
    return _mismatch("similar", v["expected"]["similar"], got)


# ------------------------------------------------------------------ backoff


def _node_group_backoff(v: Vector) -> str | None:
    inp, exp = v["input"], v["expected"]
    tables = []
    durations = []
    table: dict = {}
    for event in inp["events"]:
        group = event.get("group", "ng1")
        table = register_failure(table, group, event["t_s"], inp["initial_s"], inp["max_s"])
        tables.append(table)
        durations.append(table[group].duration)
    got = [is_backed_off(tables[q["after_event"]], q.get("group", "ng1"), q["t_s"]) for q in inp["queries"]]
    problem = _mismatch("backed_off", exp["backed_off"], got)
    if problem is None and "durations_s" in exp:
        problem = _mismatch("durations_s", [float(d) for d in exp["durations_s"]], durations)
    return problem


def _node_group_backoff_gc(v: Vector) -> str | None:
    inp = v["input"]
    table: dict = {}
    for failure in inp["failures"]:
        table = register_failure(table, failure["group"], failure["t_s"], inp["initial_s"], inp["max_s"])
    counts = []
    for t in inp["gc_at_s"]:
        table = remove_stale(table, t, inp["reset_s"])
        counts.append(len(table))
    return _mismatch("entries_remaining", v["expected"]["entries_remaining"], counts)


# ------------------------------------------------------------------ binpacking


def _vector_fits() -> Callable[[PodSpec, NodeView, Sequence[NodeView]], str | None]:
    """The scheduler's `filter_node` plus a host-port check (NodePorts is not modelled by it, and
    PodSpec has no ports, so the vector's hostPort travels as a pod label)."""
    from simkit.control.scheduler import filter_node

    def fits(pod: PodSpec, node: NodeView, nodes: Sequence[NodeView]) -> str | None:
        port = pod.labels.get(HOST_PORT_LABEL)
        if port is not None and any(p.get(HOST_PORT_LABEL) == port for p in node.pod_labels):
            return "node(s) didn't have free ports for the requested pod ports"
        return filter_node(pod, node, nodes)

    return fits


def _vector_node(n: Mapping[str, Any], name: str) -> NodeView:
    labels = {HOSTNAME_LABEL: name, ZONE_LABEL: n.get("zone", "")}
    return NodeView(
        name=name,
        labels=labels,
        alloc_cpu_m=n["cpu_milli"],
        alloc_mem_mib=float(n["memory_mib"]),
        alloc_pods=n.get("pods"),
    )


def _vector_pod_group(g: Mapping[str, Any]) -> list[PodSpec]:
    p = g["pod"]
    mem = p["memory"] / MIB if g.get("memory_unit", "bytes") == "bytes" else float(p["memory"])
    labels = {"app": "estimatee"}
    if "host_port" in p:
        labels[HOST_PORT_LABEL] = str(p["host_port"])
    spread: tuple[TopologySpreadConstraint, ...] = ()
    if "topology_spread" in p:
        ts = p["topology_spread"]
        spread = (
            TopologySpreadConstraint(
                ts["max_skew"], ts["key"], "DoNotSchedule", {"app": "estimatee"}, ts.get("min_domains")
            ),
        )
    spec = PodSpec(name="estimatee", labels=labels, cpu_m=p["cpu_milli"], mem_mib=mem, topology_spread=spread)
    return [spec] * g["count"]


def _binpacking_estimate(v: Vector) -> str | None:
    inp, exp = v["input"], v["expected"]
    template = _vector_node(inp["template_node"], "template")
    existing = [_vector_node(n, n["name"]) for n in inp["existing_nodes"]]
    got = estimate_nodes(
        [_vector_pod_group(g) for g in inp["pod_groups"]],
        template,
        existing,
        _vector_fits(),
        inp["max_nodes"],
    )
    return _mismatch(
        "(node_count, scheduled_pods)",
        (exp["node_count"], exp["scheduled_pods"]),
        (got.node_count, len(got.scheduled)),
    )


# ------------------------------------------------------------------ pods and removal


def _filter_young_pods(v: Vector) -> str | None:
    inp = v["input"]
    flags = CAFlags(new_pod_scale_up_delay=float(inp["new_pod_scale_up_delay_s"]))
    pods = []
    for p in inp["pods"]:
        annotation = p.get("annotation_pod_scale_up_delay")
        annotations = {} if annotation is None else {ANN_POD_SCALE_UP_DELAY: annotation}
        pods.append(
            CAPod(
                spec=PodSpec(name=p["name"]),
                created_at=-float(p["created_age_s_at_offset0"]),
                annotations=annotations,
            )
        )
    got = [p.name for p in filter_young_pods(pods, flags, now=float(inp["now_offset_s"]))]
    return _mismatch("pods_considered", v["expected"]["pods_considered"], got)


def _removable_nodes_min_size(v: Vector) -> str | None:
    inp, exp = v["input"], v["expected"]
    now = 10_000.0
    since = now - inp["nodes_unneeded_for_s"]
    unneeded = [UnneededNode(f"e{i}", "ng", since, empty=True) for i in range(inp["empty_unneeded"])]
    unneeded += [UnneededNode(f"d{i}", "ng", since, empty=False) for i in range(inp["drain_unneeded"])]
    group = _group("ng", min_size=inp["node_group_min"], target_size=inp["node_group_target_size"])
    flags = CAFlags(scale_down_unneeded_time=float(inp["unneeded_time_s"]))
    empty, drain, _ = removable_at(unneeded, {"ng": group}, {"ng": inp["ongoing_deletions"]}, flags, now)
    return _mismatch(
        "(empty_removable, drain_removable)",
        (exp["empty_removable"], exp["drain_removable"]),
        (len(empty), len(drain)),
    )


CHECKS: dict[str, Callable[[Vector], str | None]] = {
    "node_utilization": _node_utilization,
    "scale_down_eligibility": _scale_down_eligibility,
    "expander_least_waste": _expander_least_waste,
    "expander_most_pods": _expander_most_pods,
    "expander_least_nodes": _expander_least_nodes,
    "expander_priority": _expander_priority,
    "expander_price": _expander_price,
    "balance_scale_up": _balance_scale_up,
    "node_groups_similar": _node_groups_similar,
    "node_group_backoff": _node_group_backoff,
    "node_group_backoff_gc": _node_group_backoff_gc,
    "binpacking_estimate": _binpacking_estimate,
    "filter_young_pods": _filter_young_pods,
    "removable_nodes_min_size": _removable_nodes_min_size,
}


def check(vector: Vector) -> str | None:
    """None if simkit agrees with the vector, else a short "expected X, got Y"."""
    handler = CHECKS.get(vector.get("kind", ""))
    if handler is None:
        return f"no adapter for kind {vector.get('kind')!r}"
    return handler(vector)
