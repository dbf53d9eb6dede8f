"""`recommend_plan`: the fastest settings of a deployment plan that keep every target over seeds.

For a `rollout` plan it tries Deployment `maxSurge` x `maxUnavailable`; for a `node-pool-upgrade`
the provider's own knobs (EKS `updateConfig.maxUnavailable`; GKE surge `upgradeSettings.maxSurge` x
`maxUnavailable`; AKS `upgradeSettings.maxSurge`). Each candidate is the scenario with only that
plan's settings changed, run over the same seeds (`simkit.replicate`); it is acceptable when the
lower bound of the Wilson 95 % interval of the share of seeds meeting *every* target (the plan's
and the scenario's: `summarize_runs`' `all targets` row) is >= `require`. The pick is the acceptable
candidate with the smallest duration P95, then the smallest extra-cost P95, then the gentler (the
grid's order: fewer unavailable, then less surge). With few seeds nothing
can be acceptable at 0.95 (`seeds_needed`: 73 with no miss): the table still ranks them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.analysis.montecarlo import ALL_TARGETS, plan_stats, seeds_needed, summarize_runs
from simkit.api import as_loaded
from simkit.errors import SimkitError
from simkit.replicate import replicate
from simkit.scenario.base import PathError
from simkit.scenario.loader import LoadedScenario, scenario_hash
from simkit.scenario.model import Scenario
from simkit.scenario.plans import (
    DeploymentStrategy,
    EKSUpdateConfig,
    Plan,
    RollingUpdateDeployment,
    UpgradeSettings,
)

Settings = dict[str, int | str]

# grids in order of disruption (fewer unavailable first, then less surge): ties on duration and
# cost go to the earlier, gentler candidate
ROLLOUT_GRID: tuple[Settings, ...] = tuple(
    {"maxSurge": s, "maxUnavailable": u}
    for u in (0, "25%", "50%")
    for s in (0, "25%", "50%", "100%")
    if (s, u) != (0, 0)  # rejected by the API server
)
EKS_GRID: tuple[Settings, ...] = tuple({"maxUnavailable": n} for n in (1, 2, 3, 4))
GKE_GRID: tuple[Settings, ...] = tuple(
    {"maxSurge": s, "maxUnavailable": u} for u in (0, 1, 2) for s in (0, 1, 2, 3) if (s, u) != (0, 0)
)
AKS_GRID: tuple[Settings, ...] = tuple({"maxSurge": s} for s in (1, 2, 3, "33%", "50%"))

TABLE_COLUMNS = (
    "settings",
    "n",
    "met",
    "p_met",
    "ci_low",
    "p_complete",
    "duration_p50_s",
    "duration_p95_s",
    "extra_cost_p95_usd",
    "acceptable",
    "pick",
)


@dataclass(frozen=True)
class Recommendation:
    """The candidates tried (`table`, one row each, best first) and the pick (None if none held)."""

    plan: str
    require: float
    seeds: list[int]
    table: pd.DataFrame
    pick: Settings | None
    picked_plan: Plan | None

    @property
    def note(self) -> str:
        """Why there is no pick, or an empty string."""
        if self.pick is not None:
            return ""
        n = len(self.seeds)
        if n < seeds_needed(self.require):
            return (
                f"no candidate can show {self.require:g} with {n} seeds (the Wilson lower bound with no "
                f"miss is {n / (n + 3.8415):.3f}); --seeds {seeds_needed(self.require)} with no miss would"
            )
        return f"no candidate kept every target in {self.require:g} of seeds"


def default_grid(plan: Plan, provider: str) -> tuple[Settings, ...]:
    """The settings tried for `plan` when no grid is given."""
    if plan.kind == "rollout":
        return ROLLOUT_GRID
    if plan.kind == "node-pool-upgrade":
        return {"aws": EKS_GRID, "gcp": GKE_GRID, "azure": AKS_GRID}[provider]
    raise SimkitError(
        f"plan {plan.name!r} is a {plan.kind}: recommend searches rollout and node-pool-upgrade plans"
    )


def with_settings(plan: Plan, settings: Mapping[str, int | str], provider: str) -> Plan:
    """`plan` with `settings` in its own field names (validated as the API would: PathError)."""
    if plan.kind == "rollout":
        rolling = RollingUpdateDeployment(**dict(settings))
        return plan.model_copy(update={"strategy": DeploymentStrategy(rollingUpdate=rolling)})
    if provider == "aws":
        base = plan.updateConfig or EKSUpdateConfig()
        config = EKSUpdateConfig(
            **{**base.model_dump(exclude={"maxUnavailable", "maxUnavailablePercentage"}), **dict(settings)}
        )
        return plan.model_copy(update={"updateConfig": config})
    current = plan.upgradeSettings.model_dump(exclude_unset=True) if plan.upgradeSettings else {}
    upgrade = UpgradeSettings(**{**current, **dict(settings)})
    return plan.model_copy(update={"upgradeSettings": upgrade})


def describe(settings: Mapping[str, int | str]) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items())


def _variant(loaded: LoadedScenario, index: int, plan: Plan) -> LoadedScenario:
    sc = loaded.scenario
    plans = [plan if i == index else p for i, p in enumerate(sc.plans)]
    variant = sc.model_copy(update={"plans": plans})
    return LoadedScenario(variant, loaded.source, scenario_hash(variant))


def recommend_plan(
    scenario: Scenario | LoadedScenario | str | Path,
    plan: str,
    seeds: Iterable[int] = range(20),
    require: float = 0.95,
    grid: Sequence[Mapping[str, int | str]] | None = None,
    duration: float | None = None,
    n_jobs: int = -1,
    progress: bool | None = None,
) -> Recommendation:
    """Try each settings of `grid` (default: `default_grid`) for the plan named `plan` over `seeds`;
    pick the fastest (duration P95) that keeps every target in >= `require` of seeds (Wilson lower
    bound). The table has one row per candidate, acceptable ones first, each by duration P95."""
    loaded = as_loaded(scenario)
    sc = loaded.scenario
    names = [p.name for p in sc.plans]
    if plan not in names:
        raise SimkitError(
            f"no plan {plan!r} in scenario {sc.name!r}; its plans: {', '.join(names) or 'none'}"
        )
    index = names.index(plan)
    base = sc.plans[index]
    provider = sc.cluster.provider
    candidates = list(grid) if grid is not None else list(default_grid(base, provider))
    seed_list = list(seeds)
    rows: list[dict[str, Any]] = []
    plans: list[Plan] = []
    for settings in candidates:
        try:
            candidate = with_settings(base, settings, provider)
        except (PathError, ValueError) as exc:
            raise SimkitError(f"plan {plan!r}: settings {describe(settings)} are not valid: {exc}") from None
        runs = replicate(_variant(loaded, index, candidate), seed_list, duration, n_jobs, progress)
        table_all = summarize_runs(runs, require=require)
        summary = table_all[table_all["target"] == ALL_TARGETS].to_dict("records")[0]
        stats = plan_stats(runs)
        own = stats[stats["plan"] == plan].to_dict("records")
        s = own[0] if own else {}
        rows.append(
            {
                "settings": describe(settings),
                "n": int(summary["n"]),
                "met": int(summary["met"]),
                "p_met": float(summary["p_met"]),
                "ci_low": float(summary["ci_low"]),
                "p_complete": float(s.get("p.Complete", math.nan)),
                "duration_p50_s": float(s.get("duration_p50_s", math.nan)),
                "duration_p95_s": float(s.get("duration_p95_s", math.nan)),
                "extra_cost_p95_usd": float(s.get("extra_cost_p95_usd", math.nan)),
                "acceptable": bool(summary["ci_low"] >= require),
                "pick": False,
            }
        )
        plans.append(candidate)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    order = table.assign(
        _rank=~table["acceptable"],
        _dur=table["duration_p95_s"].fillna(math.inf),
        _cost=table["extra_cost_p95_usd"].fillna(math.inf),
        _pmet=-table["p_met"],
    ).sort_values(["_rank", "_dur", "_cost", "_pmet"], kind="stable")
    table = table.loc[order.index]
    pick_i = next((i for i in table.index if table.at[i, "acceptable"]), None)
    if pick_i is not None:
        table.at[pick_i, "pick"] = True
    table = table.reset_index(drop=True)
    return Recommendation(
        plan=plan,
        require=require,
        seeds=seed_list,
        table=table,
        pick=dict(candidates[pick_i]) if pick_i is not None else None,
        picked_plan=plans[pick_i] if pick_i is not None else None,
    )


__all__ = ["Recommendation", "default_grid", "recommend_plan", "with_settings"]
