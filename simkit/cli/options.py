"""What the `simkit` commands share: the parser, the common options and the parsing of their values."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from simkit.batch import BACKENDS
from simkit.cli.exitcodes import ExitCode
from simkit.errors import SimkitError
from simkit.report.ci import Outputs, ScenarioVerdict, failed_line
from simkit.scenario import preflight, yamlread
from simkit.units import parse_duration

SCENARIO_HELP = "scenario YAML (default: the seed platform)"


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2 (a `SimkitError`)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise SimkitError(f"{self.prog}: {message}")


def duration(text: str) -> float:
    """An argparse type: a positive Go-style duration (`30s`, `1h30m`, `7d`) in seconds; a unit is
    required (a bare `1` would silently be one second)."""
    if text.strip().replace(".", "", 1).isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a duration with a unit such as '30s', '5m', '1h30m' or '7d', got {text!r}"
        )
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {text!r}")
    return value


def seed(text: str) -> int:
    """An argparse type: a seed, a non-negative int64 (the API's check, the same words)."""
    try:
        return preflight.seed_value(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**63-1, got {text!r}") from None


def count(text: str) -> int:
    """An argparse type: a positive integer (`--seeds`)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 1000000, got {text!r}")
    return value


def jobs(text: str) -> int:
    """An argparse type: parallel workers, a positive number or -1 for every core (`--jobs`)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value != -1 and not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"expected -1 (every core) or a number from 1 to 4096, got {text!r}")
    return value


def probability(text: str) -> float:
    """An argparse type: a probability strictly between 0 and 1 (`0.95`)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability such as 0.95, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability strictly between 0 and 1, got {text!r}")
    return value


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` items as scenario overrides; each value is read as YAML (`10`, `50ms`, `[a]`)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SimkitError(f"--set expects KEY=VALUE (e.g. traffic.load.growth=10), got {item!r}")
        out[key] = yamlread.load_value(raw, f"--set {key}")
    return out


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """`--vary KEY=V1,V2,...` items as a sweep grid; each value is read as YAML."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key or not raw:
            raise SimkitError(
                f"--vary expects KEY=V1,V2,... (e.g. cluster.node_pools.0.min_nodes=3,6), got {item!r}"
            )
        grid[key] = [yamlread.load_value(v, f"--vary {key}") for v in raw.split(",")]
    return grid


def progress(args: argparse.Namespace) -> bool | None:
    """The `progress` argument of simulate/sweep: off with --no-progress, else tqdm decides."""
    return False if args.no_progress else None


# -- options, each added the same way by every command that takes it ------------------------------
def add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    add_allow_dir(p)


def add_scenarios(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    add_allow_dir(p)


def add_allow_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also let extends: and trace paths resolve under DIR (default: the scenario's directory tree)",
    )


def add_seed(
    p: argparse.ArgumentParser, help: str = "random seed (default: the scenario's simulation.seed)"
) -> None:
    p.add_argument("--seed", type=seed, help=help)


def add_duration(
    p: argparse.ArgumentParser, help: str = "simulated time, e.g. 7d, 12h (default: the scenario's)"
) -> None:
    p.add_argument("--duration", type=duration, help=help)


def add_set(p: argparse.ArgumentParser, example: str = "traffic.load.growth=10") -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a scenario field, e.g. --set {example}",
    )


def add_out(p: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    p.add_argument("--out", required=required, help=help)
    add_force(p)


def add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="overwrite files simkit did not write")


def add_no_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-limits",
        action="store_true",
        help="run even if the pre-flight estimate is over its budget (ticks, memory, pods, nodes, failures)",
    )


def add_no_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_backend(p: argparse.ArgumentParser) -> None:
    """`--backend` and `--scheduler`: where a batch's runs go (`simkit.batch`)."""
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="joblib backend for the runs: loky (processes, default), threading, or dask (a Dask cluster)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="the Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask; none: a local cluster)",
    )


def add_replications(p: argparse.ArgumentParser) -> None:
    """`--seeds N`, `--require P` and `--jobs J`: a Monte Carlo verdict instead of one seed's."""
    p.add_argument(
        "--seeds",
        type=count,
        metavar="N",
        help="run N seeds (--seed, --seed+1, ...) on all cores and judge each target by the chance it "
        "holds: it passes when the lower bound of its Wilson 95%% interval is >= --require",
    )
    p.add_argument(
        "--require",
        type=probability,
        default=0.95,
        metavar="P",
        help="with --seeds: the probability a target must hold with 95%% confidence (default 0.95; "
        "with no miss that takes 73 seeds)",
    )
    p.add_argument(
        "--jobs", type=jobs, default=-1, help="with --seeds: parallel workers (default: all cores)"
    )


def add_ci_outputs(p: argparse.ArgumentParser) -> None:
    """`--junit FILE`, `--summary FILE`, `--annotations` and `--json FILE` (simkit.report.ci)."""
    g = p.add_argument_group("CI outputs")
    g.add_argument(
        "--junit", metavar="FILE", help="write JUnit XML: a testsuite per scenario, a testcase per target"
    )
    g.add_argument(
        "--summary", metavar="FILE", help="write a Markdown job summary, e.g. $GITHUB_STEP_SUMMARY"
    )
    g.add_argument(
        "--annotations",
        action="store_true",
        help="print GitHub workflow commands: ::error per missed target, ::warning per thin margin",
    )
    g.add_argument("--json", metavar="FILE", help="write the same verdicts as JSON")


def ci_outputs(args: argparse.Namespace) -> Outputs:
    """The CI outputs asked for, their destinations checked (call it before simulating)."""
    outputs = Outputs(junit=args.junit, summary=args.summary, json=args.json, annotations=args.annotations)
    outputs.check()
    return outputs


def finish(args: argparse.Namespace, verdicts: list[ScenarioVerdict], count: bool = False) -> int:
    """Write the CI outputs of these verdicts (and with `count` the `N of M scenarios failed` line);
    the exit code: 1 if any scenario missed a target."""
    if count:
        print(failed_line(verdicts))
    ci_outputs(args).write(verdicts)
    return ExitCode.OK if all(v.passed for v in verdicts) else ExitCode.MISSED
