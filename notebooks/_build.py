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


AUTOSCALING = [
    new_markdown_cell(
        "# Autoscaling: the HPA and the cluster autoscaler with Kubernetes fidelity\n\n"
        "simkit's HPA and cluster autoscaler are pure functions checked against Kubernetes' own test "
        "cases (`tests/k8s_vectors.py`). Here they run in the engine: each HPA on its own 15 s timer, "
        "the cluster autoscaler every `--scan-interval`. Questions: does the platform absorb a 5x spike "
        "within the P95 target? How long do pods wait for nodes? What does 10x cost per month? How do "
        "the seed's HPA `behavior` and CA flags compare with the Kubernetes defaults?"
    ),
    new_code_cell(
        "import pandas as pd\n"
        "import simkit\n"
        "from simkit.plots import compare, plot_timeline\n\n"
        "spike = simkit.simulate('../scenarios/traffic-spike.yaml')\n"
        "spike"
    ),
    new_markdown_cell("## The spike, minute by minute\n\nDashed lines are the desired replicas, solid the ready ones; "
                      "grey lines are HPA decisions, red ones cluster-autoscaler decisions."),
    new_code_cell("plot_timeline(spike, window=(33.5 * 3600, 35.5 * 3600));"),
    new_code_cell("from simkit.plots import plot_nodes_by_zone\nplot_nodes_by_zone(spike);"),
    new_markdown_cell("## Why did it scale (or not)?\n\nEvery decision carries the Kubernetes reason."),
    new_code_cell(
        "d = spike.decisions\n"
        "d[d['from'] != d['to']][['t_s', 'controller', 'object', 'from', 'to', 'reason']].head(20)"
    ),
    new_code_cell(
        "s = spike.summary\n"
        "pd.Series({\n"
        "    'worst 5-min P95 api-write (ms)': s['p95_worst_5m_ms.api-write'],\n"
        "    'time over the P95 target (s)': sum(v for k, v in s.items() if k.startswith('p95_breach_s.')),\n"
        "    'pods started': s['pods_started'],\n"
        "    'pod wait for a node, P95 (s)': s['pod_wait_p95_s'],\n"
        "    'pod wait for a node, max (s)': s['pod_wait_max_s'],\n"
        "    'oldest LLM task (s)': s['max_task_age_s.llm-agent-tasks'],\n"
        "})"
    ),
    new_markdown_cell(
        "## The seed's settings vs Kubernetes' defaults\n\n"
        "Drop the seed's HPA `behavior` (so the controller's defaults apply: scale-up max(2x, 4) per "
        "15 s... via the default policies, 5-minute downscale stabilization) and the seed's CA flags "
        "(so the CA 1.37 defaults apply: 10 min unneeded time, 10 min delay after add)."
    ),
    new_code_cell(
        "base = simkit.load_scenario('../scenarios/traffic-spike.yaml')\n"
        "workloads = [w.model_copy(update={'hpa': w.hpa.model_copy(update={'behavior': None})}) if w.hpa else w\n"
        "             for w in base.workloads]\n"
        "cluster = base.cluster.model_copy(update={'cluster_autoscaler': {'nodes': ['3:20:application-pool']}})\n"
        "defaults = simkit.simulate(base.model_copy(update={'workloads': workloads, 'cluster': cluster}))\n"
        "table = compare({'seed settings': spike, 'Kubernetes defaults': defaults})\n"
        "table.loc[['cost_usd_month', 'node_cost_usd_month'] + [i for i in table.index if i.startswith('p95')]]"
    ),
    new_code_cell(
        "def node_hours(r):\n"
        "    n = r.nodes_by_pool()['application-pool']\n"
        "    t = list(n.index) + [r.duration_s]\n"
        "    return sum(v * (t[i + 1] - t[i]) for i, v in enumerate(n)) / 3600\n\n"
        "pd.Series({'seed settings': node_hours(spike), 'Kubernetes defaults': node_hours(defaults)},\n"
        "          name='application-pool node-hours')"
    ),
    new_markdown_cell(
        "## 10x: what it costs per month\n\n"
        "`scenarios/growth-10x.yaml` is the baseline with `growth: 10`. Two days here to keep the "
        "notebook quick; `simkit run scenarios/growth-10x.yaml` runs the full week."
    ),
    new_code_cell(
        "ten_x = simkit.simulate('../scenarios/growth-10x.yaml', duration=2 * 86400)\n"
        "ten_x.cost[['component', 'monthly_usd']].head(4)"
    ),
    new_code_cell(
        "compare({'baseline': simkit.simulate(duration=2 * 86400), '10x': ten_x})"
    ),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01-quickstart.ipynb", QUICKSTART)
    write("02-autoscaling.ipynb", AUTOSCALING)
