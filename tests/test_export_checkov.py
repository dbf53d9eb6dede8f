"""checkov over exported manifests: 0 failed checks outside `CHECKOV_SKIPS` (see CHECKOV_SKIPS.md).

checkov pins packages that clash with the project's venv (its `hcl2` module is a fork with the same
name as python-hcl2's, and it pins `packaging<24` while pytest needs >=24), so it lives in its own
venv, `.venv/checkov`, created here on first use from PyPI. `SIMKIT_CHECKOV` may point to a binary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simkit.export.checkov_skips import CHECKOV_SKIPS
from simkit.export.exporter import export_scenario
from simkit.export.importer import import_manifests
from simkit.export.markdown import write_yaml_blocks
from simkit.scenario.loader import load_scenario_file

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "infrastructure-overview.md"
CHECKOV_VERSION = "3.3.30"
TOOL_VENV = ROOT / ".venv" / "checkov"

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: root-app, namespace: shop}
spec:
  selector: {matchLabels: {app: root-app}}
  template:
    metadata: {labels: {app: root-app}}
    spec:
      containers:
      - name: app
        image: app:latest
        securityContext: {privileged: true, allowPrivilegeEscalation: true}
"""


def _checkov() -> str:
    given = os.environ.get("SIMKIT_CHECKOV")
    if given:
        return given
    binary = TOOL_VENV / "bin" / "checkov"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOL_VENV)], check=True)
        subprocess.run(
            [str(TOOL_VENV / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True
        )
    return str(binary)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("checkov")
    export_scenario(load_scenario_file(), root / "baseline", "k8s")
    if SEED.exists():
        blocks = write_yaml_blocks(SEED, tmp_path_factory.mktemp("seed"))
        export_scenario(import_manifests(blocks, name="seed").scenario, root / "seed", "k8s")
    (root / "bad").mkdir()
    (root / "bad" / "bad.yaml").write_text(BAD)
    proc = subprocess.run(
        [
            _checkov(),
            "-d",
            str(root),
            "--framework",
            "kubernetes",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["summary"]["parsing_errors"] == 0
    by_dir: dict[str, list[dict]] = {"baseline": [], "seed": [], "bad": [], "summary": [data["summary"]]}
    for check in data["results"]["failed_checks"]:
        by_dir[check["file_path"].strip("/").split("/")[0]].append(check)
    return by_dir


def test_baseline_export_fails_only_allow_listed_checks(report: dict[str, list[dict]]) -> None:
    outside = sorted(
        {f"{c['check_id']} {c['resource']}" for c in report["baseline"] if c["check_id"] not in CHECKOV_SKIPS}
    )
    assert outside == []
    assert report["summary"][0]["passed"] > 1000  # --quiet lists failures only; the summary counts passes


def test_seed_import_export_fails_only_allow_listed_or_missing_limits(report: dict[str, list[dict]]) -> None:
    if not SEED.exists():
        pytest.skip("shared/seed not beside the repository")
    outside = {(c["check_id"], c["resource"]) for c in report["seed"] if c["check_id"] not in CHECKOV_SKIPS}
    # external-dns has no resources in the seed: its missing limits are the seed's, reported honestly
    assert outside == {
        ("CKV_K8S_11", "Deployment.kube-system.external-dns"),
        ("CKV_K8S_13", "Deployment.kube-system.external-dns"),
    }


def test_checkov_really_checks(report: dict[str, list[dict]]) -> None:
    failed = {c["check_id"] for c in report["bad"]}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_14", "CKV_K8S_23"} <= failed
