"""Export writes only inside --out, refuses bad names, replaces files whole, writes nothing on error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simkit.cli import main
from simkit.errors import ExportError
from simkit.export import writer
from simkit.export.exporter import export_scenario
from simkit.export.writer import check_dns_label, resolve_inside, write_files
from simkit.scenario.loader import load_scenario, load_scenario_file


@pytest.mark.parametrize(
    "rel", ["../x.yaml", "/etc/passwd", "k8s/../../x", "a//b/../../..", ".hidden/x", "..", "k8s/a b.yaml"]
)
def test_paths_outside_or_unclean_are_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(ExportError, match="refusing to write"):
        resolve_inside(tmp_path, rel)


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "k8s").symlink_to(outside)
    with pytest.raises(ExportError, match="outside"):
        write_files(out, {"k8s/x.yaml": "a: 1\n"})
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", ["Bad_Name", "-x", "x-", "a" * 64, "../evil", "a.b", ""])
def test_bad_dns_labels_are_refused(name: str) -> None:
    with pytest.raises(ExportError, match="DNS-1123"):
        check_dns_label(name, "workload name")


def test_a_bad_name_anywhere_writes_nothing(tmp_path: Path) -> None:
    sc = load_scenario()
    last = sc.workloads[-1].model_copy(update={"name": "../../etc"})  # bypasses the schema's own check
    bad = sc.model_copy(update={"workloads": [*sc.workloads[:-1], last]})
    with pytest.raises(ExportError, match="'../../etc' is not a valid DNS-1123 label"):
        export_scenario(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_namespace_is_refused(tmp_path: Path) -> None:
    sc = load_scenario(overrides={"workloads.0.namespace": "Istio_System"})
    with pytest.raises(ExportError, match="namespace"):
        export_scenario(sc, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_whole_via_os_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "k8s" / "x.yaml"
    target.parent.mkdir()
    target.write_text("old\n")
    calls: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: str, dst: str | Path) -> None:
        calls.append((str(src), str(dst)))
        assert Path(src).parent == target.parent  # temp file in the same directory
        assert target.read_text() == "old\n"  # untouched until the rename
        real(src, dst)

    monkeypatch.setattr(writer.os, "replace", spy)
    write_files(tmp_path, {"k8s/x.yaml": "new\n"})
    assert target.read_text() == "new\n"
    assert calls and calls[0][1] == str(target)
    assert [p.name for p in target.parent.iterdir()] == ["x.yaml"]  # no temp files left


def test_failed_write_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.yaml"
    target.write_text("old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer.os, "replace", boom)
    with pytest.raises(OSError):
        write_files(tmp_path, {"x.yaml": "new\n"})
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.yaml"]


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(ExportError, match="not a directory"):
        export_scenario(load_scenario_file(), tmp_path / "f")


def test_cli_export_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["export", "--out", str(tmp_path / "o"), "--format", "k8s,autoscaler", "--provider", "azure"])
        == 0
    )
    assert (tmp_path / "o/autoscaler/cluster-autoscaler-args.yaml").read_text().count(
        "--cloud-provider=azure"
    ) == 1
    assert not (tmp_path / "o/helm").exists()
    capsys.readouterr()
    assert main(["export", "--out", str(tmp_path / "p"), "--format", "rpm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown export format rpm") and err.count("\n") == 1
    assert main(["export", "--out", str(tmp_path / "q"), "--set", "workloads.0.namespace=BAD"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "q").exists()
