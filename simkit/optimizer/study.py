"""The optimizer's loop: Optuna proposes plans, simkit runs each over the common seeds.

Samplers: NSGA-II (`optuna.samplers.NSGAIISampler`, Deb et al. 2002) or TPE (`TPESampler`), both
constrained through `Trial.set_constraint` (optuna/trial/_trial.py, Optuna 5.0, which replaces the
samplers' `constraints_func`): a trial is feasible when every constraint value is <= 0. Ours is the
chance constraint `require - ci_low`, `ci_low` the Wilson lower bound
(`simkit.analysis.montecarlo.wilson_interval`) of the share of the common seeds in which every
target held. The loop runs by ask-and-tell
(optuna/study/study.py `Study.ask`/`Study.tell`): a plan already evaluated in the study (the sampler
may propose it again, or another worker ran it) is told from its stored result without re-running,
so `n_trials` counts the plans this call simulates. Storage: an Optuna journal file
(`optuna.storages.journal.JournalFileBackend`), which several processes may share.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import FrozenTrial, TrialState
from tqdm.auto import tqdm

from simkit.analysis.montecarlo import ALL_TARGETS, seeds_needed, summarize_runs
from simkit.errors import ScenarioError, SimkitError
from simkit.optimizer import space as spaces
from simkit.optimizer.document import scenario_document
from simkit.optimizer.objectives import Objective, parse_objectives
from simkit.optimizer.result import OptimizeResult, pareto_mask
from simkit.optimizer.samplers import make_sampler
from simkit.replicate import replicate
from simkit.scenario import yamlread
from simkit.scenario.loader import DEFAULT_SCENARIO, LoadedScenario, parse_scenario, scenario_hash
from simkit.scenario.model import Scenario
from simkit.store import plan_key, to_json

CONSTRAINT = "chance"
"""The trial's one constraint (`Trial.set_constraint`): `require - ci_low`, feasible when <= 0."""
_ASKS_PER_TRIAL = 20  # how many duplicate proposals a call tolerates per plan it may evaluate


@dataclass(frozen=True)
class _Setup:
    """The scenario source and the fixed settings every trial shares."""

    path: Path | None
    text: str
    shown: str
    base_dir: Path
    allow_dirs: tuple[Path, ...]
    overrides: dict[str, Any]
    duration: float | None
    n_jobs: int

    def scenario(self, plan: Mapping[str, Any]) -> LoadedScenario:
        sc = parse_scenario(
            self.text,
            source=self.shown,
            overrides={**self.overrides, **plan},
            base_dir=self.base_dir,
            allow_dirs=(self.base_dir, *self.allow_dirs),
        )
        return LoadedScenario(sc, self.path.resolve() if self.path else DEFAULT_SCENARIO, scenario_hash(sc))

    def runs(self, plan: Mapping[str, Any], seeds: Sequence[int]) -> pd.DataFrame:
        return replicate(self.scenario(plan), seeds, self.duration, self.n_jobs, progress=False)


def _storage(storage: str | Path | optuna.storages.BaseStorage | None) -> Any:
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    path = Path(storage)
    if path.is_dir():
        raise SimkitError(f"--storage {path}: is a directory; give a journal file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise SimkitError(f"--storage {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; simkit prints its own table."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _metrics(
    runs: pd.DataFrame, objectives: Sequence[Objective], require: float, confidence: float
) -> dict[str, Any]:
    """A trial's objective means and its chance constraint over its runs."""
    records = summarize_runs(runs, require=require, confidence=confidence).to_dict("records")
    every = _every(records)
    out: dict[str, Any] = {o.column: o.value(runs) for o in objectives}
    out.update(n=int(every["n"]), met=int(every["met"]), p_met=float(every["p_met"]))
    out["ci_low"] = float(every["ci_low"])
    out["constraint"] = require - out["ci_low"]
    out["missed"] = "; ".join(str(r["target"]) for r in records if r is not every and r["met"] != r["n"])
    return out


def _every(records: Sequence[Mapping[Any, Any]]) -> Mapping[Any, Any]:
    """The `all targets` row of a `summarize_runs` table (as records)."""
    return next(r for r in records if r["target"] == ALL_TARGETS)


def optimize(
    scenario: str | Path | None = None,
    space: Mapping[str, Any] | None = None,
    objectives: Sequence[str] = ("cost", "p95"),
    n_trials: int = 30,
    seeds: Iterable[int] = range(10),
    sampler_seed: int | None = 0,
    storage: str | Path | Any = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    duration: float | None = None,
    require: float = 0.95,
    search_confidence: float = 0.5,
    confidence: float = 0.95,
    verify_seeds: Iterable[int] | None = None,
    verify_top: int = 3,
    sampler: str = "nsga2",
    study_name: str | None = None,
    n_jobs: int = -1,
    allow_dirs: Sequence[str | Path] = (),
    progress: bool | None = None,
) -> OptimizeResult:
    """Search `space` (dotted path -> values or range, `simkit.optimizer.space`) of the scenario at
    `scenario` (None: the default one; `overrides` fixed for every trial, e.g. the load growth) for
    the Pareto front of `objectives` (`cost`, `p95`, `p95:<route>`, `availability`).

    Every trial runs `simkit.replicate` over the same `seeds` (common random numbers). It is feasible
    when the Wilson lower bound, at `search_confidence`, of the share of seeds meeting every target
    is >= `require`: a screening bound (0.5 by default: 9 seeds that all hold clear 0.95). The front's
    plans are then re-verified, cheapest first (the first objective), by the full replication rule:
    `verify_seeds` (default: the `seeds_needed(require, confidence)` seeds after the search seeds,
    73 for 0.95, fresh so that the pick is not judged on the seeds that chose it) must give a Wilson
    lower bound at `confidence` >= `require` for every target (`summarize_runs`). The first that holds
    is the pick; at most `verify_top` are tried.

    `storage` (a journal file) keeps the study: a later call, or another process, with the same
    arguments continues it and reuses every plan already evaluated. `sampler_seed` fixes the
    sampler's draws: with the same inputs the same plans are tried and the same front returned.
    """
    setup, plan_space, goals, seeds_list, verify_list = _check_inputs(
        scenario, space, objectives, n_trials, seeds, overrides, duration, require, search_confidence,
        confidence, verify_seeds, verify_top, n_jobs, allow_dirs,
    )  # fmt: skip
    name = study_name or _study_name(setup, plan_space, goals, seeds_list, require, search_confidence)
    with _quiet_optuna():
        study = optuna.create_study(
            study_name=name,
            storage=_storage(storage),
            directions=[o.direction for o in goals],
            sampler=make_sampler(sampler, sampler_seed),
            load_if_exists=True,
        )
        _search(study, setup, plan_space, goals, seeds_list, n_trials, require, search_confidence, progress)
    trials = _trial_table(study, plan_space, goals)
    front = trials[trials["pareto"]].sort_values(goals[0].column, kind="stable", ignore_index=True)
    verification, pick, summary = _verify(
        setup, front, plan_space, goals, verify_list, require, confidence, verify_top
    )
    picked = None if pick is None else setup.scenario(pick).scenario
    document = None
    if pick is not None:
        header = [
            f"simkit optimize: {setup.shown} with {to_json({**setup.overrides, **pick})}",
            f"every target held with a Wilson {confidence:.0%} lower bound >= {require} over "
            f"{len(verify_list)} seeds ({verify_list[0]}..{verify_list[-1]})",
        ]
        document = scenario_document(setup.path, {**setup.overrides, **pick}, header, setup.allow_dirs)
    return OptimizeResult(
        goals, dict(plan_space), trials, front, verification, pick, summary, picked, document, name, study
    )


def _check_inputs(
    scenario: str | Path | None,
    space: Mapping[str, Any] | None,
    objectives: Sequence[str],
    n_trials: int,
    seeds: Iterable[int],
    overrides: Mapping[str, Any] | None,
    duration: float | None,
    require: float,
    search_confidence: float,
    confidence: float,
    verify_seeds: Iterable[int] | None,
    verify_top: int,
    n_jobs: int,
    allow_dirs: Sequence[str | Path],
) -> tuple[_Setup, spaces.Space, tuple[Objective, ...], list[int], list[int]]:
    """Everything checked before any run: one `SimkitError` line for the first bad input."""
    if isinstance(scenario, Scenario | LoadedScenario):
        raise SimkitError("optimize: give the scenario's file path (None: the default), not a loaded model")
    path = Path(scenario) if scenario is not None else None
    source = path or DEFAULT_SCENARIO
    shown = yamlread.shown(source)
    text = yamlread.read_text(source)
    setup = _Setup(
        path, text, shown, source.resolve().parent, tuple(map(Path, allow_dirs)), dict(overrides or {}),
        duration, n_jobs,
    )  # fmt: skip
    base = setup.scenario({})
    plan_space = spaces.parse_space(space or {})
    for plan in spaces.corners(plan_space):  # a bad path or value fails now, naming its place
        setup.scenario(plan)
    goals = parse_objectives(objectives, base.scenario)
    if not isinstance(n_trials, int) or n_trials < 1:
        raise SimkitError(f"trials: expected a positive number of plans to try, got {n_trials!r}")
    if not 0 < require < 1 or not 0 < search_confidence < 1 or not 0 < confidence < 1:
        raise SimkitError("require, search_confidence and confidence: expected probabilities in (0, 1)")
    seeds_list = sorted(set(seeds))
    need = seeds_needed(require, search_confidence)
    if len(seeds_list) < need:
        raise SimkitError(
            f"seeds: {len(seeds_list)} seeds can never show every target held in {require:.0%} of them "
            f"(Wilson lower bound at {search_confidence:.0%}); give at least {need}"
        )
    if verify_seeds is None:
        verify_seeds = range(seeds_list[-1] + 1, seeds_list[-1] + 1 + seeds_needed(require, confidence))
    verify_list = sorted(set(verify_seeds))
    need = seeds_needed(require, confidence)
    if len(verify_list) < need:
        raise SimkitError(
            f"verify seeds: {len(verify_list)} seeds can never verify {require:.0%} at a Wilson "
            f"{confidence:.0%} lower bound; give at least {need}"
        )
    if verify_top < 1:
        raise SimkitError(f"verify_top: expected a positive number, got {verify_top}")
    return setup, plan_space, goals, seeds_list, verify_list


def _study_name(
    setup: _Setup,
    plan_space: spaces.Space,
    goals: Sequence[Objective],
    seeds: Sequence[int],
    require: float,
    confidence: float,
) -> str:
    """A name that changes with anything that changes a trial's result, so a shared journal never
    mixes studies of different questions."""
    what = {
        "scenario": setup.scenario({}).sha256,
        "space": repr(sorted(plan_space.items())),
        "objectives": [o.name for o in goals],
        "seeds": list(seeds),
        "duration": setup.duration,
        "require": require,
        "confidence": confidence,
    }
    digest = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"simkit-optimize-{digest}"


def _search(
    study: optuna.Study,
    setup: _Setup,
    plan_space: spaces.Space,
    goals: Sequence[Objective],
    seeds: Sequence[int],
    n_trials: int,
    require: float,
    confidence: float,
    progress: bool | None,
) -> None:
    """Ask, run (or recall) and tell until `n_trials` new plans ran, or the space is exhausted."""
    done: dict[str, FrozenTrial] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        done.setdefault(t.user_attrs.get("plan_key", ""), t)
    total = spaces.size(plan_space)
    evaluated = asked = 0
    bar = tqdm(total=n_trials, desc="plans", unit="plan", disable=None if progress is None else not progress)
    with bar:
        while evaluated < n_trials and asked < _ASKS_PER_TRIAL * n_trials and len(done) < total:
            asked += 1
            trial = study.ask()
            plan = spaces.suggest(trial, plan_space)
            key = plan_key(plan)
            trial.set_user_attr("plan_key", key)
            trial.set_user_attr("plan", json.loads(to_json(plan)))
            if key in done:
                _tell_again(study, trial, done[key])
                continue
            evaluated += 1
            bar.update()
            try:
                runs = setup.runs(plan, seeds)
            except ScenarioError as exc:  # a combination the scenario rejects (min_nodes > max_nodes)
                trial.set_user_attr("error", str(exc))
                study.tell(trial, state=TrialState.FAIL)
                done[key] = study.get_trials(deepcopy=False)[trial.number]
                continue
            metrics = _metrics(runs, goals, require, confidence)
            for k, v in metrics.items():
                trial.set_user_attr(k, v)
            trial.set_constraint(CONSTRAINT, metrics["constraint"])
            study.tell(trial, [metrics[o.column] for o in goals])
            done[key] = study.get_trials(deepcopy=False)[trial.number]


def _tell_again(study: optuna.Study, trial: optuna.Trial, before: FrozenTrial) -> None:
    """Tell a repeated plan the result it had (no run): the sampler sees it, the budget does not."""
    for k, v in before.user_attrs.items():
        if k not in ("plan_key", "plan"):
            trial.set_user_attr(k, v)
    trial.set_user_attr("repeat_of", before.number)
    if before.state == TrialState.COMPLETE:
        trial.set_constraint(CONSTRAINT, before.user_attrs["constraint"])
        study.tell(trial, before.values)
    else:
        study.tell(trial, state=TrialState.FAIL)


def _trial_table(study: optuna.Study, plan_space: spaces.Space, goals: Sequence[Objective]) -> pd.DataFrame:
    """One row per distinct plan the study evaluated (its first trial), with feasibility and front."""
    rows = []
    seen: set[str] = set()
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        key = t.user_attrs.get("plan_key")
        if key is None or key in seen or "repeat_of" in t.user_attrs:
            continue
        seen.add(key)
        a = t.user_attrs
        row: dict[str, Any] = {"trial": t.number, **{p: _cell(a["plan"].get(p)) for p in plan_space}}
        for o in goals:
            row[o.column] = a.get(o.column, math.nan)
        row.update(
            n=a.get("n", 0),
            met=a.get("met", 0),
            p_met=a.get("p_met", math.nan),
            ci_low=a.get("ci_low", math.nan),
            feasible=t.state == TrialState.COMPLETE and a.get("constraint", 1.0) <= 0,
            missed=a.get("missed", ""),
            error=a.get("error", ""),
        )
        rows.append(row)
    columns = ["trial", *plan_space, *(o.column for o in goals), "n", "met", "p_met", "ci_low", "feasible"]
    table = pd.DataFrame(rows, columns=[*columns, "missed", "error"])
    table["pareto"] = False
    feasible = table[table["feasible"].astype(bool)]
    table.loc[feasible.index[pareto_mask(feasible, goals)], "pareto"] = True
    return table


def _cell(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _verify(
    setup: _Setup,
    front: pd.DataFrame,
    plan_space: spaces.Space,
    goals: Sequence[Objective],
    seeds: Sequence[int],
    require: float,
    confidence: float,
    top: int,
) -> tuple[pd.DataFrame, dict[str, Any] | None, pd.DataFrame | None]:
    """Re-run the front's plans, best first, on the verification seeds until one holds every target."""
    rows = []
    for trial_number in front["trial"].head(top):
        plan = _plan_of(front, trial_number, plan_space)
        runs = setup.runs(plan, seeds)
        summary = summarize_runs(runs, require=require, confidence=confidence)
        every = _every(summary.to_dict("records"))
        rows.append(
            {
                "trial": int(trial_number),
                **{p: _cell(v) for p, v in plan.items()},
                **{o.column: o.value(runs) for o in goals},
                "n": int(every["n"]),
                "met": int(every["met"]),
                "ci_low": float(every["ci_low"]),
                "passed": bool(summary["passed"].all()),
            }
        )
        if rows[-1]["passed"]:
            return pd.DataFrame(rows), plan, summary
    columns = ["trial", *plan_space, *(o.column for o in goals), "n", "met", "ci_low", "passed"]
    return pd.DataFrame(rows, columns=columns), None, None


def _plan_of(front: pd.DataFrame, trial_number: int, plan_space: spaces.Space) -> dict[str, Any]:
    """The overrides of a front row, with a categorical's value as given (not its table cell)."""
    row = next(r for r in front.to_dict("records") if r["trial"] == trial_number)
    plan: dict[str, Any] = {}
    for path, dim in plan_space.items():
        value = row[path]
        if isinstance(dim, spaces.Categorical):
            value = next(v for v in dim.values if _cell(v) == value)
        elif isinstance(dim, spaces.IntRange):
            value = int(value)
        else:
            value = float(value)
        plan[path] = value
    return plan


__all__ = ["CONSTRAINT", "optimize"]
