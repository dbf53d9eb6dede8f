"""One Deployment or StatefulSet -> one scenario workload; one DaemonSet -> one `daemonsets:` entry.

Kubernetes field names are kept.
What a manifest leaves out is assumed the way Kubernetes would (replicas 1, requests = limits when
only limits are set, 0 when neither) and reported as one line each; what cannot be understood is
refused with the file, document index and field.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simkit.export.images import KNOWN_IMAGES
from simkit.export.manifests import Doc, fit_model
from simkit.export.plan_settings import ANNOTATION_PLAN
from simkit.export.pod import ANNOTATION_SERVING, ANNOTATION_STARTUP, PLACEHOLDER_REGISTRY, memory_quantity
from simkit.scenario.k8s import AffinitySpec, ProbeSpec, TolerationSpec, TopologySpreadConstraintSpec
from simkit.scenario.model import DaemonSet, Serving, Startup, Workload
from simkit.units import format_cpu, parse_cpu, parse_memory

POD = "spec.template.spec"
Model = TypeVar("Model", bound=BaseModel)
_POD_FIELDS: dict[str, type[BaseModel] | None] = {
    "nodeSelector": None,
    "tolerations": TolerationSpec,
    "affinity": AffinitySpec,
    "topologySpreadConstraints": TopologySpreadConstraintSpec,
    "terminationGracePeriodSeconds": None,
}
_SOURCE = {
    "name": "metadata.name",
    "namespace": "metadata.namespace",
    "replicas": "spec.replicas",
    "labels": "spec.template.metadata.labels",
    "image": f"{POD}.containers[0].image",
    "resources": f"{POD}.containers",
    "serving": f"metadata.annotations.{ANNOTATION_SERVING}",
    "startup": f"metadata.annotations.{ANNOTATION_STARTUP}",
}


def _map(doc: Doc, value: Any, path: str, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping" if value is not None else "required field is missing")
    return value


def _list(doc: Doc, value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error(path, f"expected a list, got {type(value).__name__}")
    return value


def _quantity(doc: Doc, value: Any, path: str, resource: str) -> float:
    try:
        return parse_cpu(value) if resource == "cpu" else parse_memory(value)
    except (ValueError, TypeError) as exc:
        raise doc.error(path, str(exc)) from None


def _container_resources(doc: Doc, c: dict[str, Any], path: str, notes: list[str]) -> tuple[dict, dict]:
    res = _map(doc, c.get("resources"), f"{path}.resources")
    req = _map(doc, res.get("requests"), f"{path}.resources.requests")
    lim = _map(doc, res.get("limits"), f"{path}.resources.limits")
    requests, limits = {}, {}
    for r in ("cpu", "memory"):
        if r in lim:
            limits[r] = _quantity(doc, lim[r], f"{path}.resources.limits.{r}", r)
        if r in req:
            requests[r] = _quantity(doc, req[r], f"{path}.resources.requests.{r}", r)
        elif r in limits:
            requests[r] = limits[r]
            notes.append(f"{path}.resources.requests.{r} absent: Kubernetes defaults it to the limit")
        else:
            requests[r] = 0
            notes.append(f"{path}.resources.requests.{r} absent: assumed 0 (best effort)")
    return requests, limits


def _resources(doc: Doc, containers: list[Any], notes: list[str]) -> dict[str, Any]:
    """Pod requests/limits: the sum over containers, as the scheduler counts them."""
    req_sum = {"cpu": 0.0, "memory": 0.0}
    lim_sum: dict[str, float] = {}
    for i, c in enumerate(containers):
        path = f"{POD}.containers[{i}]"
        requests, limits = _container_resources(doc, _map(doc, c, path), path, notes)
        for r in req_sum:
            req_sum[r] += requests[r]
        for r, v in limits.items():
            lim_sum[r] = lim_sum.get(r, 0.0) + v
    out: dict[str, Any] = {
        "requests": {"cpu": format_cpu(req_sum["cpu"]), "memory": memory_quantity(req_sum["memory"])}
    }
    if lim_sum:
        out["limits"] = {
            "cpu": format_cpu(lim_sum.get("cpu", 0)),
            "memory": memory_quantity(lim_sum.get("memory", 0)),
        }
    return out


def _main_container(containers: list[Any], name: str) -> tuple[int, dict[str, Any]]:
    for i, c in enumerate(containers):
        if isinstance(c, dict) and c.get("name") == name:
            return i, c
    return 0, containers[0] if containers and isinstance(containers[0], dict) else {}


def _simkit_annotation(
    doc: Doc, meta: dict[str, Any], key: str, model: type[BaseModel], notes: list[str]
) -> dict[str, Any] | None:
    raw = _map(doc, meta.get("annotations"), "metadata.annotations").get(key)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        notes.append(f"metadata.annotations.{key} is not JSON: ignored")
        return None
    dropped: list[str] = []
    data = fit_model(model, data, key, dropped)
    notes.extend(f"{d}: not a simkit field, dropped" for d in dropped)
    return dict(data)


Mapping = dict[str, Any]


def _head(doc: Doc, notes: list[str]) -> tuple[Mapping, Mapping, Mapping, Mapping]:
    """(metadata, spec, pod spec, the output dict with name and namespace) of a workload document."""
    obj = doc.obj
    meta = _map(doc, obj.get("metadata"), "metadata", required=True)
    spec = _map(doc, obj.get("spec"), "spec")
    template = _map(doc, spec.get("template"), "spec.template")
    pod = _map(doc, template.get("spec"), POD)
    name = meta.get("name")
    if not name:
        raise doc.error("metadata.name", "required field is missing")
    out: dict[str, Any] = {"name": name, "namespace": meta.get("namespace") or "default"}
    if not meta.get("namespace"):
        notes.append("metadata.namespace absent: assumed 'default'")
    return meta, spec, pod, out


def _containers(doc: Doc, pod: Mapping, out: Mapping, notes: list[str], absent: str) -> list[Any]:
    """The pod's containers, with their summed requests and limits set as `out["resources"]`."""
    containers = _list(doc, pod.get("containers"), f"{POD}.containers")
    if not containers:
        notes.append(f"{POD}.containers absent: {absent}")
    out["resources"] = _resources(doc, containers, notes)
    if len(containers) > 1:
        notes.append(f"{len(containers)} containers: requests and limits summed")
    return containers


def daemonset_from(doc: Doc, notes: list[str]) -> dict[str, Any]:
    """The scenario `daemonsets:` entry of a DaemonSet document (validated): requests, selector, tolerations.

    simkit's DaemonSet pods take room on every node they match and serve no traffic, so probes,
    affinity and simkit's serving annotations do not apply to them and are reported as dropped.
    """
    meta, _, pod, out = _head(doc, notes)
    _containers(doc, pod, out, notes, "no requests")
    for key in ("nodeSelector", "tolerations"):
        if pod.get(key):
            out[key] = pod[key]
    for key in ("affinity", "topologySpreadConstraints", "priorityClassName"):
        if pod.get(key):
            notes.append(f"{POD}.{key}: not modelled for DaemonSets, dropped")
    if _map(doc, meta.get("annotations"), "metadata.annotations").get(ANNOTATION_SERVING) is not None:
        notes.append(f"metadata.annotations.{ANNOTATION_SERVING}: DaemonSet pods serve no traffic, dropped")
    notes.append("imported under daemonsets: one pod on every node it matches, serving no traffic")
    _validate(doc, out, DaemonSet)
    return out


def workload_from(doc: Doc, notes: list[str]) -> dict[str, Any]:
    """The scenario workload dict of a Deployment/StatefulSet document (validated)."""
    meta, spec, pod, head = _head(doc, notes)
    name = head["name"]
    out: dict[str, Any] = {"name": name, "kind": doc.kind, "namespace": head["namespace"]}
    if "replicas" in spec:
        out["replicas"] = spec["replicas"]
    else:
        out["replicas"] = 1
        notes.append("spec.replicas absent: assumed 1 (the Kubernetes default)")
    template = _map(doc, spec.get("template"), "spec.template")
    labels = dict(
        _map(
            doc,
            _map(doc, template.get("metadata"), "spec.template.metadata").get("labels"),
            "spec.template.metadata.labels",
        )
    )
    if not labels:
        notes.append(f"pod labels absent: assumed app={name}")
    if labels.get("app") == name:
        labels.pop("app")
    if labels:
        out["labels"] = labels
    if not _map(doc, spec.get("selector"), "spec.selector"):
        notes.append("spec.selector absent: assumed the pod labels")
    annotations = _map(doc, meta.get("annotations"), "metadata.annotations")
    _unmodelled_spec(spec, name, notes, planned=ANNOTATION_PLAN in annotations)
    containers = _containers(doc, pod, out, notes, "no requests, no probes")
    _pod_fields(doc, pod, out, notes)
    index, main = _main_container(containers, name)
    _probes(doc, main, f"{POD}.containers[{index}]", out, notes)
    image = str(main.get("image") or "")
    by_name = next((r for r in KNOWN_IMAGES if name in r.names and r.image == image), None)
    env = main.get("env")
    if isinstance(env, list) and by_name is not None:  # what the export adds for the image, it adds again
        env = [e for e in env if not (isinstance(e, dict) and (e.get("name"), e.get("value")) in by_name.env)]
    if isinstance(env, list) and env:
        out["env"] = env
    if main.get("envFrom"):
        notes.append(f"{POD}.containers[{index}].envFrom: not modelled by simkit, dropped")
    if image and not image.startswith(PLACEHOLDER_REGISTRY + "/") and by_name is None:
        out["image"] = image  # an image the export would choose from the name is not pinned
    for key, field_name, model in (
        (ANNOTATION_SERVING, "serving", Serving),
        (ANNOTATION_STARTUP, "startup", Startup),
    ):
        value = _simkit_annotation(doc, meta, key, model, notes)
        if value is not None:
            out[field_name] = value
    if "serving" not in out:
        notes.append("serving not in the manifest: simkit defaults (concurrency 1, 20ms per request) assumed")
    validate_workload(doc, out)
    return out


_SPEC_READ = ("replicas", "selector", "template", "volumeClaimTemplates")
_ROLLOUT = ("strategy", "updateStrategy", "minReadySeconds", "progressDeadlineSeconds", "paused")


def _unmodelled_spec(spec: Mapping, name: str, notes: list[str], planned: bool = False) -> None:
    """One line per workload spec field simkit does not model (a StatefulSet's own-name serviceName apart;
    the update settings of a workload whose `simkit.io/plan` annotation makes them a plan's)."""
    for key, value in spec.items():
        if key in _SPEC_READ or (key == "serviceName" and value == name):
            continue
        if planned and (key in _ROLLOUT or key in ("revisionHistoryLimit", "podManagementPolicy")):
            continue
        why = "simulated only as a plan" if key in _ROLLOUT else "not modelled by simkit"
        notes.append(f"spec.{key}: {why}, dropped ({json.dumps(value, sort_keys=True, default=str)[:80]})")


def _pod_fields(doc: Doc, pod: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
    for key, model in _POD_FIELDS.items():
        if key not in pod or pod[key] is None:
            continue
        value = pod[key]
        if model is not None:
            dropped: list[str] = []
            if isinstance(value, list):
                value = [fit_model(model, v, f"{POD}.{key}[{i}]", dropped) for i, v in enumerate(value)]
            else:
                value = fit_model(model, value, f"{POD}.{key}", dropped)
            notes.extend(f"{d}: not modelled by simkit, dropped" for d in dropped)
        out[key] = value


def _probes(doc: Doc, container: dict[str, Any], path: str, out: dict[str, Any], notes: list[str]) -> None:
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(container.get(key), dict):
            dropped: list[str] = []
            out[key] = fit_model(ProbeSpec, container[key], f"{path}.{key}", dropped)
            notes.extend(f"{d}: not modelled by simkit, dropped" for d in dropped)


def validate_workload(doc: Doc, data: dict[str, Any]) -> Workload:
    """Validate with the scenario model; an error names the manifest field it came from."""
    return _validate(doc, data, Workload)


def _validate(doc: Doc, data: dict[str, Any], model: type[Model]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        head = loc[0] if loc else ""
        source = _SOURCE.get(head, f"{POD}.{head}" if head in _POD_FIELDS else head)
        if head.endswith("Probe"):
            source = f"{POD}.containers[0].{head}"
        rest = ".".join(loc[1:])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise doc.error(f"{source}.{rest}" if rest else source, f"{msg}, got {err.get('input')!r}") from None


def volume_from(doc: Doc, notes: list[str]) -> dict[str, Any] | None:
    """A StatefulSet's first volumeClaimTemplate as a `cost.block_storage` entry (one volume per replica)."""
    spec = doc.obj.get("spec") if isinstance(doc.obj, dict) else None
    claims = spec.get("volumeClaimTemplates") if isinstance(spec, dict) else None
    if doc.kind != "StatefulSet" or not isinstance(claims, list) or not claims:
        return None
    if len(claims) > 1:
        notes.append("spec.volumeClaimTemplates[1:]: only the first claim is priced, the rest dropped")
    claim = _map(doc, claims[0], "spec.volumeClaimTemplates[0]")
    cspec = _map(doc, claim.get("spec"), "spec.volumeClaimTemplates[0].spec")
    size = ((cspec.get("resources") or {}).get("requests") or {}).get("storage")
    if size is None:
        notes.append("spec.volumeClaimTemplates[0]: no storage request, not priced")
        return None
    storage_class = cspec.get("storageClassName")
    if not storage_class:
        storage_class = "gp3"
        notes.append("spec.volumeClaimTemplates[0].spec.storageClassName absent: assumed gp3")
    replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
    return {"name": doc.name, "storage_class": str(storage_class), "size": str(size), "count": replicas}
