"""What the optimizer minimizes or maximizes, read from `simkit.replicate`'s per-seed rows.

Every objective is a mean over the trial's common seeds, so two plans are compared on the same
traffic and faults (common random numbers). `cost` is `summary["cost_usd_month"]` (analysis/cost.py);
`p95` the slowest route's whole-run P95 (`p95_ms.<route>`, the latency SLO's measure) and
`p95:<route>` one route's; `availability` the run's share of requests served (maximized).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from simkit.errors import SimkitError
from simkit.scenario.model import Scenario

P95_PREFIX = "p95_ms."


@dataclass(frozen=True)
class Objective:
    """One objective: its name as given, its column in the trial table, and its direction."""

    name: str
    column: str
    direction: Literal["minimize", "maximize"]

    def value(self, runs: pd.DataFrame) -> float:
        """The mean over the runs of this objective's measure."""
        if self.name == "cost":
            return float(runs["cost_usd_month"].mean())
        if self.name == "availability":
            return float(runs["availability"].mean())
        if self.name == "p95":
            cols = [c for c in runs.columns if c.startswith(P95_PREFIX)]
            return float(runs[cols].max(axis=1).mean())
        return float(runs[P95_PREFIX + self.name.removeprefix("p95:")].mean())


KNOWN = ("cost", "p95", "availability", "p95:<route>")


def parse_objectives(names: Sequence[str], scenario: Scenario) -> tuple[Objective, ...]:
    """The objectives by name; a `SimkitError` for an unknown one, a repeated one or an unknown route."""
    if isinstance(names, str):
        names = [names]
    if not names:
        raise SimkitError(f"objectives: expected at least one of {', '.join(KNOWN)}")
    routes = [r.name for r in scenario.traffic.routes]
    out: list[Objective] = []
    for name in names:
        if name == "cost":
            out.append(Objective(name, "cost_usd_month", "minimize"))
        elif name == "availability":
            out.append(Objective(name, "availability", "maximize"))
        elif name == "p95":
            if not routes:
                raise SimkitError("objectives: p95 needs a route in traffic.routes; the scenario has none")
            out.append(Objective(name, "p95_ms", "minimize"))
        elif name.startswith("p95:"):
            route = name.removeprefix("p95:")
            if route not in routes:
                known = ", ".join(routes)
                raise SimkitError(f"objectives: {name}: no route {route!r} (the routes are {known})")
            out.append(Objective(name, f"p95_ms.{route}", "minimize"))
        else:
            raise SimkitError(f"objectives: unknown objective {name!r} (expected {', '.join(KNOWN)})")
    if len({o.name for o in out}) < len(out):
        raise SimkitError(f"objectives: each objective once, got {', '.join(names)}")
    return tuple(out)


__all__ = ["KNOWN", "Objective", "parse_objectives"]
