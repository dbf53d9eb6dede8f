"""Write notebooks/06-karpenter.ipynb (run: .venv/bin/python notebooks/_build_06.py).

Its own builder, beside notebooks/_build.py, so the Karpenter notebook changes without touching the
other tutorials' sources."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

KARPENTER = [
    new_markdown_cell(
        "# Karpenter or the cluster autoscaler?\n\n"
        "The seed platform at 1x and at 10x load (the seed's growth goal), with its application pool "
        "provisioned by the cluster autoscaler (`platform-baseline.yaml`, `growth-10x.yaml`) and by "
        "Karpenter (`karpenter-baseline.yaml`, `karpenter-10x.yaml`: one NodePool over m5/m6i/m7i, "
        "spot first with on-demand fallback, Karpenter's default disruption). All four run on the "
        "same seed for **one simulated day** each (to keep this notebook quick; `DAYS` below) — "
        "monthly figures are that day projected to 730 h."
    ),
    new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "import pandas as pd\n\n"
        "import simkit\n\n"
        "DAYS, SEED = 1, 42\n"
        "SCENARIOS = {\n"
        "    ('1x', 'cluster autoscaler'): '../scenarios/platform-baseline.yaml',\n"
        "    ('10x', 'cluster autoscaler'): '../scenarios/growth-10x.yaml',\n"
        "    ('1x', 'Karpenter'): '../scenarios/karpenter-baseline.yaml',\n"
        "    ('10x', 'Karpenter'): '../scenarios/karpenter-10x.yaml',\n"
        "}\n"
        "runs = {key: simkit.simulate(path, duration=DAYS * 86400, seed=SEED, progress=False)\n"
        "        for key, path in SCENARIOS.items()}\n"
        "{key: repr(r) for key, r in runs.items()}"
    ),
    new_markdown_cell(
        "## Side by side\n\n"
        "Monthly cost (nodes and the rest of the bill), nodes (time-weighted mean and peak), pods "
        "disrupted by scale-down or consolidation per day (each drained node's evicted pods: the "
        "cluster autoscaler's `ScaleDown`, Karpenter's `DisruptedEmpty`/`DisruptedUnderutilized`/"
        "`DisruptedDrifted`), the worst route's P95 and availability."
    ),
    new_code_cell(
        "VOLUNTARY = ('ScaleDown', 'DisruptedEmpty', 'DisruptedUnderutilized', 'DisruptedDrifted')\n\n"
        "def node_count(r):\n"
        '    """Total nodes over time (a step function), from the per-pool/zone timeline."""\n'
        "    return r.nodes_by_pool().sum(axis=1)\n\n"
        "def mean_nodes(r):\n"
        "    n = node_count(r)\n"
        "    dt = pd.Series(n.index, index=n.index).diff().shift(-1).fillna(r.duration_s - n.index[-1])\n"
        "    return float((n * dt).sum() / dt.sum())\n\n"
        "def pods_disrupted_per_day(r):\n"
        "    ev = r.events[(r.events.kind == 'Node') & r.events.reason.isin(VOLUNTARY)]\n"
        "    pods = ev.message.str.extract(r'draining (\\d+) pod')[0].astype(float).sum()\n"
        "    return pods / (r.duration_s / 86400)\n\n"
        "def worst_p95(r):\n"
        "    return max(v for k, v in r.summary.items() if k.startswith('p95_ms.'))\n\n"
        "table = pd.DataFrame({\n"
        "    f'{load} / {who}': {\n"
        "        'monthly cost ($)': round(r.summary['cost_usd_month']),\n"
        "        'node cost ($/month)': round(r.summary['node_cost_usd_month']),\n"
        "        'nodes (mean)': round(mean_nodes(r), 1),\n"
        "        'nodes (peak)': int(node_count(r).max()),\n"
        "        'pods disrupted / day': round(pods_disrupted_per_day(r), 1),\n"
        "        'worst route P95 (ms)': round(worst_p95(r), 1),\n"
        "        'availability (%)': round(100 * r.summary['availability'], 3),\n"
        "        'targets missed': len(r.failures),\n"
        "    }\n"
        "    for (load, who), r in runs.items()\n"
        "})\n"
        "table"
    ),
    new_markdown_cell(
        "## Node count over time\n\n"
        "The cluster autoscaler adds nodes of the application pool's one instance type; Karpenter "
        "bin-packs pending pods onto the cheapest offering that fits (any size of m5/m6i/m7i, spot "
        "first), so it usually runs fewer, differently sized nodes, and consolidates when load drops."
    ),
    new_code_cell(
        "fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=False)\n"
        "for ax, load in zip(axes, ('1x', '10x'), strict=True):\n"
        "    for who in ('cluster autoscaler', 'Karpenter'):\n"
        "        n = node_count(runs[(load, who)])\n"
        "        ax.step(n.index / 3600, n.values, where='post', label=who)\n"
        "    ax.set(title=f'{load} load', xlabel='hour', ylabel='nodes (all pools)')\n"
        "    ax.legend()\n"
        "fig.tight_layout()"
    ),
    new_markdown_cell(
        "## What Karpenter chose, and why\n\n"
        "Every Karpenter decision and non-decision is in `result.decisions` with Karpenter's own "
        "reason: `Launched` (a NodeClaim for pending pods), `Disrupting/Empty`, "
        "`Disrupting/Underutilized` (delete, or replace with a cheaper node), `Unconsolidatable` "
        "(\"Can't replace with a cheaper node\", or the full scheduler's filters), `DisruptionBlocked` "
        "(a PDB or `karpenter.sh/do-not-disrupt` stops eviction) and `InsufficientCapacityError`."
    ),
    new_code_cell(
        "ten = runs[('10x', 'Karpenter')]\n"
        "kd = ten.decisions[ten.decisions.controller == 'karpenter']\n"
        "kd.reason.value_counts().to_frame('decisions')"
    ),
    new_code_cell(
        "consolidations = kd[kd.reason.str.startswith('Disrupting/') | (kd.reason == 'Unconsolidatable')]\n"
        "pd.set_option('display.max_colwidth', 160)\n"
        "consolidations[['t_s', 'reason', 'message']].head(12)"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(10, 3))\n"
        "commands = kd[kd.reason.str.startswith('Disrupting/')]\n"
        "per_hour = commands.assign(hour=(commands.t_s // 3600).astype(int))\n"
        "per_hour.groupby(['hour', 'reason']).size().unstack(fill_value=0).plot.bar(stacked=True, ax=ax)\n"
        "ax.set(title='Karpenter disruption commands per hour (10x load)', ylabel='commands');"
    ),
    new_markdown_cell(
        "## Dry run: what would Karpenter do right now?\n\n"
        "`simkit.karpenter.dry_run(result, at=t)` replays the run to `t` on its seed and asks the "
        "disruption controller: the command it would start, and for every node why not "
        "(budget, PDB, do-not-disrupt, \"Can't replace with a cheaper node\", the scheduler's "
        "filters). Karpenter's users ask upstream for exactly this (kubernetes-sigs/karpenter#711)."
    ),
    new_code_cell("plan = simkit.karpenter.dry_run(runs[('1x', 'Karpenter')], at='12h')\nprint(plan)"),
    new_code_cell("plan.why"),
    new_markdown_cell(
        "## Reading the comparison\n\n"
        "- **Cost**: Karpenter's spot-first, right-sized nodes are the main lever; compare "
        "`node cost` at 10x. The on-demand fallback shows up as `Launched ... on-demand` decisions "
        "when spot is short (see `scenarios/karpenter-spot-storm.yaml`).\n"
        "- **Disruption**: consolidation evicts pods to save money; PDBs and the scheduler's spread "
        "constraints hold many commands back (`DisruptionBlocked`, `Unconsolidatable`).\n"
        "- **Latency and availability** should match: both provisioners keep pods scheduled; "
        "differences come from launch time (Karpenter's 30-40 s vs a node group's) and drains.\n"
        "- **Start**: both begin from a running cluster: the node groups at their start size, "
        "Karpenter's NodeClaims for the pods no fixed pool fits (`Launched ... running before t=0`).\n"
        "- A month (`DAYS = 30`) adds expiry (`expireAfter: 720h`) near its end; "
        "`nodepool_changes:` in a scenario models a NodePool edit and the drift it causes."
    ),
]


def write(name: str, cells: list) -> None:
    for i, cell in enumerate(cells):
        cell["id"] = f"{name.split('-')[0]}-{i:02d}"  # stable ids: rebuilding does not churn the file
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("06-karpenter.ipynb", KARPENTER)
