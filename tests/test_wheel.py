"""The wheel carries what simkit needs: built, installed into a fresh venv, run outside the checkout.

The package ships copies of the repository's ``data/`` (price catalog and its README) and ``scenarios/``
under ``simkit/_data/``; the first test fails while a copy differs from the repository file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from simkit._data import packaged

ROOT = Path(__file__).resolve().parents[1]
COPIES = {
    "catalog": (ROOT / "data", ("*.csv", "README.md")),
    "scenarios": (ROOT / "scenarios", ("*.yaml",)),
}
TIMEOUT_S = 300
BUILD_REQUIRES = ("setuptools>=68", "wheel")  # pyproject's [build-system]; dev extras install them


def _have(requirement: str) -> bool:
    req = Requirement(requirement)
    try:
        return req.specifier.contains(metadata.version(req.name))
    except metadata.PackageNotFoundError:
        return False


@pytest.mark.parametrize("folder", sorted(COPIES))
def test_the_packaged_copies_equal_the_repository_files(folder: str) -> None:
    source, patterns = COPIES[folder]
    want = {p.name: p.read_bytes() for pattern in patterns for p in source.glob(pattern)}
    got = {p.name: p.read_bytes() for p in packaged(folder).iterdir() if p.is_file()}
    assert want
    fix = f"simkit/_data/{folder}/ differs from {source.name}/: run make sync-data"
    assert sorted(got) == sorted(want), fix
    assert [name for name in sorted(want) if got[name] != want[name]] == [], fix


def _run(cmd: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


def _ok(proc: subprocess.CompletedProcess[str], what: str) -> str:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel (no deps); this environment's libraries reach it by a .pth.

    The wheel is built from a copy of the sources, so no build/ or egg-info lands in the checkout. A .pth
    inside a folder that a .pth added is not processed, so this environment's editable simkit stays out.
    """
    missing = [req for req in BUILD_REQUIRES if not _have(req)]
    assert not missing, f"{missing} missing from {sys.prefix}: make setup installs the dev extras"
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "simkit", src / "simkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp / "dist", src]
    _ok(_run(build, tmp), "pip wheel")
    (wheel,) = (tmp / "dist").glob("simkit-*.whl")

    env = tmp / "venv"
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", env], tmp), "python -m venv")
    python = env / "bin" / "python"
    _ok(_run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], tmp), "pip install")
    site = _ok(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp), "site")
    # after the install, so pip never sees this environment's (editable) simkit
    ours = {p for p in (*sys.path, sysconfig.get_paths()["purelib"]) if Path(p).name == "site-packages"}
    Path(site.strip(), "outer-environment.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return env


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory outside the checkout."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def _installed(venv: Path, cwd: Path) -> dict[str, Path]:
    probe = "import simkit as s, simkit.catalog as c; print(s.__file__, c.data_dir(), s.DEFAULT_SCENARIO)"
    out = _ok(_run([venv / "bin" / "python", "-c", probe], cwd), "import simkit").split()
    return dict(zip(("module", "catalog", "scenario"), map(Path, out), strict=True))


def test_simkit_is_imported_from_the_venv_with_its_data(venv: Path, outside: Path) -> None:
    paths = _installed(venv, outside)
    for path in paths.values():
        assert venv in path.parents and ROOT not in path.parents, paths
    assert (paths["catalog"] / "instance_types.csv").is_file() and (paths["catalog"] / "README.md").is_file()
    assert paths["scenario"].is_file()


def test_simkit_run_works_outside_the_checkout(venv: Path, outside: Path) -> None:
    proc = _run([venv / "bin" / "simkit", "run", "--duration", "1h", "--no-progress"], outside)
    out = _ok(proc, "simkit run")
    assert "platform-baseline" in out and "PASS" in out and "MISSED" not in out
    assert "Traceback" not in proc.stderr
    assert list(outside.iterdir()) == []  # nothing written without --out


def test_simkit_validate_reads_the_packaged_scenarios_and_their_extends(venv: Path, outside: Path) -> None:
    shipped = sorted(_installed(venv, outside)["scenario"].parent.glob("*.yaml"))
    assert len(shipped) == len(list((ROOT / "scenarios").glob("*.yaml")))
    mine = outside / "mine.yaml"
    mine.write_text(f"extends: {shipped[0].parent / 'platform-baseline.yaml'}\nname: mine\n")
    proc = _run([venv / "bin" / "simkit", "validate", *shipped, mine], outside)
    lines = _ok(proc, "simkit validate").splitlines()
    assert [line.split(":")[0] for line in lines] == [f"ok {p}" for p in (*shipped, mine)]
    assert lines[-1].startswith(f"ok {mine}: mine (hash ")


def test_karpenter_export_validates_against_the_packaged_crds(venv: Path, outside: Path) -> None:
    shipped = _installed(venv, outside)["scenario"].parent / "karpenter-baseline.yaml"
    out = outside / "export"
    proc = _run([venv / "bin" / "simkit", "export", shipped, "--format", "karpenter", "--out", out], outside)
    _ok(proc, "simkit export --format karpenter")
    assert (out / "karpenter" / "nodepools.yaml").is_file() and (out / "karpenter" / "values.yaml").is_file()
