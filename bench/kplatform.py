"""A platform K times the seed's, for the scaling curve (issue 16 item 1, bench table 5).

`platform(K)` starts from the default scenario (simkit's packaged platform-baseline.yaml, the one
`simkit.load_scenario()` returns) and adds K - 1 copies of the seven application services — with
their PDBs, HPAs, affinity/spread selectors, the routes through them and the queues they consume —
named `<name>-k2` ... `<name>-kK`. Ingress, Kong, Keycloak, Vault and the data stores (PostgreSQL,
RabbitMQ, Redis, on their fixed pools) stay one shared set, as issue 16 counts workloads: 14 at K = 1,
28 at K = 3, 77 at K = 10, 217 at K = 30. The load is K times the seed's (`base_rps` x K), each copy's
routes and queues carrying 1/K of it, so every copy sees the seed's own load; the application pool
and the cluster autoscaler's `nodes` bound may grow to K times their maximum. The result is
deterministic (no randomness; the same K gives the same scenario).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from simkit.scenario.loader import DEFAULT_SCENARIO
from simkit.scenario.model import Scenario

APP_NAMESPACE = "application"  # the seven copied services are the seed's namespace `application`
SCALED_POOL = "application-pool"


def _rename(value: Any, names: dict[str, str]) -> Any:
    """A deep copy of `value` with every string equal to a key of `names` replaced by its value."""
    if isinstance(value, dict):
        return {k: _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def platform_data(k: int) -> dict[str, Any]:
    """The default scenario's YAML document with `k` copies of its application services."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    data: dict[str, Any] = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["name"] = f"{data['name']}-x{k}" if k > 1 else data["name"]
    if k == 1:
        return data
    apps = [w for w in data["workloads"] if w.get("namespace") == APP_NAMESPACE]
    app_names = {w["name"] for w in apps}
    traffic = data["traffic"]
    app_routes = [r for r in traffic["routes"] if any(_service(s) in app_names for s in r["path"])]
    shared_routes = [r for r in traffic["routes"] if r not in app_routes]
    queues = [q for q in traffic.get("queues", []) if q["consumer"] in app_names]
    workloads = list(data["workloads"])
    routes: list[dict[str, Any]] = []
    new_queues: list[dict[str, Any]] = [q for q in traffic.get("queues", []) if q not in queues]
    for copy_no in range(1, k + 1):
        suffix = "" if copy_no == 1 else f"-k{copy_no}"
        names = {n: n + suffix for n in app_names} | {q["name"]: q["name"] + suffix for q in queues}
        if copy_no > 1:
            workloads += [_rename(w, names) for w in apps]
        for r in app_routes:
            routes.append(_rename(r, names) | {"name": r["name"] + suffix, "share": r["share"] / k})
        for q in queues:
            share = q["tasks_per_request"] / k
            new_queues.append(_rename(q, names) | {"name": q["name"] + suffix, "tasks_per_request": share})
    data["workloads"] = workloads
    traffic["routes"] = routes + shared_routes
    traffic["queues"] = new_queues
    traffic["load"]["base_rps"] = traffic["load"]["base_rps"] * k
    _scale_pool(data, k)
    _broker_queues(data, {q["name"] for q in queues}, [q["name"] for q in new_queues])
    return data


def _service(step: Any) -> str:
    return step["service"] if isinstance(step, dict) else str(step)


def _scale_pool(data: dict[str, Any], k: int) -> None:
    """The application pool and the autoscaler's `min:max:pool` bound may grow k-fold."""
    for pool in data["cluster"]["node_pools"]:
        if pool["name"] == SCALED_POOL:
            pool["max_nodes"] = pool["max_nodes"] * k
    ca = data["cluster"].get("cluster_autoscaler") or {}
    bounds = []
    for spec in ca.get("nodes", []):
        m = re.fullmatch(r"(\d+):(\d+):(.+)", spec)
        if m and m.group(3) == SCALED_POOL:
            spec = f"{m.group(1)}:{int(m.group(2)) * k}:{m.group(3)}"
        bounds.append(spec)
    if bounds:
        ca["nodes"] = bounds


def _broker_queues(data: dict[str, Any], copied: set[str], all_queues: list[str]) -> None:
    """A RabbitMQ quorum fault brokers every copy of the queues it brokered."""
    for fault in (data.get("faults") or {}).get("data_layer", []):
        broker = fault.get("broker_for")
        if broker and copied & set(broker):
            fault["broker_for"] = [q for q in all_queues if q in broker or q.rsplit("-k", 1)[0] in broker]


def platform(k: int) -> Scenario:
    """The validated scenario K times the seed platform (see the module docstring)."""
    return Scenario.model_validate(platform_data(k))


def workload_count(k: int) -> int:
    """How many workloads `platform(k)` has (issue 16's table: 14, 28, 77, 217 for 1, 3, 10, 30)."""
    return len(platform(k).workloads)
