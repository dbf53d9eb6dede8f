"""The pod template of an exported workload: container, probes, scheduling, and a security context
that meets the *restricted* Pod Security Standard (non-root, no privilege escalation, all capabilities
dropped, RuntimeDefault seccomp, read-only root filesystem with a writable /tmp).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

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


def image_of(w: Workload) -> str:
    """The workload's image, or an obviously unpullable placeholder with a fixed tag."""
    return w.image or f"{PLACEHOLDER_REGISTRY}/{w.namespace}/{w.name}:unset"


def service_port(w: Workload) -> int:
    """The port the workload serves on: the first numeric probe port, else 8080."""
    for probe in (w.readinessProbe, w.livenessProbe, w.startupProbe):
        for handler in (probe.httpGet, probe.tcpSocket) if probe else ():
            port = handler.port if handler is not None else None
            if isinstance(port, int):
                return port
    return DEFAULT_PORT


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


def container(w: Workload) -> dict[str, Any]:
    """The single application container."""
    port = service_port(w)
    resources = resources_of(w)
    out: dict[str, Any] = {
        "name": w.name,
        "image": image_of(w),
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "resources": resources,
    }
    if w.env:  # secrets stay `valueFrom.secretKeyRef` references; simkit never holds their values
        out["env"] = [e.model_dump(mode="json", exclude_none=True) for e in w.env]
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = _probe(w, name, port)
        if probe is not None:
            out[name] = probe
    out["securityContext"] = dict(CONTAINER_SECURITY_CONTEXT)
    out["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return out


def pod_spec(w: Workload) -> dict[str, Any]:
    """The PodSpec: scheduling constraints as in the scenario, hardened security settings."""
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": dict(POD_SECURITY_CONTEXT),
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
    spec["containers"] = [container(w)]
    spec["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    return spec
