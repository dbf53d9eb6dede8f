"""`simkit diff BASE HEAD`: cost per item, targets and capacity, between run directories, scenario
files and a scenario at a git revision."""

import shutil
import subprocess
from pathlib import Path

import pytest

from simkit import DEFAULT_SCENARIO  # noqa: E402
from simkit.cli import COMMANDS, main
from simkit.cli.diff import add_diff
from simkit.report.diff import compare, from_dir, from_result, to_markdown, to_text

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "platform-baseline.yaml"


def _scenario(path: Path, extra: str) -> Path:
    path.write_text(f"extends: {DEFAULT_SCENARIO}\n{extra}")  # the shipped copy: always allowed
    return path


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("diff") / "base"
    assert main(["run", "--duration", "1h", "--no-progress", "--out", str(out)]) == 0
    return out


def test_diff_is_a_command():
    assert add_diff in COMMANDS


def test_a_run_directory_against_itself_changes_nothing(base_dir: Path, default_hour):
    same = compare(from_dir(base_dir), from_result("python", default_hour))
    assert (same.cost["change_usd"].abs() < 1e-9).all()
    assert same.cost_change == pytest.approx(0.0)
    assert (same.targets["value_base"] == same.targets["value_head"]).all()
    assert (same.capacity["peak_base"] == same.capacity["peak_head"]).all()
    assert "targets met 7/7 -> 7/7" in to_text(same)


def test_diff_of_a_directory_and_a_changed_scenario(base_dir: Path, tmp_path: Path, capsys):
    head = _scenario(
        tmp_path / "head.yaml",
        "cost:\n  budget_usd_month: 1400\n  load_balancers: 4\n  other_monthly_usd: {dns: 60}\n",
    )
    code = main(["diff", str(base_dir), str(head), "--duration", "1h", "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0
    lines = text.splitlines()
    assert lines[2].startswith("cost $1,501 -> $1,574/month (+$73, +4.9%)")
    assert "targets met 7/7 -> 6/7; now missed: cost per month" in lines[2]
    lb = next(line for line in lines if line.startswith("load balancers"))
    assert lb.split()[-4:] == ["$33", "$66", "+$33", "+100.0%"]
    dns = next(line for line in lines if line.startswith("dns"))
    assert dns.split()[-4:] == ["$20", "$60", "+$40", "+200.0%"]
    cost = next(line for line in lines if line.startswith("cost per month"))
    assert cost.split()[3:] == [
        "$10,000",
        "->",
        "$1,400",
        "$1,501",
        "$1,574",
        "$8,499",
        "$-174",
        "PASS",
        "->",
        "FAIL",
    ]
    assert "nodes application-pool" in text and "pods kong" in text


def test_markdown_for_a_pull_request_comment(base_dir: Path, tmp_path: Path, capsys):
    head = _scenario(tmp_path / "head.yaml", "slos:\n  p95_latency: 150ms\n")
    assert main(["diff", str(base_dir), str(head), "--duration", "1h", "--no-progress", "--markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("### simkit diff\n")
    assert "now missed: p95 api-write, p95 files" in md
    for title in ("#### Cost per month", "#### Targets", "#### Capacity"):
        assert f"\n{title}" in md
    row = next(line for line in md.splitlines() if line.startswith("| p95 api-write |"))
    cells = ["p95 api-write", "200.0 ms -> 150.0 ms", "168.0 ms", "168.0 ms", "32.0 ms", "-18.0 ms"]
    assert row == "| " + " | ".join([*cells, "PASS -> FAIL"]) + " |"
    tables = [t.splitlines() for t in md.split("\n\n") if t.startswith("| ")]
    assert len(tables) == 3
    for table in tables:  # every row has as many cells as its header
        assert len({line.count("|") for line in table}) == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_scenario_at_a_git_revision(tmp_path: Path, monkeypatch, capsys):
    def git(*argv: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *argv], cwd=tmp_path, check=True)

    git("init", "-q")
    scenario = _scenario(tmp_path / "plan.yaml", "cost:\n  load_balancers: 2\n")
    git("add", "plan.yaml")
    git("commit", "-qm", "base")
    _scenario(scenario, "cost:\n  load_balancers: 6\n")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "HEAD:plan.yaml", "plan.yaml", "--duration", "1h", "--no-progress"]) == 0
    text = capsys.readouterr().out
    lb = next(line for line in text.splitlines() if line.startswith("load balancers"))
    assert lb.split()[-4:] == ["$33", "$99", "+$66", "+200.0%"]
    assert main(["diff", "HEAD:nope.yaml", "plan.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: HEAD:nope.yaml: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("side", "message"),
    [("nonexistent.yaml", "no such file"), ("tests", "not a `simkit run --out` directory")],
)
def test_bad_sides_exit_2_with_one_line(side, message, capsys):
    assert main(["diff", side, str(BASELINE)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_markdown_has_the_total_row(base_dir: Path):
    snap = from_dir(base_dir)
    diff = compare(snap, snap)
    assert "| total | $1,501 | $1,501 | $0 |" in to_markdown(diff)
