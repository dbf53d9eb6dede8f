"""Outputs survive a crash and never overwrite the user's files (issue 14, `simkit.outputs`).

`simkit run --out` is SIGKILLed at chosen points (the `SIMKIT_TEST_KILL_AT` hook): during the staging
writes, after the swap, between the two renames of the fallback; the directory is then the complete
old or the complete new output, and the next run cleans up and says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simkit.cli import main
from simkit.errors import SimkitError
from simkit.outputs import MANIFEST, owned, replace_dir, write_file

ROOT = Path(__file__).resolve().parents[1]


def run_out(out: Path, seed: int, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "simkit.cli",
        "run",
        "--duration",
        "1h",
        "--no-progress",
        "--seed",
        str(seed),
    ]
    return subprocess.run(
        [*cmd, "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def seed_of(out: Path) -> int:
    assert owned(out), "not a complete simkit output"
    return int((out / ".simkit-run").read_text().split("seed=")[1].split()[0])


@pytest.fixture(scope="module")
def old_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("template") / "out"
    assert run_out(out, seed=1).returncode in (0, 1)
    return out


def fresh(old_output: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    subprocess.run(["cp", "-a", str(old_output), str(out)], check=True)
    assert seed_of(out) == 1
    return out


@pytest.mark.parametrize(
    ("point", "exchange", "after"),
    [("staging", True, 1), ("swapped", True, 2), ("staging", False, 1), ("cleanup", False, 2)],
)
def test_a_killed_run_leaves_the_whole_old_or_the_whole_new_output(
    old_output: Path, tmp_path: Path, point: str, exchange: bool, after: int
) -> None:
    out = fresh(old_output, tmp_path)
    env = {"SIMKIT_TEST_KILL_AT": point, **({} if exchange else {"SIMKIT_TEST_NO_EXCHANGE": "1"})}
    proc = run_out(out, seed=2, **env)
    assert proc.returncode == -signal.SIGKILL
    assert seed_of(out) == after
    leftovers = [p for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers  # the killed run left its staging (or backup) behind
    nxt = run_out(out, seed=3)
    assert nxt.returncode in (0, 1), nxt.stderr
    assert "left by an interrupted run" in nxt.stderr
    assert seed_of(out) == 3 and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_killed_between_the_two_renames_the_next_run_restores_the_old_output(
    old_output: Path, tmp_path: Path
) -> None:
    out = fresh(old_output, tmp_path)
    proc = run_out(out, seed=2, SIMKIT_TEST_KILL_AT="swapped", SIMKIT_TEST_NO_EXCHANGE="1")
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists() and (tmp_path / ".out.simkit-backup").is_dir()
    done = run_out(out, seed=3, SIMKIT_TEST_KILL_AT="staging")  # restores, then is killed itself
    assert done.returncode == -signal.SIGKILL
    assert f"restored the previous output {out}" in done.stderr
    assert seed_of(out) == 1


def test_ownership_is_a_manifest_of_hashes_not_a_marker(tmp_path: Path) -> None:
    planted = tmp_path / "home"
    planted.mkdir()
    (planted / ".simkit-run").write_text("")
    (planted / "main.py").write_text("print('mine')")
    with pytest.raises(SimkitError, match="not a simkit output directory"):
        replace_dir(planted, {"a.csv": "x\n"})
    assert (planted / "main.py").read_text() == "print('mine')"
    out = replace_dir(tmp_path / "out", {"a.csv": "1\n", "sub/b.csv": "2\n"})
    assert owned(out) and (out / MANIFEST).exists()
    (out / "a.csv").write_text("edited")  # the user edits simkit's file: no longer simkit's to replace
    with pytest.raises(SimkitError, match="not a simkit output directory"):
        replace_dir(out, {"a.csv": "3\n"})
    replace_dir(out, {"c.csv": "3\n"}, force=True)  # --force: overwrite, keep the user's other files
    assert (out / "c.csv").read_text() == "3\n" and (out / "a.csv").read_text() == "edited"


def test_a_file_created_while_writing_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = replace_dir(tmp_path / "out", {"a.csv": "1\n"})

    def user_writes(point: str) -> None:
        if point == "staging":
            (out / "notes.txt").write_text("mine")

    monkeypatch.setattr("simkit.outputs._hook", user_writes)
    with pytest.raises(SimkitError, match="changed while simkit was writing"):
        replace_dir(out, {"a.csv": "2\n", "b.csv": "2\n"})
    assert (out / "notes.txt").read_text() == "mine" and (out / "a.csv").read_text() == "1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_single_file_outputs_refuse_files_simkit_did_not_write(tmp_path: Path) -> None:
    user = tmp_path / "results.csv"
    user.write_text("precious")
    with pytest.raises(SimkitError, match="exists and was not written by simkit; use --force"):
        write_file(user, "new")
    assert user.read_text() == "precious"
    mine = write_file(tmp_path / "runs.csv", "1")
    write_file(mine, "2")  # simkit's own (its sidecar hash matches): replaced
    assert mine.read_text() == "2"
    write_file(user, "forced", force=True)
    assert user.read_text() == "forced"


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("file/out", "a part of the path is not a directory"),
        ("b" * 300, "file name too long"),
        ("dir", "not empty and not a simkit output directory (files it did not write); use --force"),
    ],
)
def test_out_errors_are_one_line_before_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "main.py").write_text("x")
    # --duration 10000d would be refused by the pre-flight: --out is checked first, before anything
    assert main(["run", "--duration", "1h", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and err.endswith(f": {message}\n") and err.count("\n") == 1


def test_import_never_overwrites_its_own_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n      - {name: web, image: nginx}\n"
    )
    before = manifest.read_text()
    assert main(["import", str(manifest), "-o", str(manifest)]) == 2
    assert "exists and was not written by simkit; use --force" in capsys.readouterr().err
    assert manifest.read_text() == before
