"""The scenario: a cluster, its workloads, the traffic they serve, the targets, and how to simulate.

simkit's own fields are snake_case; anything that mirrors a Kubernetes object (resources, probes,
tolerations, affinity, topologySpreadConstraints, PDB and HPA specs) keeps Kubernetes' camelCase
names so values can be pasted from real manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_serializer, model_validator

from simkit.catalog.catalog import load_catalog
from simkit.control.ca.flags import CAFlags
from simkit.control.hpa.config import hpa_controller_config
from simkit.control.hpa.spec import hpa_spec_from_k8s
from simkit.control.hpa.types import HPAControllerConfig
from simkit.scenario.base import CPU, Duration, Memory, PathError, Seed, StrictModel
from simkit.scenario.cost import CostSpec
from simkit.scenario.dr import DRSpec
from simkit.scenario.faults import Faults, SpotReclaim, SpotShortage, outage_zone_error
from simkit.scenario.k8s import (
    AffinitySpec,
    EnvVar,
    HPASpecModel,
    PDBSpec,
    ProbeSpec,
    Resources,
    TaintSpec,
    TolerationSpec,
    TopologySpreadConstraintSpec,
)
from simkit.scenario.karpenter import (
    KarpenterNodePool,
    NodePoolChange,
    check_nodepool_changes,
    check_nodepools,
)
from simkit.scenario.load import LoadProfile
from simkit.scenario.plans import Plan, check_plan_references
from simkit.scenario.slos import RouteObjective, SLOs

_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _dns_name(value: str) -> str:
    if len(value) > 63 or not _DNS1123.match(value):
        raise ValueError(
            f"must be a DNS-1123 label (lower-case letters, digits and '-', at most 63), got {value!r}"
        )
    return value


class NodePool(StrictModel):
    """A node group: one instance type and capacity type, spread over the cluster's zones."""

    name: str
    instance_type: str
    capacity_type: Literal["spot", "on-demand"] = "on-demand"
    min_nodes: int = Field(ge=0)
    max_nodes: int = Field(ge=0)
    initial_nodes: int | None = Field(default=None, ge=0)
    zones: list[str] | None = None
    labels: dict[str, str] = {}
    taints: list[TaintSpec] = []
    max_pods: int | None = Field(default=None, ge=1)
    autoscaling: bool = True

    _name = field_validator("name")(_dns_name)

    @field_validator("max_nodes")
    @classmethod
    def _max_ge_min(cls, v: int, info: Any) -> int:
        lo = info.data.get("min_nodes")
        if lo is not None and v < lo:
            raise ValueError(f"must be >= min_nodes ({lo}), got {v}")
        return v

    @field_validator("initial_nodes")
    @classmethod
    def _initial_in_range(cls, v: int | None, info: Any) -> int | None:
        lo, hi = info.data.get("min_nodes"), info.data.get("max_nodes")
        if v is not None and lo is not None and hi is not None and not lo <= v <= hi:
            raise ValueError(f"must be within [min_nodes, max_nodes] = [{lo}, {hi}], got {v}")
        return v

    @property
    def start_nodes(self) -> int:
        return self.min_nodes if self.initial_nodes is None else self.initial_nodes


# What the custom metrics API serves (prometheus-adapter rules, in a real cluster), by metric name.
# The one signal the engine measures for Pods and Object metrics is the request rate (req/s):
# per pod for a Pods metric, in total for an Object metric's Service / Deployment / StatefulSet
# (the workload of that name) or Ingress (the route of that name). Defaults: the name
# prometheus-adapter's documented rule derives from `http_requests_total`, and the Object metric of
# the Kubernetes HPA walkthrough.
MetricSignal = Literal["requests_per_second"]
DEFAULT_METRICS_ADAPTER: dict[str, MetricSignal] = {
    "http_requests_per_second": "requests_per_second",
    "requests-per-second": "requests_per_second",
}
WORKLOAD_KINDS = ("Service", "Deployment", "StatefulSet")  # describedObject kinds naming a workload


@dataclass(frozen=True)
class _ParsedFlags:
    """The typed flags of a `Cluster` and the mappings they were parsed from."""

    ca_source: dict[str, Any] | None
    kcm_source: dict[str, Any]
    ca: CAFlags | None
    hpa: HPAControllerConfig

    @classmethod
    def of(cls, ca: dict[str, Any] | None, kcm: dict[str, Any]) -> _ParsedFlags:
        """Parse both flag mappings; a bad flag is reported at its field."""
        try:
            ca_flags = None if ca is None else CAFlags.from_mapping(ca)
        except ValueError as exc:
            raise _PathError(("cluster_autoscaler",), str(exc)) from None
        try:
            hpa = hpa_controller_config(kcm)
        except ValueError as exc:
            raise _PathError(("controller_manager",), str(exc)) from None
        return cls(ca, kcm, ca_flags, hpa)

    def parsed_from(self, ca: dict[str, Any] | None, kcm: dict[str, Any]) -> bool:
        return self.ca_source is ca and self.kcm_source is kcm


class Cluster(StrictModel):
    provider: Literal["aws", "azure", "gcp"]
    region: str
    zones: list[str] = Field(min_length=1)
    kubernetes_version: str = "1.31"
    node_pools: list[NodePool] = Field(min_length=1)
    cluster_autoscaler: dict[str, Any] | None = None  # real flag names, e.g. scale-down-unneeded-time: 5m
    controller_manager: dict[str, Any] = {}  # kube-controller-manager HPA flags, e.g. horizontal-pod-...
    metrics_adapter: dict[str, MetricSignal] = Field(default_factory=lambda: dict(DEFAULT_METRICS_ADAPTER))
    node_provisioner: Literal["cluster-autoscaler", "karpenter"] = "cluster-autoscaler"
    nodepools: list[KarpenterNodePool] = []  # Karpenter v1 NodePools (scenario/karpenter.py)
    nodepool_changes: list[NodePoolChange] = []  # NodePool edits at a time (drift)

    _flags: _ParsedFlags | None = PrivateAttr(default=None)

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> Any:
        """Without Karpenter the dump (and so the scenario hash) is what it was before these fields."""
        out = handler(self)
        if isinstance(out, dict) and self.node_provisioner == "cluster-autoscaler" and not self.nodepools:
            out.pop("node_provisioner", None)
            out.pop("nodepools", None)
        if isinstance(out, dict) and not self.nodepool_changes:
            out.pop("nodepool_changes", None)
        return out

    @model_validator(mode="after")
    def _parse_flags(self) -> Cluster:
        """Parse the cluster autoscaler's and kube-controller-manager's flags, once, at validation."""
        self._flags = _ParsedFlags.of(self.cluster_autoscaler, self.controller_manager)
        return self

    @property
    def ca_flags(self) -> CAFlags | None:
        """The cluster autoscaler's typed flags (None: no cluster autoscaler runs)."""
        return self._parsed().ca

    @property
    def hpa_config(self) -> HPAControllerConfig:
        """kube-controller-manager's HPA settings, typed (Kubernetes' defaults where not set)."""
        return self._parsed().hpa

    def _parsed(self) -> _ParsedFlags:
        flags = self._flags
        if flags is None or not flags.parsed_from(self.cluster_autoscaler, self.controller_manager):
            # a copy made with model_copy(update=...) skips validation: parse what it holds now
            flags = self._flags = _ParsedFlags.of(self.cluster_autoscaler, self.controller_manager)
        return flags

    @model_validator(mode="after")
    def _pools_consistent(self) -> Cluster:
        names = [p.name for p in self.node_pools]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"node pool names must be unique, {sorted(dup)[0]!r} appears twice")
        for i, pool in enumerate(self.node_pools):
            for zone in pool.zones or []:
                if zone not in self.zones:
                    raise _PathError(
                        ("node_pools", i, "zones"), f"zone {zone!r} is not one of the cluster's {self.zones}"
                    )
        if self.node_provisioner == "karpenter" and not self.nodepools:
            raise _PathError(("nodepools",), "node_provisioner: karpenter needs at least one NodePool")
        if self.nodepools:
            catalog = load_catalog().instance_types(self.provider, self.region)
            check_nodepools(self.nodepools, catalog, self.zones)
            check_nodepool_changes(self.nodepool_changes, self.nodepools, catalog)
        elif self.nodepool_changes:
            raise _PathError(("nodepool_changes",), "nodepool_changes needs cluster.nodepools (Karpenter)")
        return self


class Serving(StrictModel):
    """How a pod serves requests: its parallelism and the work one request costs it."""

    concurrency: int = Field(default=1, ge=1)
    service_time: Duration = 0.02
    service_time_cv: float = Field(default=1.0, ge=0.0)
    timeout: Duration = 30.0
    cpu_per_request: Duration = 0.0  # CPU time one request consumes
    base_cpu: CPU = 0
    base_memory: Memory = 0.0


class Startup(StrictModel):
    """Time from bound to a node until ready: image pull plus application start."""

    image_pull: Duration = 10.0
    app_start: Duration = 5.0


class Workload(StrictModel):
    """A Deployment or StatefulSet; pod-spec fields keep Kubernetes' names."""

    name: str
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    namespace: str = "default"
    replicas: int = Field(default=1, ge=0)
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}  # pod template annotations, e.g. karpenter.sh/do-not-disrupt
    resources: Resources = Resources()
    nodeSelector: dict[str, str] = {}
    tolerations: list[TolerationSpec] = []
    affinity: AffinitySpec | None = None
    topologySpreadConstraints: list[TopologySpreadConstraintSpec] = []
    terminationGracePeriodSeconds: int = Field(default=30, ge=0)  # core/v1 PodSpec default
    readinessProbe: ProbeSpec | None = None
    startupProbe: ProbeSpec | None = None
    livenessProbe: ProbeSpec | None = None
    env: list[EnvVar] = []
    pdb: PDBSpec | None = None
    hpa: HPASpecModel | None = None
    serving: Serving = Serving()
    startup: Startup = Startup()
    image: str = ""

    _name = field_validator("name")(_dns_name)

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> Any:
        """Without annotations the dump (and so the scenario hash) is what it was before the field."""
        out = handler(self)
        if isinstance(out, dict) and not self.annotations:
            out.pop("annotations", None)
        return out

    @field_validator("hpa")
    @classmethod
    def _hpa_semantics(cls, v: HPASpecModel | None) -> HPASpecModel | None:
        if v is not None:
            hpa_spec_from_k8s(v.model_dump(exclude_none=True))
        return v

    @property
    def pod_labels(self) -> dict[str, str]:
        return {"app": self.name, **self.labels}


class DaemonSet(StrictModel):
    """A DaemonSet: one pod on every node its nodeSelector and tolerations admit (apps/v1 names).

    Its pods serve no traffic; they only take their requests out of each node's allocatable.
    """

    name: str
    namespace: str = "default"
    resources: Resources = Resources()
    nodeSelector: dict[str, str] = {}
    tolerations: list[TolerationSpec] = []

    _name = field_validator("name")(_dns_name)

    @property
    def pod_labels(self) -> dict[str, str]:
        return {"app": self.name}


class RouteStep(StrictModel):
    service: str
    calls: int = Field(default=1, ge=1)  # sequential visits per request


class Route(RouteObjective):
    """A synchronous request path: the services a request crosses, in order (its P95 target: `slos`)."""

    name: str
    share: float = Field(gt=0, le=1)
    path: list[RouteStep] = Field(min_length=1)
    network_overhead: Duration = 0.001

    @field_validator("path", mode="before")
    @classmethod
    def _short_steps(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"service": s} if isinstance(s, str) else s for s in v]
        return v


class TaskQueue(StrictModel):
    """An asynchronous queue (RabbitMQ-style) drained by a consumer workload."""

    name: str
    consumer: str
    tasks_per_request: float = Field(gt=0)
    task_time: Duration
    task_time_cv: float = Field(default=1.0, ge=0.0)
    max_age_target: Duration | None = None


class Traffic(StrictModel):
    load: LoadProfile
    routes: list[Route] = []
    queues: list[TaskQueue] = []


class Simulation(StrictModel):
    duration: Duration = Field(default=7 * 86400.0, gt=0)
    seed: Seed = 0
    resolution: Duration = Field(default=60.0, gt=0)
    start: Literal["warm", "cold"] = "warm"
    """warm: at t=0 the cluster has the replicas its HPAs settle on and the nodes the cluster
    autoscaler adds for them (engine/warm.py); cold: the declared replicas on min/initial nodes."""

    @field_validator("resolution")
    @classmethod
    def _resolution_fits(cls, v: float, info: Any) -> float:
        d = info.data.get("duration")
        if d is not None and v > d:
            raise ValueError(f"must be <= duration ({d:g}s), got {v:g}s")
        return v


class Scenario(StrictModel):
    """A whole planning scenario, validated once."""

    name: str = "scenario"
    description: str = ""
    cluster: Cluster
    workloads: list[Workload] = Field(min_length=1)
    daemonsets: list[DaemonSet] = []
    traffic: Traffic
    slos: SLOs = SLOs()
    cost: CostSpec = CostSpec()
    dr: DRSpec | None = None
    faults: Faults = Faults()
    simulation: Simulation = Simulation()
    plans: list[Plan] = Field(default=[], exclude_if=lambda v: not v)  # scenario/plans.py; left out of
    # the dump (and so of the scenario hash) when empty: a scenario without plans hashes as before

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = [w.name for w in self.workloads]
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise _PathError(("workloads", i, "name"), f"duplicate workload name {name!r}")
            seen.add(name)
        self._daemonset_names(seen)
        for i, route in enumerate(self.traffic.routes):
            for j, step in enumerate(route.path):
                if step.service not in seen:
                    raise _PathError(
                        ("traffic", "routes", i, "path", j, "service"),
                        f"unknown workload {step.service!r}; known: {', '.join(names)}",
                    )
        for i, queue in enumerate(self.traffic.queues):
            if queue.consumer not in seen:
                raise _PathError(
                    ("traffic", "queues", i, "consumer"),
                    f"unknown workload {queue.consumer!r}; known: {', '.join(names)}",
                )
        self._fault_references(seen)
        self._custom_metric_references(seen)
        check_plan_references(
            self.plans,
            {w.name: w.kind for w in self.workloads},
            self.simulation.duration,
            pools={
                p.name: {
                    **p.labels,
                    "node.kubernetes.io/instance-type": p.instance_type,
                    "simkit.io/pool": p.name,
                }
                for p in self.cluster.node_pools
            },
            provider=self.cluster.provider,
            zones=self.cluster.zones,
        )
        total = sum(r.share for r in self.traffic.routes)
        if self.traffic.routes and abs(total - 1.0) > 1e-6:
            raise _PathError(("traffic", "routes"), f"route shares must add up to 1, got {total:g}")
        return self

    def _daemonset_names(self, workloads: set[str]) -> None:
        """DaemonSet names are unique and differ from workload names: pods are labelled app=<name>."""
        seen: set[str] = set()
        for i, ds in enumerate(self.daemonsets):
            if ds.name in seen:
                raise _PathError(("daemonsets", i, "name"), f"duplicate DaemonSet name {ds.name!r}")
            if ds.name in workloads:
                raise _PathError(
                    ("daemonsets", i, "name"),
                    f"{ds.name!r} is also a workload's name; their pods would share the label app={ds.name}",
                )
            seen.add(ds.name)

    def _custom_metric_references(self, workloads: set[str]) -> None:
        """Every Pods / Object metric of an HPA needs a source, and an Object one a known object."""
        adapter = self.cluster.metrics_adapter
        routes = {r.name for r in self.traffic.routes}
        for wi, w in enumerate(self.workloads):
            for mi, metric in enumerate(w.hpa.metrics if w.hpa else []):
                source = (
                    metric.pods
                    if metric.type == "Pods"
                    else metric.object
                    if metric.type == "Object"
                    else None
                )
                if metric.type == "External" and isinstance(metric.external, dict):
                    self._external_queue(metric.external, ("workloads", wi, "hpa", "metrics", mi, "external"))
                if not isinstance(source, dict):
                    continue  # missing source objects are reported by the HPA spec parser
                at: tuple[str | int, ...] = ("workloads", wi, "hpa", "metrics", mi, metric.type.lower())
                name = (source.get("metric") or {}).get("name")
                if isinstance(name, str) and name not in adapter:
                    known = ", ".join(sorted(adapter)) or "none"
                    raise _PathError(
                        (*at, "metric", "name"),
                        f"no source for {metric.type} metric {name!r}: map it to a signal under "
                        f"cluster.metrics_adapter (signals: requests_per_second; mapped now: {known})",
                    )
                if metric.type == "Object":
                    self._described_object(source.get("describedObject"), at, workloads, routes)

    def _external_queue(self, external: dict[str, Any], at: tuple[str | int, ...]) -> None:
        """An External metric reads RabbitMQ's `messages` of the queue its `queue` label names (else the
        metric's name): that queue must be one of `traffic.queues`, or the HPA would have no source."""
        ident = external.get("metric") or {}
        if not isinstance(ident, dict):
            return  # the HPA spec parser reports the shape
        labels = (ident.get("selector") or {}).get("matchLabels") or {}
        queue = labels.get("queue") if isinstance(labels, dict) else None
        field = ("metric", "selector", "matchLabels", "queue") if queue is not None else ("metric", "name")
        queue = queue if queue is not None else ident.get("name")
        queues = [q.name for q in self.traffic.queues]
        if isinstance(queue, str) and queue not in queues:
            raise _PathError(
                (*at, *field),
                f"no source for External metric {ident.get('name')!r}: queue {queue!r} is not in "
                f"traffic.queues ({', '.join(queues) or 'none'})",
            )

    @staticmethod
    def _described_object(obj: Any, at: tuple[str | int, ...], workloads: set[str], routes: set[str]) -> None:
        if not isinstance(obj, dict):
            raise _PathError((*at, "describedObject"), "expected kind and name of the measured object")
        kind, name = obj.get("kind"), obj.get("name")
        if kind in WORKLOAD_KINDS:
            if name not in workloads:
                raise _PathError((*at, "describedObject", "name"), f"unknown workload {name!r}")
        elif kind == "Ingress":
            if name not in routes:
                raise _PathError(
                    (*at, "describedObject", "name"),
                    f"unknown route {name!r}; known: {', '.join(sorted(routes))}",
                )
        else:
            raise _PathError(
                (*at, "describedObject", "kind"),
                f"expected one of {', '.join((*WORKLOAD_KINDS, 'Ingress'))}, got {kind!r}",
            )

    def _fault_references(self, workloads: set[str]) -> None:
        pools = {p.name for p in self.cluster.node_pools} | {p.name for p in self.cluster.nodepools}
        zones = set(self.cluster.zones)
        queues = {q.name for q in self.traffic.queues}
        f = self.faults
        spot_events: list[tuple[str, int, SpotReclaim | SpotShortage]] = [
            *(("reclaims", i, r) for i, r in enumerate(f.spot.reclaims)),
            *(("shortages", i, s) for i, s in enumerate(f.spot.shortages)),
        ]
        for key, i, item in spot_events:
            if item.pool not in pools:
                raise _PathError(("faults", "spot", key, i, "pool"), f"unknown node pool {item.pool!r}")
            if item.zone is not None and item.zone not in zones:
                raise _PathError(("faults", "spot", key, i, "zone"), f"unknown zone {item.zone!r}")
        for i, outage in enumerate(f.az_outages):
            problem = outage_zone_error(outage.zone, self.cluster.zones, f.data_layer)
            if problem is not None:
                raise _PathError(("faults", "az_outages", i, "zone"), problem)
        for i, data in enumerate(f.data_layer):
            if data.workload not in workloads:
                raise _PathError(
                    ("faults", "data_layer", i, "workload"), f"unknown workload {data.workload!r}"
                )
            for q in data.broker_for:
                if q not in queues:
                    raise _PathError(("faults", "data_layer", i, "broker_for"), f"unknown queue {q!r}")
        if f.node_failures is not None:
            for name in f.node_failures.pools or []:
                if name not in pools:
                    raise _PathError(("faults", "node_failures", "pools"), f"unknown node pool {name!r}")

    def workload(self, name: str) -> Workload:
        for w in self.workloads:
            if w.name == name:
                return w
        raise KeyError(name)

    def pool(self, name: str) -> NodePool:
        for p in self.cluster.node_pools:
            if p.name == name:
                return p
        raise KeyError(name)


_PathError = PathError  # defined in scenario/base.py, so scenario/plans.py can raise it too
