"""Numbers at the edge (issue 14): finite, bounded, and a pre-flight that refuses what will not fit."""
# ruff: noqa: E501  (a corpus of exact one-line messages, kept whole)

from __future__ import annotations

import math
import time
from typing import Any

import pytest

import simkit
from simkit.cli import main
from simkit.errors import ScenarioError
from simkit.scenario import preflight
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario, load_scenario_file
from simkit.units import parse_cpu, parse_duration, parse_memory, parse_quantity

SRC = str(DEFAULT_SCENARIO)

# (override path, value, exact message after "<scenario>: "); line numbers are the default scenario's.
NUMBERS: list[tuple[str, Any, str]] = [
    (
        "traffic.load.base_rps",
        math.inf,
        "traffic.load.base_rps: input should be a finite number, got inf (line 240)",
    ),
    (
        "traffic.load.base_rps",
        math.nan,
        "traffic.load.base_rps: input should be a finite number, got nan (line 240)",
    ),
    (
        "traffic.load.base_rps",
        1e308,
        "traffic.load.base_rps: expected a finite number of magnitude at most 1e+12, got 1e+308 (line 240)",
    ),
    (
        "traffic.load.growth",
        math.inf,
        "traffic.load.growth: input should be a finite number, got inf (line 241)",
    ),
    (
        "faults.node_failures.annual_rate",
        1e308,
        "faults.node_failures.annual_rate: expected a finite number of magnitude at most 1e+12, got 1e+308 "
        "(line 296)",
    ),
    (
        "cost.other_monthly_usd.monitoring",
        math.nan,
        "cost.other_monthly_usd.monitoring: input should be a finite number, got nan (line 290)",
    ),
    ("simulation.duration", math.inf, "simulation.duration: expected a finite duration, got inf (line 303)"),
    (
        "simulation.duration",
        1e308,
        "simulation.duration: expected a duration of at most 100 years (36500d), got 1e+308 (line 303)",
    ),
    ("simulation.seed", -1, "simulation.seed: input should be greater than or equal to 0, got -1 (line 304)"),
    (
        "workloads.0.serving.service_time",
        math.nan,
        "workloads[0].serving.service_time: expected a finite duration, got nan (line 70)",
    ),
    (
        "workloads.0.resources.requests.cpu",
        math.inf,
        "workloads[0].resources.requests.cpu: expected a finite quantity, got inf (line 64)",
    ),
    (
        "workloads.0.resources.requests.memory",
        "1e400",
        "workloads[0].resources.requests.memory: expected a quantity of magnitude at most 2**63-1, got '1e400' "
        "(line 64)",
    ),
    (
        "workloads.0.replicas",
        1e308,
        "workloads[0].replicas: unable to parse input string as an integer, exceeded maximum size (line 63)",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), NUMBERS, ids=[f"{p}={v}" for p, v, _ in NUMBERS])
def test_every_number_is_finite_and_bounded(path: str, value: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(overrides={path: value})
    assert str(info.value) == f"{SRC}: {message}"


def test_minus_zero_reads_as_zero() -> None:
    sc = load_scenario(overrides={"traffic.load.base_rps": -0.0, "workloads.0.serving.service_time": -0.0})
    assert math.copysign(1, sc.traffic.load.base_rps or 0.0) == 1
    assert math.copysign(1, sc.workloads[0].serving.service_time) == 1
    assert math.copysign(1, parse_duration(-0.0)) == 1 and parse_cpu("-0") == 0 and parse_memory(-0.0) == 0


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (
            parse_quantity,
            "1e999999999",
            "expected a quantity of magnitude at most 2**63-1, got '1e999999999'",
        ),
        (parse_quantity, math.nan, "expected a finite quantity, got nan"),
        (parse_cpu, "9300P", "expected a quantity of magnitude at most 2**63-1, got '9300P'"),
        (
            parse_duration,
            "99999999999d",
            "expected a duration of at most 100 years (36500d), got '99999999999d'",
        ),
        (parse_duration, -math.inf, "expected a finite duration, got -inf"),
    ],
)
def test_units_refuse_non_finite_and_huge(parse: Any, value: Any, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        parse(value)
    assert str(info.value) == message
    assert time.perf_counter() - start < 0.1


PREFLIGHT = [
    (
        {"simulation.duration": "10000d"},
        "simulation.resolution: 10000d at 1m resolution is 14,400,000 ticks x 24 series (~35.5 GiB), over the "
        "budget of 5,000,000 ticks and 4 GiB; use resolution >= 10m for 10000d; or --no-limits to go beyond",
    ),
    (
        {"simulation.duration": "1d", "simulation.resolution": "1ms"},
        "simulation.resolution: 1d at 1ms resolution is 86,400,000 ticks x 24 series (~212.6 GiB), over the "
        "budget of 5,000,000 ticks and 4 GiB; use resolution >= 1s for 1d; or --no-limits to go beyond",
    ),
    (
        {"workloads.0.replicas": 1000000},
        "workloads: the workloads ask for up to 1,000,059 pods (replicas, or an HPA's maxReplicas), over the "
        "budget of 2,000; or --no-limits to go beyond",
    ),
    (
        {"cluster.node_pools.0.max_nodes": 5000},
        "cluster.node_pools: the node pools may grow to 5,012 nodes (max_nodes), over the budget of 1,000; "
        "or --no-limits to go beyond",
    ),
    (
        {"faults.node_failures.annual_rate": 1e11},
        "faults.node_failures.annual_rate: about 6.14e+10 node failures expected over 7d on up to 32 nodes, "
        "over the budget of 100,000; or --no-limits to go beyond",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), PREFLIGHT)
def test_preflight_refuses_before_allocating(overrides: dict[str, Any], message: str) -> None:
    sc = load_scenario(overrides=overrides)
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        simkit.simulate(sc)
    assert str(info.value) == message
    assert time.perf_counter() - start < 1.0
    assert preflight.check(sc, limits=False).ticks > 0  # --no-limits: the estimate, no refusal


def test_the_default_scenario_is_well_inside_the_budgets() -> None:
    est = preflight.check(load_scenario())
    assert (
        est.ticks == 10080 and est.pods == 59 + 3 and est.memory_bytes < 0.1 * preflight.MEMORY_BUDGET_BYTES
    )


@pytest.mark.parametrize(
    ("seed", "duration", "message"),
    [
        (-1, None, "seed: expected an integer from 0 to 2**63-1, got -1"),
        (1.5, None, "seed: expected an integer from 0 to 2**63-1, got 1.5"),
        (None, math.inf, "duration: expected seconds in (0, 100 years], got inf"),
        (None, -5, "duration: expected seconds in (0, 100 years], got -5"),
        # strings are Go durations, as on the command line (issue 11 item 7): a bad one names `duration`
        (None, "soon", "duration: expected a duration such as '30s', '5m', '1h30m' or '7d', got 'soon'"),
    ],
)
def test_api_arguments_raise_simkits_own_error(seed: Any, duration: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        simkit.simulate(seed=0 if seed is None else seed, duration=duration)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "--seed", "-1"],
            "simkit run: argument --seed: expected an integer from 0 to 2**63-1, got '-1'",
        ),
        (
            ["run", "--seed", "x"],
            "simkit run: argument --seed: expected an integer from 0 to 2**63-1, got 'x'",
        ),
        (
            ["run", "--duration", "inf"],
            "simkit run: argument --duration: expected a duration such as '30s', '5m', '1h30m' or '7d', got 'inf'",
        ),
        (
            ["sweep", "--vary", "a=1", "--seeds", "0"],
            "simkit sweep: argument --seeds: expected a whole number from 1 to 1000000, got '0'",
        ),
        (
            ["sweep", "--vary", "a=1", "--seeds", "-1"],
            "simkit sweep: argument --seeds: expected a whole number from 1 to 1000000, got '-1'",
        ),
        (
            ["sweep", "--vary", "a=1", "--jobs", "0"],
            "simkit sweep: argument --jobs: expected -1 (every core) or a number from 1 to 4096, got '0'",
        ),
        (
            ["run", "--set", "a=!!python/object/apply:os.system [ls]"],
            "--set a: not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' (line 1)",
        ),
        (
            ["run", "--set", "a=[1,"],
            "--set a: not valid YAML: expected the node content, but found '<stream end>' (line 1)",
        ),
        (
            ["run", "--duration", "10000d"],
            "simulation.resolution: 10000d at 1m resolution is 14,400,000 ticks x 24 series (~35.5 GiB), over the "
            "budget of 5,000,000 ticks and 4 GiB; use resolution >= 10m for 10000d; or --no-limits to go beyond",
        ),
    ],
)
def test_cli_argument_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_validate_runs_the_preflight(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(
        f"extends: {DEFAULT_SCENARIO}\nworkloads:\n"
        + DEFAULT_SCENARIO.read_text()
        .split("\nworkloads:\n")[1]
        .split("\ndaemonsets:")[0]
        .replace("replicas: 3", "replicas: 10000", 1)
        + "\n"
    )
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "over the budget of 2,000" in err
    assert main(["validate", "--no-limits", str(path)]) == 0
