"""Adapter between Kubernetes' rollout/PDB/eviction vectors (shared/reference/rollout_vectors.json,
defined by rollout_spec.md) and simkit.control.{deployment,disruption,statefulset}.

`check(vector) -> str | None` runs one vector through simkit and returns None when every key of
`expected` (and of `unasserted_expected`, values the Go test declares but never checks) matches,
else "key: expected X, got Y". A key ending in `_contains` is a substring check (None: no error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simkit.control import disruption as pdbs
from simkit.control.deployment import (
    Condition,
    Deployment,
    DeploymentStatus,
    IntOrStringError,
    ReplicaSet,
    cleanup_deployment,
    cleanup_unhealthy_replicas,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    max_unavailable,
    min_available,
    new_rs_new_replicas,
    nonneg_int32_annotation,
    proportional_scale,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    replica_set_fraction,
    requeue_stuck_deployment,
    resolve_fenceposts,
    rollout_status,
    scale_down_old_replica_sets,
    terminating_replica_count,
)
from simkit.control.deployment.util import actual_replica_count, filter_active, replica_count
from simkit.control.statefulset import statefulset_max_unavailable

Vector = Mapping[str, Any]

# ---------------------------------------------------------------------------------------------
# Conversions from the vector schema (rollout_spec.md "Conventions"; missing keys = 0 / [] / null)
# ---------------------------------------------------------------------------------------------


def _cond(raw: Vector) -> Condition:
    return Condition(
        type=raw["type"],
        status=raw["status"],
        reason=raw.get("reason", ""),
        last_update_time=raw.get("last_update_time"),
        last_transition_time=raw.get("last_transition_time"),
    )


def _status(raw: Vector | None) -> DeploymentStatus:
    raw = raw or {}
    return DeploymentStatus(
        replicas=raw.get("replicas", 0),
        updated_replicas=raw.get("updated_replicas", 0),
        ready_replicas=raw.get("ready_replicas", 0),
        available_replicas=raw.get("available_replicas", 0),
        observed_generation=raw.get("observed_generation", 0),
        conditions=tuple(_cond(c) for c in raw.get("conditions", [])),
    )


def _deployment(raw: Vector) -> Deployment:
    return Deployment(
        name=raw.get("name", "foo"),
        replicas=raw.get("replicas", 0),
        strategy=raw.get("strategy", "RollingUpdate"),
        max_surge=raw.get("max_surge"),
        max_unavailable=raw.get("max_unavailable"),
        generation=raw.get("generation", 0),
        progress_deadline_seconds=raw.get("progress_deadline_seconds"),
        revision_history_limit=raw.get("revision_history_limit"),
        status=_status(raw.get("status")),
    )


def _rs(raw: Vector) -> ReplicaSet:
    return ReplicaSet(
        name=raw.get("name", ""),
        replicas=raw.get("replicas", 0),
        created=raw.get("created", 0),
        status_replicas=raw.get("status_replicas", 0),
        ready_replicas=raw.get("ready_replicas", 0),
        available_replicas=raw.get("available_replicas", 0),
        terminating_replicas=raw.get("terminating_replicas"),
        annotations=dict(raw.get("annotations") or {}),
        generation=raw.get("generation", 0),
        observed_generation=raw.get("observed_generation", 0),
        deletion_timestamp=raw.get("deletion_timestamp"),
    )


def _rss(raw: list[Vector]) -> list[ReplicaSet]:
    return [_rs(r) for r in raw]


def _named(rss: list[ReplicaSet], name: str) -> ReplicaSet:
    return next(rs for rs in rss if rs.name == name)


def _selector(raw: Vector | None) -> pdbs.LabelSelector | None:
    if raw is None:
        return None
    exprs = tuple(
        pdbs.SelectorRequirement(e["key"], e["operator"], tuple(e.get("values") or ()))
        for e in raw.get("match_expressions") or ()
    )
    return pdbs.LabelSelector(dict(raw.get("match_labels") or {}), exprs)


def _owner(raw: Vector) -> pdbs.OwnerReference:
    return pdbs.OwnerReference(
        raw.get("api_version") or "",
        raw["kind"],
        raw.get("name", ""),
        raw.get("uid", ""),
        bool(raw.get("controller")),
    )


def _pod(raw: Vector) -> pdbs.Pod:
    return pdbs.Pod(
        name=raw["name"],
        namespace=raw.get("namespace", "default"),
        labels=dict(raw.get("labels") or {}),
        phase=raw.get("phase") or "Running",
        ready=bool(raw.get("ready", False)),
        deletion_timestamp=raw.get("deletion_timestamp"),
        owner_references=tuple(_owner(o) for o in raw.get("owner_references") or ()),
        conditions=tuple(
            pdbs.PodCondition(c["type"], c["status"], c.get("reason", ""), c.get("last_transition_time"))
            for c in raw.get("conditions") or ()
        ),
    )


def _workload(raw: Vector) -> pdbs.Workload:
    return pdbs.Workload(
        kind=raw["kind"],
        name=raw["name"],
        uid=raw["uid"],
        replicas=raw.get("replicas", 0),
        namespace=raw.get("namespace", "default"),
        owner_references=tuple(_owner(o) for o in raw.get("owner_references") or ()),
    )


def _pdb_status(raw: Vector | None) -> pdbs.PDBStatus:
    raw = raw or {}
    return pdbs.PDBStatus(
        disruptions_allowed=raw.get("disruptions_allowed", 0),
        current_healthy=raw.get("current_healthy", 0),
        desired_healthy=raw.get("desired_healthy", 0),
        expected_pods=raw.get("expected_pods", 0),
        disrupted_pods=dict(raw.get("disrupted_pods") or {}),
        observed_generation=raw.get("observed_generation", 0),
        conditions=tuple(
            pdbs.PDBCondition(c["type"], c["status"], c.get("reason", ""), c.get("message", ""))
            for c in raw.get("conditions") or ()
        ),
    )


def _pdb(raw: Vector) -> pdbs.PodDisruptionBudget:
    return pdbs.PodDisruptionBudget(
        name=raw["name"],
        namespace=raw.get("namespace", "default"),
        min_available=raw.get("min_available"),
        max_unavailable=raw.get("max_unavailable"),
        selector=_selector(raw.get("selector")),
        generation=raw.get("generation", 0),
        unhealthy_pod_eviction_policy=raw.get("unhealthy_pod_eviction_policy"),
        status=_pdb_status(raw.get("status")),
    )


# ---------------------------------------------------------------------------------------------
# One runner per function: vector input -> output dict
# ---------------------------------------------------------------------------------------------


def _resolve_fenceposts(inp: Vector) -> dict[str, Any]:
    try:
        surge, unavailable = resolve_fenceposts(inp["max_surge"], inp["max_unavailable"], inp["desired"])
    except IntOrStringError:
        return {"max_surge": 0, "max_unavailable": 0, "error": True}
    return {"max_surge": surge, "max_unavailable": unavailable, "error": False}


def _reconcile_new(inp: Vector) -> dict[str, Any]:
    rss = _rss(inp["all_rss"])
    result = reconcile_new_replica_set(_deployment(inp["deployment"]), rss, _named(rss, inp["new_rs"]))
    return {"scaled": result.scaled, "new_replicas": result.replica_sets[0].replicas}


def _reconcile_old(inp: Vector) -> dict[str, Any]:
    rss = _rss(inp["all_rss"])
    old = filter_active(_named(rss, n) for n in inp["old_rss"])
    result = reconcile_old_replica_sets(_deployment(inp["deployment"]), rss, old, _named(rss, inp["new_rs"]))
    out: dict[str, Any] = {"scaled": result.scaled}
    if len(inp["old_rss"]) == 1:
        name = inp["old_rss"][0]
        out["old_replicas"] = next((rs.replicas for rs in result.replica_sets if rs.name == name), None)
    return out


def _scale_down_old(inp: Vector) -> dict[str, Any]:
    rss = _rss(inp["all_rss"])
    old = [_named(rss, n) for n in inp["old_rss"]]
    result = scale_down_old_replica_sets(rss, old, _deployment(inp["deployment"]))
    out: dict[str, Any] = {"scaled": result.scaled}
    if len(old) == 1:
        out["old_replicas"] = result.replica_sets[0].replicas
    return out


def _proportional(inp: Vector) -> dict[str, Any]:
    new = _rs(inp["new_rs"]) if inp.get("new_rs") else None
    result = proportional_scale(_deployment(inp["deployment"]), new, _rss(inp["old_rss"]))
    return {"replicas": {rs.name: rs.replicas for rs in result.replica_sets}}


def _sync_rollout_status(inp: Vector) -> dict[str, Any]:
    rss = _rss(inp["all_rss"])
    new = _named(rss, inp["new_rs"]) if inp.get("new_rs") else None
    status = rollout_status(_deployment(inp["deployment"]), rss, new, float(inp["now"]))
    cond = status.condition("Progressing")
    return {"progressing_condition": None if cond is None else {"status": cond.status, "reason": cond.reason}}


def _requeue(inp: Vector) -> dict[str, Any]:
    after = requeue_stuck_deployment(
        _deployment(inp["deployment"]), _status(inp["new_status"]), float(inp["now"])
    )
    if after is None:
        return {"requeue": "never"}
    if after == 0:
        return {"requeue": "now"}
    return {"requeue": "after", "after_seconds": after}


def _replica_counts(inp: Vector) -> dict[str, Any]:
    rss = _rss(inp["replica_sets"])
    return {
        "replica_count": replica_count(rss),
        "actual_replica_count": actual_replica_count(rss),
        "terminating_replica_count": terminating_replica_count(rss),
    }


def _pdb_status_run(inp: Vector) -> dict[str, Any]:
    scales = [
        pdbs.ScaleResource(s["api_version"], s["kind"], s["uid"], s["replicas"], s.get("name"))
        for s in inp.get("scale_resources") or ()
    ]
    result = pdbs.pdb_status(
        _pdb(inp["pdb"]),
        [_pod(p) for p in inp.get("pods") or ()],
        [_workload(w) for w in inp.get("workloads") or ()],
        scales,
        now=float(inp["now"]),
    )
    st = result.pdb.status
    cond = st.condition(pdbs.DISRUPTION_ALLOWED)
    return {
        "disruptions_allowed": st.disruptions_allowed,
        "current_healthy": st.current_healthy,
        "desired_healthy": st.desired_healthy,
        "expected_pods": st.expected_pods,
        "disrupted_pods": dict(st.disrupted_pods),
        "disruption_allowed_condition_status": None if cond is None else cond.status,
        "sync_failed": result.sync_failed,
        "unmanaged_pods": list(result.unmanaged_pods),
        "condition_types": [c.type for c in st.conditions],
    }


def _controller_scale(inp: Vector) -> dict[str, Any]:
    found = pdbs.find_controller_scale(
        inp["finder"],
        _owner({**inp["controller_ref"], "controller": True}),
        [_workload(w) for w in inp["workloads"]],
    )
    if found is None:
        return {"found": False}
    return {"found": True, "scale": found.scale, "uid": found.uid}


def _stale(inp: Vector) -> dict[str, Any]:
    pod = _pod({"name": "pod", **inp["pod"]})
    after, _ = pdbs.stale_disruption_condition(
        pod, float(inp["now"]), float(inp.get("stale_pod_disruption_timeout_seconds", 120))
    )
    cond = next((c for c in after.conditions if c.type == "DisruptionTarget"), None)
    return {"disruption_target_status": None if cond is None else cond.status}


def _eviction(inp: Vector) -> dict[str, Any]:
    result = pdbs.evict(
        _pod(inp["pod"]),
        [_pdb(p) for p in inp.get("pdbs") or ()],
        now=0.0,
        eviction_name=inp["eviction_name"],
        url_name=inp["url_name"],
        dry_run=bool(inp.get("dry_run")),
    )
    out: dict[str, Any] = {
        "outcome": result.outcome,
        "http_code": result.http_code,
        "error_string": result.error_string,
        "delete_calls": result.delete_calls,
    }
    if result.pdb is not None:
        cond = result.pdb.status.condition(pdbs.DISRUPTION_ALLOWED)
        out["pdb_disruptions_allowed_after"] = result.pdb.status.disruptions_allowed
        out["pdb_condition_reason_after"] = None if cond is None else cond.reason
    return out


def _nonneg(inp: Vector) -> dict[str, Any]:
    parsed = nonneg_int32_annotation(inp.get("annotations"), inp["key"])
    return {"value": parsed.value, "valid": parsed.valid, "error": parsed.error}


def _d(inp: Vector) -> Deployment:
    return _deployment(inp["deployment"])


RUNNERS: dict[str, Callable[[Vector], dict[str, Any]]] = {
    "resolve_fenceposts": _resolve_fenceposts,
    "max_unavailable": lambda i: {"max_unavailable": max_unavailable(_d(i))},
    "min_available": lambda i: {"min_available": min_available(_d(i))},
    "new_rs_new_replicas": lambda i: {
        "new_replicas": new_rs_new_replicas(_d(i), _rss(i["all_rss"]), _rs(i["new_rs"]))
    },
    "reconcile_new_replica_set": _reconcile_new,
    "reconcile_old_replica_sets": _reconcile_old,
    "cleanup_unhealthy_replicas": lambda i: {
        "cleanup_count": cleanup_unhealthy_replicas(_rss(i["old_rss"]), _d(i), i["max_cleanup_count"]).count
    },
    "scale_down_old_replica_sets": _scale_down_old,
    "cleanup_deployment": lambda i: {
        "deleted": sorted(cleanup_deployment(_d(i), _rss(i["old_rss"]))),
        "deleted_count": len(cleanup_deployment(_d(i), _rss(i["old_rss"]))),
    },
    "proportional_scale": _proportional,
    "replica_set_fraction": lambda i: {"fraction": replica_set_fraction(_d(i), _rs(i["rs"]))},
    "sync_rollout_status": _sync_rollout_status,
    "deployment_complete": lambda i: {"complete": deployment_complete(_d(i), _status(i["new_status"]))},
    "deployment_progressing": lambda i: {
        "progressing": deployment_progressing(_status(i["old_status"]), _status(i["new_status"]))
    },
    "deployment_timed_out": lambda i: {
        "timed_out": deployment_timed_out(_d(i), _status(i["new_status"]), float(i["now"]))
    },
    "requeue_stuck_deployment": _requeue,
    "replica_counts": _replica_counts,
    "nonneg_int32_annotation": _nonneg,
    "statefulset_max_unavailable": lambda i: {
        "max_unavailable": statefulset_max_unavailable(i["max_unavailable"], i["replicas"])
    },
    "pdb_status": _pdb_status_run,
    "pdb_controller_scale": _controller_scale,
    "stale_disruption_condition": _stale,
    "eviction": _eviction,
}


def _compare(expected: Mapping[str, Any], got: Mapping[str, Any], label: str) -> list[str]:
    problems = []
    for key, want in expected.items():
        if key.endswith("_contains"):
            base = key[: -len("_contains")]
            have = got.get(base, "<missing>")
            ok = have is None if want is None else isinstance(have, str) and want in have
            if not ok:
                problems.append(f"{label}{base}: expected to contain {want!r}, got {have!r}")
        elif key not in got:
            problems.append(f"{label}{key}: expected {want!r}, got nothing")
        elif got[key] != want:
            problems.append(f"{label}{key}: expected {want!r}, got {got[key]!r}")
    return problems


def check(vector: Vector) -> str | None:
    """None when simkit agrees with the vector (asserted and unasserted values), else what differs."""
    runner = RUNNERS.get(vector["function"])
    if runner is None:
        return f"no runner for function {vector['function']!r}"
    got = runner(vector["input"])
    problems = _compare(vector["expected"], got, "")
    problems += _compare(vector.get("unasserted_expected") or {}, got, "unasserted ")
    return "; ".join(problems) or None
