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

from simkit.export.checkov_skips import CHECKOV_SKIPS, STOCK_IMAGE_CHECKS
from simkit.export.exporter import export_scenario
from simkit.export.images import known_image
from simkit.export.importer import import_manifests
from simkit.scenario.loader import load_scenario_file
from simkit.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-manifests"  # the seed's YAML blocks, shipped in the repository
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
    export_scenario(import_manifests([SEED], name="seed").scenario, root / "seed", "k8s")
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
    assert outside == sorted(
        f"{check} {res}" for check, res in stock_image_failures(load_scenario_file().scenario)
    )
    assert {o.split()[0] for o in outside} == set(STOCK_IMAGE_CHECKS)  # the allowance is not vacuous


def stock_image_failures(sc: Scenario) -> set[tuple[str, str]]:
    """(check, resource) that the export notes announce: a stock image's low UID, Keycloak's writable root."""
    out = set()
    for w in sc.workloads:
        row, _ = known_image(w)
        if row is None:
            continue
        resource = f"{w.kind}.{w.namespace}.{w.name}"
        if row.uid < 10000:
            out.add(("CKV_K8S_40", resource))
        if not row.read_only_root:
            out.add(("CKV_K8S_22", resource))
    return out
    assert report["summary"][0]["passed"] > 1000  # --quiet lists failures only; the summary counts passes


def test_seed_import_export_fails_only_allow_listed_or_missing_limits(report: dict[str, list[dict]]) -> None:
    outside = {(c["check_id"], c["resource"]) for c in report["seed"] if c["check_id"] not in CHECKOV_SKIPS}
    # external-dns has no resources in the seed: its missing limits are the seed's, reported honestly;
    # keycloak (quay.io/keycloak/keycloak:23.0 in the seed) runs as its image's UID 1000, root writable
    assert outside == {
        ("CKV_K8S_11", "Deployment.kube-system.external-dns"),
        ("CKV_K8S_13", "Deployment.kube-system.external-dns"),
        ("CKV_K8S_40", "StatefulSet.infrastructure.keycloak"),
        ("CKV_K8S_22", "StatefulSet.infrastructure.keycloak"),
    }


def test_checkov_really_checks(report: dict[str, list[dict]]) -> None:
    failed = {c["check_id"] for c in report["bad"]}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_14", "CKV_K8S_23"} <= failed
