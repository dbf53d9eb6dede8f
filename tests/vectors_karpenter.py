"""Adapter between Karpenter's disruption test vectors (shared/reference/karpenter_vectors.json,
defined by karpenter_spec.md) and simkit.control.karpenter.

`check(vector) -> str | None` converts the vector's JSON input into simkit's typed values, runs the
named function, and returns None when every key of `expected` matches by the spec's section-4
rules, else "key: expected X, got Y". Nothing here looks at a vector's id.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from simkit.control import karpenter as kp
from simkit.control.karpenter.types import PRODUCTION_METHOD_ORDER
from simkit.units import parse_duration

Vector = Mapping[str, Any]

# ---------------------------------------------------------------------------------------------
# Conversions (karpenter_spec.md section 2 and 3.8)
# ---------------------------------------------------------------------------------------------


def _time(raw: str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw.replace("Z", "+00:00"))


def _duration(raw: str | None) -> timedelta | None:
    """Go durations; "Never" (and null) is nil."""
    if raw is None or raw == "Never":
        return None
    return timedelta(seconds=parse_duration(raw))


def _resources(raw: Mapping[str, Any] | None) -> dict[str, int]:
    return {k: kp.milli(v) for k, v in (raw or {}).items()}


def _budget(raw: Vector) -> kp.Budget:
    reasons = raw.get("reasons")
    return kp.Budget(
        nodes=str(raw.get("nodes", "10%")),
        schedule=raw.get("schedule"),
        duration=_duration(raw.get("duration")),
        reasons=None if reasons is None else tuple(reasons),
    )


_ASSORTED_OVERHEAD = {"cpu": "100m", "memory": "10Mi"}  # fake.NewInstanceType's kube-reserved


def _assorted() -> list[kp.InstanceType]:
    """fake.InstanceTypesAssorted(): 1344 single-offering types, in the Go generation order."""
    out = []
    for cpu in (1, 2, 4, 8, 16, 32, 64):
        for mem in (1, 2, 4, 8, 16, 32, 64, 128):
            for zone in ("test-zone-1", "test-zone-2", "test-zone-3"):
                for ct in ("spot", "on-demand"):
                    for os_ in ("linux", "windows"):
                        for arch in ("amd64", "arm64"):
                            price = 0.1 * cpu + 0.1 * mem * 2**30 / 1e9
                            out.append(
                                kp.InstanceType(
                                    name=f"{cpu}-cpu-{mem}-mem-{arch}-{os_}-{zone}-{ct}",
                                    capacity=_resources({"cpu": cpu, "memory": f"{mem}Gi", "pods": 5}),
                                    arch=arch,
                                    os=(os_,),
                                    offerings=(kp.Offering(ct, zone, price, True),),
                                    overhead=_resources(_ASSORTED_OVERHEAD),
                                )
                            )
    return out


def _instance_type(raw: Vector) -> kp.InstanceType:
    return kp.InstanceType(
        name=raw["name"],
        capacity=_resources({k: raw[k] for k in ("cpu", "memory", "pods") if raw.get(k) is not None}),
        arch=raw.get("arch", "amd64"),
        os=tuple(raw.get("os") or ("linux",)),
        offerings=tuple(
            kp.Offering(o["capacity_type"], o["zone"], float(o["price"]), bool(o.get("available", True)))
            for o in raw.get("offerings", [])
        ),
        overhead=_resources(raw.get("overhead")),
    )


def _instance_types(raw: Any) -> tuple[kp.InstanceType, ...]:
    if isinstance(raw, list):
        return tuple(_instance_type(t) for t in raw)
    if raw.get("fixture") != "InstanceTypesAssorted":
        raise ValueError(f"unknown instance-type fixture {raw!r}")
    its = _assorted()
    by_name = {it.name: it for it in its}
    return tuple(its + [by_name[n] for n in raw.get("append_copies_of", [])])


def _nodepool(raw: Vector) -> kp.NodePool:
    its = raw.get("instance_types")
    return kp.NodePool(
        name=raw["name"],
        consolidation_policy=raw.get("consolidation_policy") or "WhenEmptyOrUnderutilized",
        consolidate_after=_duration(raw.get("consolidate_after", "0s")),
        budgets=tuple(_budget(b) for b in raw.get("budgets") or [{"nodes": "10%"}]),
        requirements=tuple(
            kp.Requirement(r["key"], r["operator"], tuple(r.get("values") or ()), r.get("min_values"))
            for r in raw.get("requirements") or []
        ),
        weight=raw.get("weight") or 0,
        replicas=raw.get("replicas"),
        instance_types=None if its is None else tuple(its),
        instance_types_error=bool(raw.get("instance_types_error")),
        labels=raw.get("labels") or {},
    )


def _node(raw: Vector, now: datetime) -> kp.Node:
    return kp.Node(
        name=raw["name"],
        nodepool=raw.get("nodepool"),
        instance_type=raw.get("instance_type"),
        capacity_type=raw.get("capacity_type"),
        zone=raw.get("zone"),
        labels=raw.get("labels") or {},
        annotations=raw.get("annotations") or {},
        allocatable=_resources(raw.get("allocatable")),
        managed=raw.get("managed", True),
        has_node=raw.get("has_node", True),
        initialized=raw.get("initialized", True),
        initialized_at=_time(raw.get("initialized_at")) or now,
        last_pod_event_time=_time(raw.get("last_pod_event_time")),
        ready=raw.get("ready", True),
        marked_for_deletion=raw.get("marked_for_deletion", False),
        nodeclaim_deleting=raw.get("nodeclaim_deleting", False),
        instance_terminating=raw.get("instance_terminating", False),
        nominated=raw.get("nominated", False),
        in_queue=raw.get("in_queue", False),
        consolidatable=raw.get("consolidatable"),
        drifted=raw.get("drifted"),
        drifted_at=_time(raw.get("drifted_at")),
        termination_grace_period=_duration(raw.get("termination_grace_period")),
        expire_after=_duration(raw.get("expire_after")),
    )


def _pod(raw: Vector) -> kp.Pod:
    return kp.Pod(
        name=raw.get("name", "pod"),
        namespace=raw.get("namespace", "default"),
        node=raw.get("node"),
        requests=_resources(raw.get("requests")),
        owner=raw.get("owner", "ReplicaSet"),
        labels=raw.get("labels") or {},
        annotations=raw.get("annotations") or {},
        phase=raw.get("phase", "Running"),
        terminating=raw.get("terminating", False),
        ready=raw.get("ready"),
        priority=raw.get("priority"),
        start_time=_time(raw.get("start_time")),
        node_selector=raw.get("node_selector") or {},
        unschedulable=bool(raw.get("unschedulable")),
    )


def _pdb(raw: Vector) -> kp.PDB:
    return kp.PDB(
        name=raw["name"],
        namespace=raw.get("namespace", "default"),
        match_labels=raw.get("match_labels") or {},
        max_unavailable=raw.get("max_unavailable"),
        min_available=raw.get("min_available"),
        disruptions_allowed=raw.get("disruptions_allowed", 0),
        unhealthy_pod_eviction_policy=raw.get("unhealthy_pod_eviction_policy"),
    )


def _cluster(raw: Vector) -> kp.Cluster:
    now = _time(raw["now"])
    assert now is not None
    opts = raw.get("options") or {}
    return kp.Cluster(
        now=now,
        instance_types=_instance_types(raw.get("instance_types", [])),
        nodepools=tuple(_nodepool(p) for p in raw.get("nodepools", [])),
        nodes=tuple(_node(n, now) for n in raw.get("nodes", [])),
        pods=tuple(_pod(p) for p in raw.get("pods", [])),
        pdbs=tuple(_pdb(p) for p in raw.get("pdbs", [])),
        options=kp.Options(
            spot_to_spot_consolidation=bool(opts.get("spot_to_spot_consolidation", False)),
            min_values_policy=opts.get("min_values_policy", "Strict"),
            preference_policy=opts.get("preference_policy", "Respect"),
            method_order=tuple(opts.get("method_order") or PRODUCTION_METHOD_ORDER),
        ),
        buffer_pod_counts=raw.get("buffer_pod_counts") or {},
    )


# ---------------------------------------------------------------------------------------------
# The functions (karpenter_spec.md section 3)
# ---------------------------------------------------------------------------------------------


def _budget_is_active(i: Vector) -> dict[str, Any]:
    active, error = kp.budget_is_active(_budget(i["budget"]), _time(i["now"]))  # type: ignore[arg-type]
    out: dict[str, Any] = {"active": active, "error": error is not None}
    if error is not None:
        out["error_message"] = error
    return out


def _allowed_disruptions(i: Vector) -> dict[str, Any]:
    now = _time(i["now"])
    assert now is not None
    n = i["num_nodes"]
    if "budget" in i:
        got = kp.allowed_disruptions(_budget(i["budget"]), n, now)
        return {"allowed": got.value, "error": got.error is not None, "error_message": got.error}
    budgets = [_budget(b) for b in i["budgets"]]
    if "reason" in i:
        got = kp.allowed_disruptions_by_reason(budgets, n, now, i["reason"])
        must = kp.must_allowed_disruptions(budgets, n, now, i["reason"])
        return {
            "allowed": got.value,
            "error": got.error is not None,
            "must_allowed": must,
            "error_message": got.error,
        }
    by_reason = {r: kp.allowed_disruptions_by_reason(budgets, n, now, r) for r in i["reasons"]}
    errors = [g.error for g in by_reason.values() if g.error]
    return {
        "allowed_by_reason": {r: g.value for r, g in by_reason.items()},
        "error": bool(errors),
        "error_message": errors[0] if errors else None,
    }


def _budget_mapping(i: Vector) -> dict[str, Any]:
    cluster = _cluster(i)
    reasons = [i["reason"]] if "reason" in i else list(i["reasons"])
    got = {r: kp.budget_mapping(cluster, r) for r in reasons}
    out: dict[str, Any] = {
        "mapping_by_reason": {r: dict(m.mapping) for r, m in got.items()},
        "allowed_disruptions_metric": {r: dict(m.allowed_metric) for r, m in got.items()},
        "nodes_consuming_budgets_metric": {r: dict(m.consuming_metric) for r, m in got.items()},
    }
    if "reason" in i:
        out["mapping"] = out["mapping_by_reason"][i["reason"]]
    return out


def _disruption_cost(i: Vector) -> dict[str, Any]:
    pods = [_pod(p) for p in i["pods"]]
    per_pod = [kp.eviction_cost(p.annotations, p.priority) for p in pods]
    expire = _duration(i.get("expire_after"))
    remaining = kp.lifetime_remaining(expire, timedelta(seconds=i.get("age_seconds", 0)))
    resched = kp.rescheduling_cost(per_pod)
    return {
        "per_pod": per_pod,
        "rescheduling_cost": resched,
        "lifetime_remaining": remaining,
        "disruption_cost": resched * remaining,
        "reschedule_disruption_cost": kp.reschedule_disruption_cost(pods),
    }


def _balanced_score(i: Vector) -> dict[str, Any]:
    results = []
    for c in i["calls"]:
        s = kp.score_move(
            c["savings"], c["disruption_cost"], c["total_cost"], c["total_disruption_cost"], c["k"]
        )
        results.append(
            {
                "savings_fraction": s.savings_fraction,
                "disruption_fraction": s.disruption_fraction,
                "score": s.score,
                "threshold": s.threshold,
                "approved": s.approved,
            }
        )
    return {"results": results}


def _candidate_eligibility(i: Vector) -> dict[str, Any]:
    cluster = _cluster(i)
    node = next(n for n in cluster.nodes if n.name == i["node"])
    got = kp.new_candidate(cluster, node, i.get("disruption_class", "graceful"))
    out: dict[str, Any] = {"candidate": got.candidate is not None, "error": got.error}
    if got.candidate is not None:
        out["should_disrupt_emptiness"] = kp.should_disrupt(cluster, got.candidate, "emptiness")
        out["should_disrupt_consolidation"] = kp.should_disrupt(cluster, got.candidate, "single")
        out["should_disrupt_drift"] = kp.should_disrupt(cluster, got.candidate, "drift")
    return out


def _consolidatable_condition(i: Vector) -> dict[str, Any]:
    got = kp.consolidatable_condition(
        now=_time(i["now"]),  # type: ignore[arg-type]
        consolidate_after=_duration(i.get("consolidate_after")),
        initialized=i.get("initialized", "True"),
        initialized_at=_time(i["initialized_at"]),  # type: ignore[arg-type]
        last_pod_event_time=_time(i.get("last_pod_event_time")),
    )
    out: dict[str, Any] = {"is_true": got.is_true, "present": got.present}
    if got.requeue_after is not None:
        out["requeue_after_seconds"] = got.requeue_after.total_seconds()
    return out


def _command_dict(cmd: kp.Command) -> dict[str, Any]:
    return {
        "method": cmd.method,
        "decision": cmd.decision,
        "reason": cmd.reason,
        "consolidation_type": cmd.consolidation_type,
        "candidates": list(cmd.candidate_names),
        "replacements": [
            {
                "nodepool": r.nodepool,
                "instance_types": list(r.instance_types),
                "capacity_type": r.capacity_type,
            }
            for r in cmd.replacements
        ],
    }


def _engine(i: Vector) -> dict[str, Any]:
    """`disruption.Controller.Reconcile` N times (or one method's ComputeCommands), then the counts."""
    cluster = _cluster(i)
    invoke = i.get("invoke") or {"kind": "controller", "reconciles": 1}
    commands: list[kp.Command] = []
    events: list[str] = []
    out: dict[str, Any] = {}
    if invoke["kind"] == "method":
        method = invoke["method"]
        cands = kp.get_candidates(cluster, method)
        reason = {"emptiness": "Empty", "drift": "Drifted"}.get(method, "Underutilized")
        mapping = kp.budget_mapping(cluster, reason)
        result = kp.run_method(cluster, method, cands, mapping.mapping)
        commands.extend(result.commands)
        events.extend(result.events)
        out["marked_consolidated"] = result.marked_consolidated
    else:
        allowed: dict[str, dict[str, int]] = {}
        consuming: dict[str, dict[str, int]] = {}
        eligible: dict[str, int] = {}
        for _ in range(invoke.get("reconciles", 1)):
            r = kp.reconcile(cluster)
            events.extend(r.events)
            eligible.update(r.eligible_nodes)
            for reason, values in r.allowed_disruptions.items():
                allowed.setdefault(reason, {}).update(values)
            for reason, values in r.nodes_consuming_budgets.items():
                consuming.setdefault(reason, {}).update(values)
            if r.command is not None:
                commands.append(r.command)
                cluster = kp.start_command(cluster, r.command)
        out.update(
            allowed_disruptions_metric=allowed,
            nodes_consuming_budgets_metric=consuming,
            eligible_nodes_metric=eligible,
        )
    deleted = [name for c in commands for name in c.candidate_names]
    replacements = sum(len(c.replacements) for c in commands)
    raw_nodes = i.get("nodes", [])
    out.update(
        commands=len(commands),
        command_list=[_command_dict(c) for c in commands],
        deleted=deleted,
        deleted_count=len(deleted),
        replacements=replacements,
        nodeclaims_after=sum(1 for n in raw_nodes if n.get("managed", True)) - len(deleted) + replacements,
        nodes_after=sum(1 for n in raw_nodes if n.get("has_node", True)) - len(deleted) + replacements,
        events=events,
    )
    return out


FUNCTIONS: dict[str, Callable[[Vector], dict[str, Any]]] = {
    "budget_is_active": _budget_is_active,
    "allowed_disruptions": _allowed_disruptions,
    "budget_mapping": _budget_mapping,
    "disruption_cost": _disruption_cost,
    "balanced_score": _balanced_score,
    "candidate_eligibility": _candidate_eligibility,
    "consolidatable_condition": _consolidatable_condition,
    "consolidation_decision": _engine,
    "emptiness": _engine,
    "drift": _engine,
}

# ---------------------------------------------------------------------------------------------
# Matching (karpenter_spec.md section 4)
# ---------------------------------------------------------------------------------------------

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _path(actual: Mapping[str, Any], ref: Any) -> Any:
    """A number, or a path like `per_pod[0]` / `results[1].score` into the actual output."""
    if not isinstance(ref, str):
        return ref
    value: Any = actual
    for name, index in re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", ref):
        value = value[name]
        if index:
            value = value[int(index)]
    return value


def _value_matches(expected: Any, got: Any) -> bool:
    if isinstance(expected, dict) and "approx" in expected:
        return got is not None and abs(got - expected["approx"]) <= expected.get("tol", 0)
    if expected == "+Inf":
        return got == math.inf
    return bool(expected == got)


def _metric(expected: Vector, got: Mapping[str, Mapping[str, int]]) -> str | None:
    reason = expected.get("reason")
    for pool, want in expected["values"].items():
        if reason is not None:
            have = got.get(reason, {}).get(pool)
            if have != want:
                return f"{reason}/{pool}: expected {want}, got {have}"
            continue
        values = [g[pool] for g in got.values() if pool in g]
        if not values or any(v != want for v in values):
            return f"{pool}: expected {want}, got {values}"
    return None


def _check_key(key: str, want: Any, out: Mapping[str, Any], expected: Vector) -> str | None:
    got = out.get(key)
    if key == "error" and "error_contains" in expected:
        return None if out.get("error") else f"error: expected an error, got {got!r}"
    if key == "error_contains":
        text = out.get("error_message") or (out.get("error") if isinstance(out.get("error"), str) else None)
        subs = [want] if isinstance(want, str) else want
        if not text or any(s not in text for s in subs):
            return f"error_contains: expected {want!r}, got {text!r}"
        return None
    if key == "deleted":
        return (
            None
            if set(want) == set(got or [])
            else f"deleted: expected {sorted(want)}, got {sorted(got or [])}"
        )
    if key == "not_deleted":
        bad = set(want) & set(out.get("deleted") or [])
        return f"not_deleted: {sorted(bad)} were deleted" if bad else None
    if key == "commands_at_least":
        return (
            None
            if out["commands"] >= want
            else f"commands_at_least: expected >= {want}, got {out['commands']}"
        )
    if key == "candidates_never_include":
        hit = {n for c in out["command_list"] for n in c["candidates"]} & set(want)
        return f"candidates_never_include: {sorted(hit)} in a command" if hit else None
    if key == "replacement_instance_types":
        reps = [r for c in out["command_list"] for r in c["replacements"]]
        if len(reps) != 1:
            return f"replacement_instance_types: expected one replacement, got {len(reps)}"
        names = set(reps[0]["instance_types"])
        if "count" in want and len(names) != want["count"]:
            return f"replacement_instance_types.count: expected {want['count']}, got {len(names)}"
        missing = set(want.get("includes", [])) - names
        extra = set(want.get("excludes", [])) & names
        if missing or extra:
            return f"replacement_instance_types: missing {sorted(missing)}, unexpected {sorted(extra)}"
        return None
    if key in ("events_contain", "events_not_contain"):
        for sub in want:
            found = any(sub in e for e in out.get("events", []))
            if found != (key == "events_contain"):
                return f"{key}: {sub!r} vs events {out.get('events')}"
        return None
    if key in ("allowed_disruptions_metric", "nodes_consuming_budgets_metric"):
        problem = _metric(want, out.get(key) or {})
        return None if problem is None else f"{key}: {problem}"
    if key == "eligible_nodes_metric":  # the gauge of each named reason, exactly
        have = {r: (out.get(key) or {}).get(r) for r in want}
        return None if have == want else f"{key}: expected {want}, got {have}"
    if key == "command_methods":
        counts: dict[str, int] = {}
        for c in out["command_list"]:
            counts[c["method"]] = counts.get(c["method"], 0) + 1
        return None if counts == want else f"command_methods: expected {want}, got {counts}"
    if key == "decision_metrics":
        for m in want:
            n = sum(
                1
                for c in out["command_list"]
                if c["decision"] == m["decision"]
                and c["reason"].lower() == m["reason"]
                and ("consolidation_type" not in m or c["consolidation_type"] == m["consolidation_type"])
            )
            if n != m["count"]:
                return f"decision_metrics {m}: got {n}"
        return None
    if key == "relations":
        for rel in want:
            lhs, op, rhs = _path(out, rel[0]), rel[1], _path(out, rel[2])
            ok = abs(lhs - rhs) <= (rel[3] if len(rel) > 3 else 1e-9) if op == "~" else _OPS[op](lhs, rhs)
            if not ok:
                return f"relation {rel}: {lhs} {op} {rhs} is false"
        return None
    if key == "results":
        for n, (w, g) in enumerate(zip(want, got or [], strict=False)):
            for k, v in w.items():
                if not _value_matches(v, g.get(k)):
                    return f"results[{n}].{k}: expected {v}, got {g.get(k)}"
        return None if len(want) == len(got or []) else f"results: expected {len(want)}, got {len(got or [])}"
    return None if _value_matches(want, got) else f"{key}: expected {want!r}, got {got!r}"


def check(vector: Vector) -> str | None:
    """None when simkit agrees with every expected key of the vector, else the first disagreement."""
    out = FUNCTIONS[vector["function"]](vector["input"])
    expected = vector["expected"]
    for key, want in expected.items():
        problem = _check_key(key, want, out, expected)
        if problem is not None:
            return problem
    return None
