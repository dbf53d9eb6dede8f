"""Matplotlib figures of runs and plans, each answering one question at a glance (README: Figures).

`plot_timeline` (load, replicas per service, pending pods, ready nodes, availability, P95 vs target),
`plot_outage` (an AZ outage's window, ready nodes per zone), `plot_nodes_by_zone` (small multiples
per pool), `plot_cost` (against the budget), `compare` / `plot_compare` (several runs, P95 vs target),
`plot_dr_cdfs` and `plot_rto_by_phase` (DR draws at the verdict's statistic).
"""

from simkit.plots.compare import compare, plot_compare, plot_cost
from simkit.plots.dr import phases_at_statistic, plot_dr_cdfs, plot_rto_by_phase
from simkit.plots.timeline import p95_targets, plot_nodes_by_zone, plot_outage, plot_timeline

__all__ = [
    "compare",
    "p95_targets",
    "phases_at_statistic",
    "plot_compare",
    "plot_cost",
    "plot_dr_cdfs",
    "plot_nodes_by_zone",
    "plot_outage",
    "plot_rto_by_phase",
    "plot_timeline",
]
