"""CI outputs of `simkit run|check`: JUnit XML (against junit-10.xsd), job summary, annotations, JSON."""

import json
import math
from pathlib import Path

import junitparser
import pytest
import xmlschema
import yaml

from simkit.cli import main
from simkit.report.ci import (
    ScenarioVerdict,
    TargetVerdict,
    command,
    escape_data,
    escape_property,
    junit_xml,
    summary_markdown,
    to_json,
    workflow_commands,
)

ROOT = Path(__file__).resolve().parents[1]
# extends: resolves inside the scenario's directory or the shipped scenarios (issue 14)
from simkit import DEFAULT_SCENARIO  # noqa: E402

XSD = xmlschema.XMLSchema(Path(__file__).parent / "data" / "junit-10.xsd")


def _failing_scenario(tmp_path: Path) -> Path:
    """The seed platform with a 50 ms P95 target, which every route misses."""
    path = tmp_path / "tight.yaml"
    path.write_text(f"extends: {DEFAULT_SCENARIO}\nname: tight\nslos:\n  p95_latency: 50ms\n")
    return path


def test_check_writes_junit_summary_annotations_and_json(tmp_path: Path, capsys):
    failing = _failing_scenario(tmp_path)
    files = {k: tmp_path / f"out.{k}" for k in ("xml", "md", "json")}
    argv = ["check", "scenarios/platform-baseline.yaml", str(failing), "--duration", "1h", "--no-progress"]
    argv += ["--junit", str(files["xml"]), "--summary", str(files["md"]), "--json", str(files["json"])]
    code = main([*argv, "--annotations"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 of 2 scenarios failed" in out

    # JUnit: valid against the schema, and read back by a JUnit parser
    XSD.validate(str(files["xml"]))
    xml = junitparser.JUnitXml.fromfile(str(files["xml"]))
    suites = {s.name: s for s in xml}
    assert set(suites) == {"scenarios/platform-baseline.yaml", str(failing)}
    good, bad = suites["scenarios/platform-baseline.yaml"], suites[str(failing)]
    assert good.failures == 0 and bad.failures == 4 and bad.tests == good.tests == 4 + 3
    cases = {c.name: c for c in bad}
    assert not cases["p95 api-read"].is_passed and cases["availability"].is_passed
    assert "P95 of api-read over 50.0 ms for 1h" in cases["p95 api-read"].result[0].message
    props = {p.name: p.value for p in bad.properties()}
    assert float(props["p95 api-read.threshold"]) == 50.0
    assert float(props["p95 api-read.observed"]) > 50.0 > 0 > float(props["p95 api-read.margin"])
    assert props["p95 api-read.seeds"] == "1" and float(props["p95 api-read.p_met"]) == 0.0
    assert props["scenario"] == "tight" and props["seeds"] == "seed 42"

    # the job summary: a row per scenario x target, failed first, the count on top
    md = files["md"].read_text()
    assert md.startswith("## simkit: 1 of 2 scenarios failed")
    rows = [line for line in md.splitlines() if line.startswith("| ✅") or line.startswith("| ❌")]
    assert len(rows) == 14 and sum(r.startswith("| ❌") for r in rows) == 4
    assert rows[0].startswith(f"| ✅ | {failing} | availability |")  # the failed scenario first
    assert rows[1].startswith(f"| ❌ | {failing} | p95 api-read | 50.0 ms |")

    # annotations: an error per missed target with the file, a notice for the scenario that passed
    commands = [line for line in out.splitlines() if line.startswith("::")]
    errors = [c for c in commands if c.startswith("::error ")]
    assert len(errors) == 4
    assert errors[0].startswith(f"::error file={escape_property(str(failing))},title=simkit%3A p95 api-read")
    assert any(c.startswith("::notice file=scenarios/platform-baseline.yaml,") for c in commands)

    # JSON: the same content
    doc = json.loads(files["json"].read_text())
    assert (doc["failed"], doc["total"], doc["passed"]) == (1, 2, False)
    targets = {t["target"]: t for t in doc["scenarios"][1]["targets"]}
    assert targets["p95 api-read"]["observed"] == pytest.approx(float(props["p95 api-read.observed"]))
    assert targets["availability"]["ci_low"] is None


def test_run_with_seeds_reports_the_pass_probability(tmp_path: Path, capsys):
    junit, js = tmp_path / "j.xml", tmp_path / "j.json"
    argv = ["run", "--seeds", "2", "--jobs", "1", "--duration", "1h", "--no-progress"]
    code = main([*argv, "--junit", str(junit), "--json", str(js)])
    capsys.readouterr()
    assert code == 1  # two clean seeds are far too few for 0.95
    XSD.validate(str(junit))
    suite = next(iter(junitparser.JUnitXml.fromfile(str(junit))))
    props = {p.name: p.value for p in suite.properties()}
    assert props["seeds"] == "2 seeds (42 to 43)"
    assert props["availability.seeds"] == "2" and props["availability.met"] == "2"
    assert float(props["availability.p_met"]) == 1.0
    assert 0 < float(props["availability.ci_low"]) < 0.95  # Wilson lower bound of 2/2
    assert {c.name for c in suite} >= {"all targets", "availability", "cost per month"}
    doc = json.loads(js.read_text())
    avail = next(t for t in doc["scenarios"][0]["targets"] if t["target"] == "availability")
    assert avail["margin"] > 0 and "too few to show 0.95" in avail["reason"]


def test_an_unwritable_destination_is_refused_before_simulating(tmp_path: Path, capsys):
    code = main(["run", "--duration", "100d", "--junit", str(tmp_path / "no" / "such" / "j.xml")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--junit" in err and "does not exist" in err


def test_escaping_follows_githubs_toolkit():
    assert escape_data("50% of\r\nit: a,b") == "50%25 of%0D%0Ait: a,b"
    assert escape_property("50% of\r\nit: a,b") == "50%25 of%0D%0Ait%3A a%2Cb"
    assert (
        command("error", "a%b\nc", file="x:y.yaml", title="t,1")
        == "::error file=x%3Ay.yaml,title=t%2C1::a%25b%0Ac"
    )
    assert command("notice", "plain") == "::notice::plain"


def _verdicts(scenarios: int, targets: int, failing: int) -> list[ScenarioVerdict]:
    def target(i: int, passed: bool) -> TargetVerdict:
        margin = 10.0 if passed else -5.0
        return TargetVerdict(
            target=f"p95 route-{i}",
            unit=" ms",
            threshold=200.0,
            observed=200 - margin,
            margin=margin,
            passed=passed,
            seeds=1,
            met=int(passed),
            p_met=float(passed),
            reason="" if passed else f"P95 of route-{i} 205.0 ms misses the target <= 200.0 ms",
        )

    return [
        ScenarioVerdict(
            path=f"scenarios/s{s}.yaml",
            name=f"s{s}",
            passed=s >= failing,
            seeds="seed 1",
            duration_s=3600.0,
            targets=[target(i, s >= failing) for i in range(targets)],
        )
        for s in range(scenarios)
    ]


def test_at_most_ten_annotations_per_level_and_one_notice_for_the_rest():
    lines = workflow_commands(_verdicts(scenarios=30, targets=2, failing=7))  # 14 errors, 23 notices
    levels = [line.split(" ", 1)[0].split("::")[1] for line in lines]
    assert levels.count("error") == 10 and levels.count("warning") == 0 and levels.count("notice") == 11
    assert lines[-1] == "::notice title=simkit::4 more errors, 13 more notices not shown; see the job summary"


def test_thin_margins_warn():
    v = _verdicts(1, 1, 0)[0]
    thin = TargetVerdict("p95 x", " ms", 200.0, 195.0, 5.0, True, 1, 1, 1.0)
    avail = TargetVerdict("availability", "%", 99.9, 99.901, 0.001, True, 1, 1, 1.0)
    roomy = TargetVerdict("availability", "%", 99.9, 99.99, 0.09, True, 1, 1, 1.0)
    lines = workflow_commands(
        [ScenarioVerdict(v.path, v.name, True, "seed 1", 60.0, targets=[thin, avail, roomy])]
    )
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(warnings) == 2 and "thin margin" in warnings[0] and "195.0 ms" in warnings[0]


def test_the_summary_stays_under_its_budget_and_says_it_was_cut():
    verdicts = _verdicts(scenarios=400, targets=20, failing=3)
    full = summary_markdown(verdicts)
    assert "truncated" not in full and len(full.encode()) < 1_000_000
    cut = summary_markdown(verdicts, budget=20_000)
    assert len(cut.encode()) <= 20_000
    assert cut.startswith("## simkit: 3 of 400 scenarios failed")
    assert cut.rstrip().endswith("see the JUnit or JSON file_") and "more line(s) left out" in cut
    assert cut.splitlines()[4].startswith("| ❌ | scenarios/s0.yaml")  # failures are kept first
    huge = summary_markdown(_verdicts(scenarios=4000, targets=20, failing=3))
    assert len(huge.encode()) <= 1_000_000 < 1024 * 1024 and "truncated" in huge


def test_junit_of_a_synthetic_batch_is_valid_and_the_json_has_the_same_targets():
    verdicts = _verdicts(scenarios=3, targets=2, failing=1)
    text = junit_xml(verdicts)
    XSD.validate(text)
    xml = junitparser.JUnitXml.fromstring(text)
    assert [s.failures for s in xml] == [2, 0, 0]
    doc = json.loads(to_json(verdicts))
    assert [len(s["targets"]) for s in doc["scenarios"]] == [s.tests for s in xml]
    assert all(not math.isnan(t["margin"]) for s in doc["scenarios"] for t in s["targets"])


def test_the_readme_workflow_is_valid_yaml_and_uses_the_options():
    text = (ROOT / "README.md").read_text()
    block = text.split("# .github/workflows/capacity.yml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["simkit"]["steps"]
    check = next(s["run"] for s in steps if "simkit check" in s.get("run", ""))
    for option in ("--junit", "--summary", "--annotations", "--json"):
        assert option in check
