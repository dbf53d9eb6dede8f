"""The `simkit` command: exit codes 0/1/2, one-line errors, nothing half-written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simkit.cli import main
from simkit.scenario.loader import DEFAULT_SCENARIO


def test_run_default_scenario_passes(capsys, tmp_path: Path):
    out = tmp_path / "out"
    code = main(["run", "--duration", "2h", "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "platform-baseline" in text and "PASS" in text and "FAIL" not in text
    for name in ("services", "routes", "queues", "nodes", "replicas", "events", "cost", "checks"):
        assert (out / f"{name}.parquet").is_file()  # Parquet by default (--format csv on request)
    assert (out / "summary.csv").is_file()
    assert (out / "summary.md").read_text().startswith("# simkit run: platform-baseline")


def test_missed_target_exits_1_with_a_reason(capsys):
    code = main(["run", "--duration", "2h", "--no-progress", "--set", "slos.p95_latency=50ms"])
    text = capsys.readouterr().out
    assert code == 1
    assert "MISSED: P95 of api-read" in text


def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_SCENARIO.read_text().replace("max_nodes: 20", "max_nodes: 2"))
    out = tmp_path / "out"
    code = main(["run", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "cluster.node_pools[0].max_nodes: must be >= min_nodes (3), got 2 (line" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--duration", "soon"],
        ["run", "--seed", "x"],
        ["frobnicate"],
        ["run", "--set", "novalue"],
        ["validate", "/nonexistent.yaml"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_check_runs_a_batch(capsys, tmp_path: Path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(DEFAULT_SCENARIO.read_text().replace("p95_latency: 200ms", "p95_latency: 100ms"))
    code = main(["check", str(DEFAULT_SCENARIO), str(strict), "--duration", "1h", "--no-progress"])
    text = capsys.readouterr().out
    assert code == 1
    assert f"PASS {DEFAULT_SCENARIO}" in text and f"FAIL {strict}" in text


def test_console_script_has_no_traceback_for_bad_input(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: [\n")
    proc = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "validate", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "not valid YAML" in proc.stderr


def test_write_replaces_an_existing_directory_whole(tmp_path: Path, default_hour):
    out = tmp_path / "out"
    result = default_hour
    result.write(out)
    (out / "summary.md").write_text("edited")
    result.write(out, force=True)  # a file simkit did not write: replaced only when told to
    assert (out / "summary.md").read_text() != "edited"
    result.write(out)  # simkit's own output (its manifest matches): replaced whole
    assert (out / "summary.md").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_refuses_to_replace_a_foreign_directory(tmp_path: Path, default_hour):
    from simkit.errors import SimkitError

    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(SimkitError, match="not a simkit output directory"):
        default_hour.write(precious)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_request_mode_replays_requests_and_agrees_with_the_fast_mode(capsys):
    from simkit.api import simulate

    fast = simulate(duration=1800, seed=5, progress=False)
    slow = simulate(duration=1800, seed=5, progress=False, mode="request")
    assert slow.meta["mode"] == "request" and slow.meta["fast_summary"] == fast.summary
    assert slow.summary["requests"] == pytest.approx(fast.summary["requests"], rel=0.03)  # Poisson arrivals
    for route in ("api-read", "api-write", "files"):
        assert slow.summary[f"p95_ms.{route}"] == pytest.approx(fast.summary[f"p95_ms.{route}"], rel=0.05)
    assert main(["run", "--duration", "10m", "--mode", "request", "--no-progress"]) == 0
    assert main(["run", "--mode", "slow"]) == 2


def _boom(*args, **kwargs):
    raise ZeroDivisionError("a bug\nsecond line")


def test_internal_error_exits_70_with_one_line_and_the_traceback_in_a_file(monkeypatch, tmp_path, capsys):
    import tempfile

    import simkit.cli.run
    from simkit.cli import ExitCode

    monkeypatch.setattr(simkit.cli.run, "simulate", _boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code = main(["run", "--duration", "1h", "--no-progress"])
    captured = capsys.readouterr()
    assert code == ExitCode.INTERNAL == 70
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("error: internal error (ZeroDivisionError: a bug); traceback in ")
    (saved,) = tmp_path.glob("simkit-traceback-*.txt")
    assert str(saved) in captured.err
    text = saved.read_text()
    assert text.startswith("Traceback") and "_boom" in text and "ZeroDivisionError: a bug" in text


def test_console_script_exit_code_of_an_internal_error_is_not_a_missed_target(tmp_path: Path):
    code = (
        "import sys, simkit.cli, simkit.cli.run as r\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "r.simulate = boom\n"
        "sys.exit(simkit.cli.main(['run', '--duration', '1h', '--no-progress']))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 70
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "RuntimeError: boom" in proc.stderr and str(tmp_path) in proc.stderr


def test_exit_codes_are_defined_once_and_distinct():
    from simkit.cli import ExitCode

    assert [int(c) for c in ExitCode] == [0, 1, 2, 70, 130]
    assert [c.name for c in ExitCode] == ["OK", "MISSED", "BAD_INPUT", "INTERNAL", "INTERRUPTED"]
    package = Path(__file__).resolve().parents[1] / "simkit"
    assert [p for p in package.rglob("*.py") if "EXIT_" in p.read_text()] == []  # no second definition


def test_export_does_not_import_the_cli():
    """The cli package imports the export package, never the other way round."""
    export = Path(__file__).resolve().parents[1] / "simkit" / "export"
    offenders = [p.name for p in export.glob("*.py") if "simkit.cli" in p.read_text()]
    assert offenders == []
