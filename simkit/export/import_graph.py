"""The call graph of imported manifests -> routes and a load, each guess stated with the field it came from.

A container's environment variables and arguments name the Services it calls, either as `host:port`
(`PRODUCT_CATALOG_SERVICE_ADDR: productcatalogservice:3550`), as a URL (`http://carts.shop.svc.cluster.local/`)
or as the bare host (`DB_HOST: orders-db`); a Service's selector gives the workloads behind it.
Clients are not servers: Jobs, CronJobs and load generators (Locust, k6, JMeter... by name or image,
or a `USERS`/`RPS` variable) send the load, and what they call is where requests enter. Services of
type LoadBalancer/NodePort, Ingress backends and Istio VirtualServices bound to a gateway are entry
points too. A server nobody references is assumed called by a workload whose name it extends
(`carts-db` by `carts`), else by the main entry point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simkit.export.manifests import Doc

CLIENT_KINDS = ("Job", "CronJob")
_LOADGEN = re.compile(
    r"load-?gen|locust|\bk6\b|jmeter|gatling|vegeta|artillery|\bwrk\b|\bhey\b", re.IGNORECASE
)
_REF = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?:[^\s/@]+@)?"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*)(?::(?P<port>\d+))?",
    re.IGNORECASE,
)
USERS_VARS = ("USERS", "LOCUST_USERS", "VUS", "K6_VUS")
RATE_VARS = ("RPS", "QPS", "REQUESTS_PER_SECOND", "TARGET_RPS")
ADDRESS_VARS = ("ADDR", "ADDRESS", "HOST", "URL", "URI", "ENDPOINT")
REQUESTS_PER_USER_S = 1.0  # assumed: a load generator's think time is in its image, not its manifest


@dataclass
class Graph:
    """Who calls whom, where requests enter (with weights) and the load the clients send."""

    edges: dict[str, list[str]] = field(default_factory=dict)
    entries: dict[str, float] = field(default_factory=dict)
    clients: list[str] = field(default_factory=list)
    rps: float | None = None
    notes: list[str] = field(default_factory=list)


def pod_spec_of(doc: Doc) -> dict[str, Any]:
    """The pod template spec of a Deployment/StatefulSet/DaemonSet/Job/CronJob."""
    spec = doc.obj.get("spec") or {}
    if doc.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) if isinstance(spec, dict) else None
    return pod if isinstance(pod, dict) else {}


def pod_labels_of(doc: Doc) -> dict[str, str]:
    spec = doc.obj.get("spec") or {}
    if doc.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _words(doc: Doc) -> Iterable[tuple[str, str, str]]:
    """(field path, env name or '', text) of every env value and argument of the pod's containers."""
    for i, c in enumerate(pod_spec_of(doc).get("containers") or []):
        if not isinstance(c, dict):
            continue
        for e in c.get("env") or []:
            if isinstance(e, dict) and isinstance(e.get("value"), str | int):
                yield f"containers[{i}].env.{e.get('name')}", str(e.get("name")), str(e["value"])
        for key in ("command", "args"):
            for j, arg in enumerate(c.get(key) or []):
                yield f"containers[{i}].{key}[{j}]", "", str(arg)


def _env(doc: Doc) -> dict[str, str]:
    return {name: text for _, name, text in _words(doc) if name}


def _service_host(match: re.Match[str], text: str, services: set[str]) -> str | None:
    """The Service a token names, if it is one: `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`."""
    host = match.group("host").lower()
    name, _, rest = host.partition(".")
    if name not in services:
        return None
    dns = rest == "" or rest.count(".") == 0 or ".svc" in f".{rest}"
    explicit = match.group("port") or match.group("scheme") or ".svc" in f".{rest}" or text.strip() == host
    return name if dns and explicit else None


class _Backends:
    """Service name -> the workloads its selector picks (same namespace), or the workload of that name."""

    def __init__(self, services: list[Doc], workloads: dict[str, Doc]) -> None:
        self.by_service: dict[str, list[str]] = {}
        self.exposed: list[tuple[str, str]] = []  # (workload, why)
        for svc in services:
            spec = svc.obj.get("spec") or {}
            selector = spec.get("selector") or {}
            if not isinstance(selector, dict) or not selector:
                continue
            hits = [
                n
                for n, d in workloads.items()
                if (svc.namespace or "default") == (d.namespace or "default")
                and all(pod_labels_of(d).get(str(k)) == str(v) for k, v in selector.items())
            ]
            self.by_service.setdefault(svc.name, [])
            self.by_service[svc.name] += [h for h in hits if h not in self.by_service[svc.name]]
            if spec.get("type") in ("LoadBalancer", "NodePort"):
                self.exposed += [
                    (h, f"{svc.where} Service/{svc.name} spec.type {spec['type']}") for h in hits
                ]
        for name in workloads:
            self.by_service.setdefault(name, [name])

    def names(self) -> set[str]:
        return set(self.by_service)


def _is_client(doc: Doc) -> str | None:
    """Why `doc` is a client (a load source), or None."""
    if doc.kind in CLIENT_KINDS:
        return f"kind {doc.kind}"
    env = _env(doc)
    for var in USERS_VARS + RATE_VARS:
        if var in env:
            return f"env {var}"
    images = " ".join(
        str(c.get("image", "")) for c in pod_spec_of(doc).get("containers") or [] if isinstance(c, dict)
    )
    if _LOADGEN.search(doc.name) or _LOADGEN.search(images):
        return "its name/image (a load generator)"
    return None


def _load(doc: Doc, notes: list[str]) -> float | None:
    env = _env(doc)
    for var in RATE_VARS:
        if var in env:
            try:
                rps = float(env[var])
            except ValueError:
                continue
            notes.append(f"{doc.where} ({doc.kind}/{doc.name}): load {rps:g} req/s from env {var}")
            return rps
    for var in USERS_VARS:
        if var in env:
            try:
                users = float(env[var])
            except ValueError:
                continue
            rps = users * REQUESTS_PER_USER_S
            rate = (
                f"; RATE={env['RATE']} is the spawn rate (users/s), not a request rate"
                if "RATE" in env
                else ""
            )
            notes.append(
                f"{doc.where} ({doc.kind}/{doc.name}): load {rps:g} req/s from env {var}={env[var]} "
                f"(concurrent users x {REQUESTS_PER_USER_S:g} request/s each, assumed){rate}"
            )
            return rps
    return None


def _ingress_entries(doc: Doc) -> list[tuple[str, float]]:
    spec = doc.obj.get("spec") or {}
    out: list[tuple[str, float]] = []
    if doc.kind == "Ingress":
        backends = [((spec.get("defaultBackend") or {}).get("service") or {}).get("name")]
        for rule in spec.get("rules") or []:
            for p in ((rule or {}).get("http") or {}).get("paths") or []:
                backends.append((((p or {}).get("backend") or {}).get("service") or {}).get("name"))
        out = [(str(b), 1.0) for b in backends if b]
    elif doc.kind == "VirtualService" and [g for g in spec.get("gateways") or [] if g != "mesh"]:
        for http in spec.get("http") or []:
            for r in (http or {}).get("route") or []:
                host = str(((r or {}).get("destination") or {}).get("host") or "").split(".")[0]
                if host:
                    out.append((host, float((r or {}).get("weight") or 100) / 100))
    return out


def infer_graph(workloads: dict[str, Doc], services: list[Doc], others: list[Doc]) -> Graph:
    """The call graph of the imported workloads (name -> document), with one note per inference."""
    g = Graph()
    backends = _Backends(services, workloads)
    names = backends.names()
    callers = {**workloads, **{f"{d.kind.lower()}/{d.name}": d for d in others if d.kind in CLIENT_KINDS}}
    client_targets: dict[str, float] = {}
    loads: list[float] = []
    for caller, doc in callers.items():
        why = _is_client(doc)
        if why:
            g.clients.append(caller)
            g.notes.append(
                f"{doc.where} ({doc.kind}/{doc.name}): a client, not a server ({why}): no route of its own"
            )
            rps = _load(doc, g.notes)
            if rps is not None:
                loads.append(rps)
        for path, env_name, text in _words(doc):
            for m in _REF.finditer(text):
                svc = _service_host(m, text, names)
                if svc is None:
                    if env_name.upper().endswith(ADDRESS_VARS) and (m.group("port") or m.group("scheme")):
                        g.notes.append(
                            f"{doc.where}: {path}={text!r} names {m.group('host')}, "
                            "no imported Service: dropped"
                        )
                    continue
                for target in backends.by_service.get(svc, []):
                    if target == caller:
                        continue
                    if why:
                        client_targets[target] = client_targets.get(target, 0.0) + 1.0
                        g.notes.append(f"{doc.where}: requests enter at {target} (client {doc.name}, {path})")
                    elif target not in g.edges.setdefault(caller, []):
                        g.edges[caller].append(target)
                        g.notes.append(f"{doc.where}: {caller} calls {target} (from {path}={text!r})")
                if not backends.by_service.get(svc):
                    g.notes.append(
                        f"{doc.where}: {path} names Service {svc}, "
                        "which selects no imported workload: dropped"
                    )
    servers = [n for n in workloads if n not in g.clients]
    entries: dict[str, float] = {t: w for t, w in client_targets.items() if t in servers}
    for target, why in backends.exposed:
        if target in servers and target not in entries:
            entries[target] = 1.0
            g.notes.append(f"requests enter at {target} (exposed: {why})")
    for doc in others:
        for svc, weight in _ingress_entries(doc):
            for target in backends.by_service.get(svc, []):
                if target in servers:
                    entries[target] = entries.get(target, 0.0) + weight
                    g.notes.append(f"{doc.where} ({doc.kind}/{doc.name}): requests enter at {target}")
    called = {t for ts in g.edges.values() for t in ts}
    if not entries:
        entries = {n: 1.0 for n in servers if n not in called} or {n: 1.0 for n in servers}
        g.notes.append(
            f"no client, LoadBalancer, Ingress or gateway: requests assumed to enter at {', '.join(entries)}"
        )
    _attach_orphans(g, servers, entries)
    total = sum(entries.values())
    g.entries = {k: v / total for k, v in entries.items()}
    g.rps = sum(loads) if loads else None
    return g


def _reached(g: Graph, entries: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(entries)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(g.edges.get(n, []))
    return seen


def _attach_orphans(g: Graph, servers: list[str], entries: dict[str, float]) -> None:
    """Servers no entry reaches: called by the workload whose name they extend, else by the main entry."""
    main = max(entries, key=lambda e: entries[e])
    called = {t for ts in g.edges.values() for t in ts}
    for n in servers:
        if n in entries or n in called:
            continue
        owner = max((o for o in servers if o != n and n.startswith(o + "-")), key=len, default=None)
        if owner is not None:
            g.edges.setdefault(owner, []).append(n)
            g.notes.append(f"{n}: no reference found; assumed called by {owner} (its name extends {owner!r})")
    reached = _reached(g, entries)
    for n in servers:
        if n not in reached and n not in {t for ts in g.edges.values() for t in ts}:
            g.edges.setdefault(main, []).append(n)
            g.notes.append(f"{n}: no reference found; assumed called by the entry point {main}")
            reached = _reached(g, entries)


def _dfs(g: Graph, start: str, seen: set[str]) -> list[str]:
    out = [start]
    seen.add(start)
    for nxt in g.edges.get(start, []):
        if nxt not in seen:
            out += _dfs(g, nxt, seen)
    return out


def routes(g: Graph) -> list[dict[str, Any]]:
    """One route per (entry, direct dependency): the entry, then that dependency's subtree, depth first.

    Shares: the entries' weights, split equally among each entry's dependencies (assumed); they add to 1.
    """
    out: list[dict[str, Any]] = []
    for entry, weight in g.entries.items():
        deps = g.edges.get(entry, [])
        if not deps:
            out.append({"name": entry, "share": weight, "path": [entry]})
            continue
        for dep in deps:
            out.append(
                {
                    "name": f"{entry}-{dep}",
                    "share": weight / len(deps),
                    "path": [entry, *_dfs(g, dep, {entry})],
                }
            )
    for r in out:
        r["share"] = round(r["share"], 9)
    out[-1]["share"] = round(1 - sum(r["share"] for r in out[:-1]), 9)
    return out
