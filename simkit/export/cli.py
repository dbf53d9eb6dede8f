"""The `simkit export` and `simkit import` subcommands, registered by `simkit.cli` via `add_commands`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXIT_OK = 0


def add_commands(sub: Any) -> None:
    """Add `export` and `import` to the `simkit` subparsers; each sets `handler` in its namespace."""
    export = sub.add_parser(
        "export",
        help="write Kubernetes manifests, Helm values, Terraform variables "
        "and cluster-autoscaler flags for a scenario",
    )
    export.add_argument("scenario", nargs="?", help="scenario YAML (default: the seed platform)")
    export.add_argument("--out", required=True, help="output directory (files are written only inside it)")
    export.add_argument(
        "--format", default="all", help="comma-separated: k8s,helm,terraform,autoscaler or all"
    )
    export.add_argument(
        "--provider",
        choices=["aws", "azure", "gcp"],
        help="provider for Terraform and autoscaler output (default: the scenario's)",
    )
    export.add_argument(
        "--seed", type=int, help="seed recorded in the file headers (default: the scenario's)"
    )
    export.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario field, e.g. --set workloads.0.replicas=5",
    )
    export.set_defaults(handler=cmd_export)

    imp = sub.add_parser("import", help="turn Kubernetes manifests into a scenario YAML")
    imp.add_argument("paths", nargs="+", metavar="FILES_OR_DIRS", help="manifest files or directories")
    imp.add_argument("-o", "--output", required=True, help="scenario YAML to write")
    imp.add_argument("--name", default="imported", help="scenario name (default: imported)")
    imp.set_defaults(handler=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    """Validate everything, then write the files; print what was written."""
    from simkit.cli import _parse_set
    from simkit.export.exporter import build_files
    from simkit.export.writer import write_files
    from simkit.scenario.loader import load_scenario_file

    loaded = load_scenario_file(args.scenario, overrides=_parse_set(args.set))
    files = build_files(loaded, args.format, args.provider, args.seed)
    write_files(args.out, files)
    for rel in files:
        print(f"wrote {Path(args.out) / rel}")
    print(f"{len(files)} files for scenario {loaded.scenario.name!r} (hash {loaded.sha256})")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Import, print assumptions and ignored documents one line each, write the scenario whole."""
    from simkit.export.importer import import_manifests
    from simkit.export.writer import atomic_write

    result = import_manifests(args.paths, name=args.name)
    for line in result.assumed:
        print(f"assumed: {line}")
    for line in result.ignored:
        print(f"ignored: {line}")
    target = Path(args.output)
    if target.is_dir():
        from simkit.errors import SimkitError

        raise SimkitError(f"-o {args.output!r} is a directory; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, result.text)
    print(
        f"wrote {target}: {len(result.scenario.workloads)} workloads, {len(result.assumed)} assumptions, "
        f"{len(result.ignored)} ignored"
    )
    return EXIT_OK
