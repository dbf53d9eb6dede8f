"""Write the tutorial notebooks from the cell sources below (run: .venv/bin/python notebooks/_build.py)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

QUICKSTART = [
    new_markdown_cell(
        "# simkit quickstart\n\n"
        "Load the seed platform (`scenarios/platform-baseline.yaml`), simulate a week, look at load, "
        "replicas, nodes, P95 latency and cost, then change one thing — 10x the load — and compare."
    ),
    new_code_cell(
        "import matplotlib\n"
        "import simkit\n"
        "from simkit.plots import compare, plot_compare, plot_cost, plot_timeline\n\n"
        "scenario = simkit.load_scenario()   # the default scenario: the seed platform\n"
        "scenario.cluster.node_pools"
    ),
    new_markdown_cell("## A week of the platform as planned"),
    new_code_cell("week = simkit.simulate(scenario, duration=7 * 86400)\nweek"),
    new_code_cell("week.checks"),
    new_code_cell("plot_timeline(week);"),
    new_code_cell(
        "week.services.groupby('service')[['utilization', 'latency_p95_ms']].agg(['mean', 'max']).round(3)"
    ),
    new_markdown_cell(
        "## Cost\n\nNode-seconds by capacity type are projected to a month of 730 h and priced from "
        "`data/` (each row says where its price comes from). The seed's own estimate is ~$2,070/month "
        "with worker nodes at ~$1,000; see the README for why simkit's figure differs."
    ),
    new_code_cell("plot_cost(week);\nweek.cost[['component', 'monthly_usd', 'basis']]"),
    new_markdown_cell(
        "## Change one thing: 10x the load\n\n"
        "The seed's scalability goal is 10x current load. It is one line of the scenario: "
        "`traffic.load.growth: 10`. Replicas are static in this run (no autoscalers), so this shows "
        "what the seed's minimum replica counts can absorb on their own."
    ),
    new_code_cell(
        "ten_x = simkit.simulate(simkit.load_scenario(overrides={'traffic.load.growth': 10}), duration=7 * 86400)\n"
        "compare({'as planned': week, '10x load': ten_x})"
    ),
    new_code_cell("plot_compare({'as planned': week, '10x load': ten_x});"),
    new_code_cell("ten_x.checks[['target', 'threshold', 'value', 'unit', 'passed']]"),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01-quickstart.ipynb", QUICKSTART)
