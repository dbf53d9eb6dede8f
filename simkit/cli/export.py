"""`simkit export` and `simkit import`: a scenario to manifests and infrastructure files, and back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import add_force, add_out, add_scenario, add_seed, add_set, parse_set
from simkit.export.exporter import build_files
from simkit.export.importer import import_manifests
from simkit.export.k8s import export_notes
from simkit.export.writer import resolve_inside
from simkit.outputs import check_destination, replace_dir, write_file
from simkit.scenario.loader import load_scenario_file


def add_export(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="write Kubernetes manifests, Helm values, Terraform variables "
        "and cluster-autoscaler flags for a scenario",
    )
    add_scenario(export)
    add_out(export, "output directory (files are written only inside it)", required=True)
    export.add_argument(
        "--format", default="all", help="comma-separated: k8s,helm,terraform,autoscaler,karpenter or all"
    )
    export.add_argument(
        "--provider",
        choices=["aws", "azure", "gcp"],
        help="provider for Terraform and autoscaler output (default: the scenario's)",
    )
    add_seed(export, help="seed recorded in the file headers (default: the scenario's)")
    add_set(export, example="workloads.0.replicas=5")
    export.set_defaults(handler=cmd_export)


def add_import(sub: Any) -> None:
    imp = sub.add_parser("import", help="turn Kubernetes manifests into a scenario YAML")
    imp.add_argument("paths", nargs="+", metavar="FILES_OR_DIRS", help="manifest files or directories")
    imp.add_argument("-o", "--output", required=True, help="scenario YAML to write")
    imp.add_argument("--name", default="imported", help="scenario name (default: imported)")
    add_force(imp)
    imp.set_defaults(handler=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    """Validate everything, then write the files; print what was written."""
    loaded = load_scenario_file(args.scenario, parse_set(args.set), args.allow_dir)
    check_destination(args.out, args.force)
    files = build_files(loaded, args.format, args.provider, args.seed)
    replace_dir(
        args.out, {rel: files[rel] for rel in files if resolve_inside(Path(args.out), rel)}, args.force
    )
    for rel in files:
        print(f"wrote {Path(args.out) / rel}")
    for line in export_notes(loaded.scenario):
        print(f"note: {line}")
    print(f"{len(files)} files for scenario {loaded.scenario.name!r} (hash {loaded.sha256})")
    return ExitCode.OK


def cmd_import(args: argparse.Namespace) -> int:
    """Import, print assumptions and ignored documents one line each, write the scenario whole."""
    result = import_manifests(args.paths, name=args.name)
    for line in result.assumed:
        print(f"assumed: {line}")
    for line in result.inferred:
        print(f"inferred: {line}")
    for line in result.ignored:
        print(f"ignored: {line}")
    target = write_file(args.output, result.text, args.force, flag="-o")
    print(
        f"wrote {target}: {len(result.scenario.workloads)} workloads, {len(result.assumed)} assumptions, "
        f"{len(result.ignored)} ignored"
    )
    return ExitCode.OK
