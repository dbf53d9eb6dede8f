"""Export a scenario: build every file in memory, check every name and path, then write them all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from simkit.errors import ExportError
from simkit.export.autoscaler import autoscaler_files
from simkit.export.helm import helm_files
from simkit.export.k8s import k8s_files
from simkit.export.karpenter import karpenter_files
from simkit.export.provenance import Provenance, simkit_version
from simkit.export.terraform import PROVIDERS, terraform_files
from simkit.export.writer import check_dns_label, write_files
from simkit.scenario.loader import LoadedScenario, scenario_hash
from simkit.scenario.model import Scenario

FORMATS = ("k8s", "helm", "terraform", "autoscaler", "karpenter")

Builder = Callable[[Scenario, str, Provenance], dict[str, str]]
_BUILDERS: dict[str, Builder] = {
    "k8s": lambda sc, provider, prov: k8s_files(sc, prov),
    "helm": lambda sc, provider, prov: helm_files(sc, prov),
    "terraform": terraform_files,
    "autoscaler": autoscaler_files,
    "karpenter": karpenter_files,  # NodePools, EC2NodeClasses, chart values; only with Karpenter
}


def parse_formats(text: str | Iterable[str]) -> list[str]:
    """ "k8s,helm" or "all" (or a list of names) -> the formats, in canonical order."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = {i.strip() for i in items if i.strip()}
    if "all" in names:
        return list(FORMATS)
    unknown = sorted(names - set(FORMATS))
    if unknown or not names:
        raise ExportError(
            f"unknown export format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)} or all"
        )
    return [f for f in FORMATS if f in names]


def build_files(
    scenario: Scenario | LoadedScenario,
    formats: str | Iterable[str] = "all",
    provider: str | None = None,
    seed: int | None = None,
) -> dict[str, str]:
    """Every exported file as relative path -> text, without writing anything."""
    loaded = scenario if isinstance(scenario, LoadedScenario) else None
    sc = loaded.scenario if loaded else scenario
    assert isinstance(sc, Scenario)
    target = provider or sc.cluster.provider
    if target not in PROVIDERS:
        raise ExportError(f"unknown provider {target!r}; choose from {', '.join(PROVIDERS)}")
    for w in sc.workloads:
        check_dns_label(w.name, "workload name")
        check_dns_label(w.namespace, f"namespace of workload {w.name!r}")
    for p in sc.cluster.node_pools:
        check_dns_label(p.name, "node pool name")
    prov = Provenance(
        sc.name,
        loaded.sha256 if loaded else scenario_hash(sc),
        sc.simulation.seed if seed is None else seed,
        simkit_version(),
    )
    files: dict[str, str] = {}
    for fmt in parse_formats(formats):
        if fmt == "autoscaler" and sc.cluster.node_provisioner == "karpenter":
            continue  # Karpenter provisions: no cluster autoscaler is deployed (karpenter.auto.tfvars)
        files.update(_BUILDERS[fmt](sc, target, prov))
    return files


def export_scenario(
    scenario: Scenario | LoadedScenario,
    out_dir: str | Path,
    formats: str | Iterable[str] = "all",
    provider: str | None = None,
    seed: int | None = None,
) -> list[Path]:
    """Write the chosen formats under `out_dir`; on any error nothing is written. Returns the paths."""
    return write_files(out_dir, build_files(scenario, formats, provider, seed))
