"""`simkit optimize`: search plans with Optuna; print the Pareto front and the re-verified pick."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from simkit.cli.exitcodes import ExitCode
from simkit.cli.options import (
    add_duration,
    add_no_progress,
    add_out,
    add_scenario,
    add_set,
    count,
    jobs,
    parse_set,
    parse_vary,
    probability,
    progress,
)
from simkit.errors import SimkitError
from simkit.optimizer import optimize
from simkit.optimizer.objectives import KNOWN
from simkit.optimizer.samplers import SAMPLERS
from simkit.outputs import check_destination, replace_dir
from simkit.units import format_number


def add_optimize(sub: Any) -> None:
    p = sub.add_parser(
        "optimize",
        help="search plans with Optuna: the cost/latency Pareto front and the cheapest plan that holds",
    )
    add_scenario(p)
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a field and the values to choose from, as `simkit sweep --vary`",
    )
    p.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KEY=LO..HI[:STEP]",
        help="a field and a range (integers if both ends are), e.g. workloads.4.replicas=2..12, "
        "or KEY=V1,V2,... like --vary",
    )
    add_set(p)
    p.add_argument(
        "--objective",
        action="append",
        default=[],
        metavar="NAME",
        help=f"what to minimize (availability: maximize): {', '.join(KNOWN)} (default: cost and p95)",
    )
    p.add_argument("--trials", type=count, default=30, help="plans to simulate (default 30)")
    p.add_argument("--seeds", type=count, default=10, help="common seeds every plan runs (default 10)")
    p.add_argument(
        "--verify-seeds",
        type=count,
        default=None,
        help="fresh seeds to re-verify the pick on (default: the fewest that can show --require, 73)",
    )
    p.add_argument(
        "--require", type=probability, default=0.95, help="share of seeds meeting every target (0.95)"
    )
    p.add_argument("--sampler", choices=SAMPLERS, default="nsga2", help="Optuna sampler (default nsga2)")
    p.add_argument("--sampler-seed", type=int, default=0, help="the sampler's seed (default 0)")
    p.add_argument(
        "--storage",
        metavar="FILE",
        help="an Optuna journal file: several workers (or a later run) share the study",
    )
    add_duration(p, help="simulated time per run, e.g. 1d")
    p.add_argument("--jobs", type=jobs, default=-1, help="parallel workers per plan (default: all cores)")
    add_out(p, "a directory for trials.csv, front.csv, verification.csv, pareto.png and scenario.yaml")
    add_no_progress(p)
    p.set_defaults(handler=cmd_optimize)


def parse_space_args(vary: list[str], space: list[str]) -> dict[str, Any]:
    """`--vary` items (values, read as `simkit sweep` reads them) and `--space` items (text the
    optimizer parses: a range or values) as one search space."""
    out: dict[str, Any] = dict(parse_vary(vary))
    for item in space:
        key, sep, raw = item.partition("=")
        if not sep or not key or not raw.strip():
            raise SimkitError(
                f"--space expects KEY=LO..HI or KEY=V1,V2,... (e.g. workloads.4.replicas=2..8), got {item!r}"
            )
        if key in out:
            raise SimkitError(f"--space {key}: given twice (or also in --vary)")
        out[key] = raw
    if not out:
        raise SimkitError("optimize: give at least one --vary or --space")
    return out


def cmd_optimize(args: argparse.Namespace) -> int:
    """Optimize, print the front and the pick; exit 1 when no plan held on the verification seeds."""
    if args.out:
        check_destination(args.out, args.force)  # before the runs
    seeds = range(args.seeds)
    result = optimize(
        args.scenario,
        space=parse_space_args(args.vary, args.space),
        objectives=tuple(args.objective) or ("cost", "p95"),
        n_trials=args.trials,
        seeds=seeds,
        sampler_seed=args.sampler_seed,
        storage=args.storage,
        overrides=parse_set(args.set),
        duration=args.duration,
        require=args.require,
        verify_seeds=None if args.verify_seeds is None else range(args.seeds, args.seeds + args.verify_seeds),
        sampler=args.sampler,
        n_jobs=args.jobs,
        allow_dirs=args.allow_dir,
        progress=progress(args),
    )
    shown = [c for c in result.front.columns if c not in ("feasible", "pareto", "error", "missed")]
    print(f"Pareto front ({len(result.front)} of {len(result.trials)} plans; study {result.study_name}):")
    print(result.front[shown].to_string(index=False, float_format=format_number))
    if args.out:
        _write(Path(args.out), result, args.force)
    if result.pick is None:
        tried = len(result.verification)
        print(f"no plan of the front held every target on the verification seeds ({tried} tried)")
        return ExitCode.MISSED
    pick = result.verification.iloc[-1]
    values = ", ".join(f"{o.name} {format_number(pick[o.column])}" for o in result.objectives)
    print(
        f"pick: {result.pick} ({values}; every target held in {pick['met']} of {pick['n']} fresh seeds, "
        f"Wilson lower bound {pick['ci_low']:.3f} >= {args.require})"
    )
    if args.out:
        chosen = Path(args.out) / "scenario.yaml"
        print(f"wrote {chosen}: write its manifests with `simkit export {chosen} --out DIR`")
    return ExitCode.OK


def _write(out: Path, result: Any, force: bool) -> None:
    files: dict[str, str | bytes] = {
        "trials.csv": result.trials.to_csv(index=False),
        "front.csv": result.front.to_csv(index=False),
        "verification.csv": result.verification.to_csv(index=False),
    }
    if result.document is not None:
        files["scenario.yaml"] = result.document
    if len(result.objectives) >= 2:
        import matplotlib.pyplot as plt

        ax = result.plot()
        buf = io.BytesIO()
        ax.figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
        files["pareto.png"] = buf.getvalue()
    replace_dir(out, files, force)
