"""simkit: plan the capacity, cost and disaster recovery of a Kubernetes platform by simulation.

>>> import simkit
>>> result = simkit.simulate()                  # the seed platform, as scenarios/platform-baseline.yaml
>>> result.checks                               # SLO, cost and queue-age targets with margins
>>> sc = simkit.load_scenario(overrides={"traffic.load.growth": 10})
>>> simkit.simulate(sc, duration=86400).summary
>>> simkit.optimize(space={"workloads.4.replicas": "2..8"}).front   # cost vs P95, needs simkit[optimize]
"""

from simkit import karpenter as karpenter  # simkit.karpenter.dry_run
from simkit.analysis.montecarlo import plan_stats, summarize_runs
from simkit.api import __version__, simulate
from simkit.errors import ScenarioError, SimkitError
from simkit.optimizer import optimize
from simkit.plan_search import recommend_plan
from simkit.replicate import probability_met, replicate
from simkit.results import RunResult
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario, parse_scenario
from simkit.scenario.model import Scenario

__all__ = [
    "DEFAULT_SCENARIO",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimkitError",
    "__version__",
    "load_scenario",
    "optimize",
    "parse_scenario",
    "plan_stats",
    "probability_met",
    "recommend_plan",
    "replicate",
    "simulate",
    "summarize_runs",
]
