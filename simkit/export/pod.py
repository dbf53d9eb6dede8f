"""The pod template of an exported workload: container, probes, scheduling, and a security context
that meets the *restricted* Pod Security Standard (non-root, no privilege escalation, all capabilities
dropped, RuntimeDefault seccomp, read-only root filesystem with a writable /tmp).

Images in `images.KNOWN_IMAGES` (PostgreSQL, Redis, RabbitMQ, Keycloak) keep their own ports, UID and
writable paths; everything else gets the web-app defaults (port 8080, UID 10001).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from simkit.export.images import KnownImage, known_image
from simkit.scenario.cost import BlockVolume
from simkit.scenario.model import Workload
from simkit.units import format_cpu, format_memory

RUN_AS_USER = 10001  # above 10000 so it cannot collide with host users (checkov CKV_K8S_40)
DEFAULT_PORT = 8080
PLACEHOLDER_REGISTRY = "registry.invalid"  # reserved TLD: a pull fails loudly until the user sets image
ANNOTATION_SERVING = "simkit.io/serving"
ANNOTATION_STARTUP = "simkit.io/startup"

POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "fsGroup": RUN_AS_USER,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def memory_quantity(mib: float) -> str:
    """MiB -> an exact Kubernetes quantity ("2Gi", "512Mi", or bytes when not a whole MiB)."""
    if float(mib).is_integer():
        return format_memory(mib)
    return str(round(mib * 2**20))


def resource_list(cpu_m: int, memory_mib: float) -> dict[str, str]:
    """A ResourceList with exact quantities."""
    return {"cpu": format_cpu(cpu_m), "memory": memory_quantity(memory_mib)}


DATA_VOLUME = "data"  # the volumeClaimTemplate (or emptyDir) mounted at the image's data path


def image_of(w: Workload) -> str:
    """The workload's image, a known image its name stands for, or an unpullable placeholder."""
    if w.image:
        return w.image
    row, _ = known_image(w)
    return row.image if row else f"{PLACEHOLDER_REGISTRY}/{w.namespace}/{w.name}:unset"


def _probe_port(w: Workload) -> int | None:
    for probe in (w.readinessProbe, w.livenessProbe, w.startupProbe):
        for handler in (probe.httpGet, probe.tcpSocket) if probe else ():
            port = handler.port if handler is not None else None
            if isinstance(port, int):
                return port
    return None


def container_ports(w: Workload) -> list[tuple[str, int]]:
    """(name, port) the container listens on: a known image's ports, else the probe port or 8080."""
    row, _ = known_image(w)
    if row is not None:
        return list(row.ports)
    port = _probe_port(w)
    return [("http", DEFAULT_PORT if port is None else port)]


def service_port(w: Workload) -> int:
    """The port the workload serves on: the first numeric probe port, else its image's first, else 8080."""
    port = _probe_port(w)
    return port if port is not None else container_ports(w)[0][1]


def pod_security_context(w: Workload) -> dict[str, Any]:
    """The restricted pod securityContext, with a known image's own UID (it owns the image's files)."""
    row, _ = known_image(w)
    if row is None:
        return dict(POD_SECURITY_CONTEXT)
    return {**POD_SECURITY_CONTEXT, "runAsUser": row.uid, "runAsGroup": row.uid, "fsGroup": row.uid}


def container_security_context(w: Workload) -> dict[str, Any]:
    """The restricted container securityContext; the root stays read-only where the image allows."""
    row, _ = known_image(w)
    if row is None:
        return dict(CONTAINER_SECURITY_CONTEXT)
    return {**CONTAINER_SECURITY_CONTEXT, "runAsUser": row.uid, "readOnlyRootFilesystem": row.read_only_root}


def _volume_name(path: str) -> str:
    slug = path.strip("/").replace("/", "-").replace("_", "-").lower()
    return "tmp" if path == "/tmp" else f"w-{slug}"[:63]


def writable_paths(row: KnownImage | None) -> list[str]:
    """Paths mounted as emptyDir: /tmp for every image, plus what a known image writes."""
    return list(row.writable) if row else ["/tmp"]


def volume_claim_template(w: Workload, volume: BlockVolume) -> dict[str, Any]:
    """One PersistentVolumeClaim per replica, from the scenario's `cost.block_storage` entry."""
    return {
        "metadata": {"name": DATA_VOLUME},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": volume.storage_class,
            "resources": {"requests": {"storage": memory_quantity(volume.size)}},
        },
    }


def data_path(w: Workload, volume: BlockVolume | None) -> str | None:
    """Where the data volume goes: the known image's data path, else /data when a volume is declared."""
    row, _ = known_image(w)
    if row is not None and row.data_path:
        return row.data_path
    return "/data" if volume is not None else None


def workload_notes(w: Workload, volume: BlockVolume | None) -> list[str]:
    """One line per thing the export guessed or could not do for this workload."""
    notes: list[str] = []
    row, how = known_image(w)
    where = f"{w.kind} {w.namespace}/{w.name}"
    if not w.image and row is None:
        notes.append(
            f"{where}: no image known; exported as {image_of(w)} (set workloads[].image to the real one)"
        )
    elif row is not None and not w.image:
        notes.append(f"{where}: {how}")
    elif row is None and "Alpine" in how:
        notes.append(f"{where}: {how}; UID 10001 and a read-only root may not suit it")
    if row is not None and row.uid < 10000:
        notes.append(
            f"{where}: runs as the image's UID {row.uid} (restricted Pod Security passes; checkov "
            "CKV_K8S_40 wants a UID above 10000, which the image's files are not owned by)"
        )
    if row is not None and row.note:
        notes.append(f"{where}: {row.note}")
    if volume is not None and w.kind != "StatefulSet":
        notes.append(f"{where}: cost.block_storage {volume.name!r} not exported (claims: StatefulSets only)")
    elif volume is not None and volume.count != w.replicas:
        notes.append(
            f"{where}: cost.block_storage {volume.name!r} counts {volume.count} volumes for "
            f"{w.replicas} replicas; one claim per replica is exported"
        )
    path = data_path(w, volume)
    if w.kind == "StatefulSet" and volume is None and path is not None:
        notes.append(
            f"{where}: no volume declared in cost.block_storage; {path} is an emptyDir, lost with the pod"
        )
    if volume is not None and w.kind == "StatefulSet" and row is None:
        notes.append(f"{where}: volume mounted at /data (the image's data path is not known)")
    return notes


def _raw_fields(model: BaseModel) -> dict[str, Any]:
    """A model's field values as stored (seconds, millicores, MiB), bypassing its serializers."""
    return {name: getattr(model, name) for name in type(model).model_fields}


def simkit_annotations(w: Workload) -> dict[str, str]:
    """simkit-only fields (serving, startup) as JSON annotations, so `import` can restore them exactly."""
    serving = _raw_fields(w.serving)  # durations as seconds: the models' serializers round to 1 s
    serving["base_cpu"] = format_cpu(w.serving.base_cpu)
    serving["base_memory"] = memory_quantity(w.serving.base_memory)
    startup = _raw_fields(w.startup)
    return {
        ANNOTATION_SERVING: json.dumps(serving, sort_keys=True),
        ANNOTATION_STARTUP: json.dumps(startup, sort_keys=True),
    }


def _probe(w: Workload, name: str, port: int) -> dict[str, Any] | None:
    probe = getattr(w, name)
    if probe is None:
        return None
    out: dict[str, Any] = probe.model_dump(mode="json", exclude_none=True)
    if not any(k in out for k in ("httpGet", "tcpSocket", "exec", "grpc")):
        out["tcpSocket"] = {"port": port}  # a probe needs a handler; the scenario gave timing only
    return out


def resources_of(w: Workload) -> dict[str, Any]:
    """requests (and limits, if the scenario sets them) as Kubernetes writes them."""
    resources: dict[str, Any] = {
        "requests": resource_list(w.resources.requests.cpu, w.resources.requests.memory)
    }
    if w.resources.limits is not None:
        resources["limits"] = resource_list(w.resources.limits.cpu, w.resources.limits.memory)
    return resources


def container(w: Workload, volume: BlockVolume | None = None) -> dict[str, Any]:
    """The single application container."""
    port = service_port(w)
    resources = resources_of(w)
    out: dict[str, Any] = {
        "name": w.name,
        "image": image_of(w),
        "imagePullPolicy": "Always",
        "ports": [{"name": name, "containerPort": p, "protocol": "TCP"} for name, p in container_ports(w)],
        "resources": resources,
    }
    env = [e.model_dump(mode="json", exclude_none=True) for e in w.env]
    row, _ = known_image(w)
    given = {e.name for e in w.env}
    env += [{"name": k, "value": v} for k, v in (row.env if row else ()) if k not in given]
    if env:  # secrets stay `valueFrom.secretKeyRef` references; simkit never holds their values
        out["env"] = env
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = _probe(w, name, port)
        if probe is not None:
            out[name] = probe
    out["securityContext"] = container_security_context(w)
    mounts = [{"name": _volume_name(p), "mountPath": p} for p in writable_paths(row)]
    path = data_path(w, volume)
    if path is not None:
        mounts.append({"name": DATA_VOLUME, "mountPath": path})
    out["volumeMounts"] = mounts
    return out


def pod_spec(w: Workload, volume: BlockVolume | None = None) -> dict[str, Any]:
    """The PodSpec: scheduling constraints as in the scenario, hardened security settings."""
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(w),
        "terminationGracePeriodSeconds": w.terminationGracePeriodSeconds,
    }
    if w.nodeSelector:
        spec["nodeSelector"] = dict(w.nodeSelector)
    if w.tolerations:
        spec["tolerations"] = [t.model_dump(mode="json", exclude_defaults=True) for t in w.tolerations]
    if w.affinity is not None:
        spec["affinity"] = w.affinity.model_dump(mode="json", exclude_defaults=True)
    if w.topologySpreadConstraints:
        spec["topologySpreadConstraints"] = [
            c.model_dump(mode="json", exclude_defaults=True) for c in w.topologySpreadConstraints
        ]
    spec["containers"] = [container(w, volume)]
    row, _ = known_image(w)
    volumes: list[dict[str, Any]] = [{"name": _volume_name(p), "emptyDir": {}} for p in writable_paths(row)]
    claimed = volume is not None and w.kind == "StatefulSet"  # the claim comes from volumeClaimTemplates
    if data_path(w, volume) is not None and not claimed:
        volumes.append({"name": DATA_VOLUME, "emptyDir": {}})
    spec["volumes"] = volumes
    return spec
