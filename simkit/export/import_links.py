"""Import helpers that link documents: merge partial documents of one object, attach HPAs and PDBs
to their workloads, read cluster-autoscaler flags from its Deployment, count DaemonSet nodes.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from simkit.control.ca.flags import CAFlags
from simkit.export.manifests import Doc, fit_model
from simkit.scenario.k8s import HPASpecModel, PDBSpec


def deep_merge(a: Any, b: Any, path: str, conflicts: list[str]) -> Any:
    """`a` with the gaps filled from `b`; where both set a different scalar, `a` wins (recorded)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = (
                deep_merge(a[key], value, f"{path}.{key}" if path else str(key), conflicts)
                if key in a
                else value
            )
        return out
    if a != b:
        conflicts.append(path)
    return a


def is_cluster_autoscaler(doc: Doc) -> bool:
    """A Deployment whose container runs the cluster-autoscaler image or binary."""
    pod = ((doc.obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    for c in pod.get("containers") or []:
        if not isinstance(c, dict):
            continue
        words = [str(c.get("image", ""))] + [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
        if any("cluster-autoscaler" in w for w in words[:2]):
            return True
    return False


def _ca_words(doc: Doc) -> list[str]:
    pod = ((doc.obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    words: list[str] = []
    for c in pod.get("containers") or []:
        words += [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
    return words


def autoscaler_pools(doc: Doc) -> list[str]:
    """The node groups the CA container's `--nodes=min:max:name` flags name."""
    return [w.split(":")[-1] for w in _ca_words(doc) if w.startswith("--nodes=")]


def autoscaler_flags(doc: Doc, pool_names: set[str], notes: list[str]) -> dict[str, Any]:
    """`--name=value` words of the CA container -> the scenario's `cluster_autoscaler` mapping."""
    words = _ca_words(doc)
    flags: dict[str, Any] = {}
    for word in words:
        if not word.startswith("--"):
            continue
        name, sep, value = word[2:].partition("=")
        parsed: Any = value if sep else True
        if isinstance(parsed, str) and parsed.lower() in ("true", "false"):
            parsed = parsed.lower() == "true"
        if name == "nodes":
            group = value.split(":")[-1]
            if group not in pool_names:
                notes.append(f"--nodes={value}: no node pool {group!r} in the cluster, dropped")
                continue
            flags.setdefault("nodes", []).append(value)
            continue
        try:
            CAFlags.from_mapping({name: parsed})
        except ValueError as exc:
            notes.append(f"cluster-autoscaler {exc}: dropped")
            continue
        flags[name] = parsed
    return flags


def hpa_spec(doc: Doc, notes: list[str]) -> dict[str, Any]:
    """An HPA's spec without scaleTargetRef, as the scenario's `hpa:` (autoscaling/v1 converted to v2)."""
    spec = dict(doc.obj.get("spec") or {})
    spec.pop("scaleTargetRef", None)
    cpu = spec.pop("targetCPUUtilizationPercentage", None)
    if cpu is not None:
        metric = {"type": "Utilization", "averageUtilization": cpu}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": metric}}]
        notes.append("autoscaling/v1 targetCPUUtilizationPercentage converted to an autoscaling/v2 metric")
    dropped: list[str] = []
    spec = fit_model(HPASpecModel, spec, "spec", dropped)
    notes.extend(f"{d}: not modelled by simkit, dropped" for d in dropped)
    try:
        HPASpecModel.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise doc.error(f"spec.{field}", str(err["msg"]).removeprefix("Value error, ")) from None
    return dict(spec)


def pdb_spec(doc: Doc) -> dict[str, Any]:
    """A PDB's minAvailable / maxUnavailable, validated."""
    raw = doc.obj.get("spec") or {}
    spec = {k: raw[k] for k in ("minAvailable", "maxUnavailable") if k in raw}
    try:
        PDBSpec.model_validate(spec)
    except ValidationError as exc:
        raise doc.error("spec", str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return spec
