"""Cluster-autoscaler flags: `--nodes=min:max:pool` for every autoscaled pool plus the scenario's
`cluster.cluster_autoscaler` flags, with the simulated defaults of the flags that shape decisions
(expander, scale-down times and threshold) written out, so the deployed CA behaves as simulated.
"""

from __future__ import annotations

from typing import Any

import yaml

from simkit.control.ca.flags import CAFlags
from simkit.errors import ExportError
from simkit.export.provenance import Provenance
from simkit.scenario.model import Scenario
from simkit.units import format_duration

CLOUD_PROVIDER = {"aws": "aws", "azure": "azure", "gcp": "gce"}
EXPLICIT_DEFAULTS = (  # written even when the scenario leaves them at CA's default
    "expander",
    "scale-down-unneeded-time",
    "scale-down-delay-after-add",
    "scale-down-utilization-threshold",
    "max-node-provision-time",
    "balance-similar-node-groups",
)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _default_text(flags: CAFlags, name: str) -> str:
    value = getattr(flags, name.replace("-", "_"))
    if isinstance(value, float) and name.endswith(("-time", "-add")):
        return format_duration(value)
    return _text(value)


def autoscaler_args(sc: Scenario, provider: str) -> list[str]:
    """The flag list, `--name=value` each, pools first."""
    given = {str(k).lstrip("-"): v for k, v in (sc.cluster.cluster_autoscaler or {}).items()}
    try:
        flags = CAFlags.from_mapping(given)
    except ValueError as exc:
        raise ExportError(f"cluster.cluster_autoscaler: {exc}") from None
    args = [f"--cloud-provider={CLOUD_PROVIDER[provider]}"]
    args += [f"--nodes={p.min_nodes}:{p.max_nodes}:{p.name}" for p in sc.cluster.node_pools if p.autoscaling]
    for name, value in given.items():
        if name not in ("nodes", "cloud-provider"):
            args.append(f"--{name}={_text(value)}")
    args += [f"--{n}={_default_text(flags, n)}" for n in EXPLICIT_DEFAULTS if n not in given]
    return args


def autoscaler_files(sc: Scenario, provider: str, prov: Provenance) -> dict[str, str]:
    """`autoscaler/cluster-autoscaler-args.yaml`: the container's `command` list, ready to paste."""
    command = ["./cluster-autoscaler", *autoscaler_args(sc, provider)]
    text = prov.comment()
    text += "# Command of the cluster-autoscaler container; node groups are the autoscaled pools.\n"
    pinned = {str(k).lstrip("-"): v for k, v in (sc.cluster.cluster_autoscaler or {}).items()}.get("nodes")
    ours = {a for a in command if a.startswith("--nodes=")}
    if pinned and {f"--nodes={v}" for v in (pinned if isinstance(pinned, list) else [pinned])} != ours:
        text += f"# The scenario's own `nodes` entry ({_text(pinned)}) is replaced by the pools' bounds.\n"
    text += yaml.safe_dump({"command": command}, sort_keys=False)
    return {"autoscaler/cluster-autoscaler-args.yaml": text}
