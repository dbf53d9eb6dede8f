"""Every notebook figure, rendered on a real short result (Agg backend) and checked as objects: the
panels and lines it must have, target and budget lines by label, axis labels with units, integer
ticks on count axes, legends off the data, time axes as the window fits, titles stating the finding."""

from __future__ import annotations

import re
from pathlib import Path

import hypothesis.strategies as st
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import simkit  # noqa: E402
from simkit.dr import dr_checks, evaluate  # noqa: E402
from simkit.plots import (  # noqa: E402
    phases_at_statistic,
    plot_compare,
    plot_cost,
    plot_dr_cdfs,
    plot_nodes_by_zone,
    plot_outage,
    plot_rto_by_phase,
    plot_timeline,
)
from simkit.plots.timeline import steps_in  # noqa: E402
from simkit.scenario.dr import DRSpec  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
COUNT_LABELS = ("pods", "pending pods", "ready nodes")
CLOCK = re.compile(r"^(\w{3} )?\d\d:\d\d$")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def day() -> simkit.RunResult:
    return simkit.simulate(duration=86400, progress=False)


@pytest.fixture(scope="module")
def spike() -> simkit.RunResult:
    return simkit.simulate(SCENARIOS / "traffic-spike.yaml", duration=36 * 3600, progress=False)


@pytest.fixture(scope="module")
def az() -> simkit.RunResult:
    return simkit.simulate(SCENARIOS / "az-outage.yaml", progress=False)


@pytest.fixture(scope="module")
def draws() -> tuple[pd.DataFrame, DRSpec]:
    spec = DRSpec()
    return evaluate(spec, rng=2024, draws=4000), spec


def _axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def _labels(ax) -> list[str]:
    return [str(a.get_label()) for a in [*ax.get_lines(), *ax.collections, *ax.patches]]


def _check_common(fig) -> None:
    """Non-empty title; every panel has data, a y label (units or a count noun), integer ticks on
    counts; every legend right of its axes; the bottom axis has an x label."""
    fig.canvas.draw()
    assert fig.get_suptitle() or any(ax.get_title() for ax in _axes(fig))
    for ax in _axes(fig):
        assert ax.get_lines() or ax.collections or ax.patches, "an empty panel"
        label = ax.get_ylabel()
        if label:
            assert "(" in label or label in COUNT_LABELS, label
        if label in COUNT_LABELS:
            locator = ax.yaxis.get_major_locator()
            assert isinstance(locator, MaxNLocator) and locator._integer, label
        legend = ax.get_legend()
        if legend is not None:
            box, frame = legend.get_window_extent(), ax.get_window_extent()
            assert box.x0 >= frame.x1 - 1, "legend over the data"
    assert _axes(fig)[-1].get_xlabel()


def _panel(fig, ylabel: str):
    found = [ax for ax in _axes(fig) if ax.get_ylabel() == ylabel]
    assert found, f"no panel {ylabel!r} in {[ax.get_ylabel() for ax in _axes(fig)]}"
    return found[0]


def test_timeline_of_a_day(day: simkit.RunResult) -> None:
    fig = plot_timeline(day)
    _check_common(fig)
    ylabels = [ax.get_ylabel() for ax in _axes(fig)]
    assert "pending pods" not in ylabels and "availability (%)" not in ylabels  # none: no empty panel
    autoscaled = [w.name for w in day.scenario.workloads if w.hpa]
    replica_panels = [ax for ax in _axes(fig) if ax.get_ylabel() == "pods"]
    assert len(replica_panels) == len(autoscaled)  # one small multiple per service
    for ax, name in zip(replica_panels, autoscaled, strict=True):
        assert ax.get_title(loc="left").startswith(name)
    assert {"ready", "desired"} <= set(_labels(replica_panels[0]))
    p95 = _panel(fig, "P95 latency (ms)")
    assert "P95 target 200 ms" in _labels(p95) and p95.get_ylim()[0] == 0
    peak = day.routes["p95_ms"].max()
    assert f"P95 peaks at {peak:,.0f} ms" in fig.get_suptitle()
    assert f"{200 - peak:,.0f} ms under the 200 ms target" in fig.get_suptitle()
    assert _axes(fig)[-1].get_xlabel().startswith("simulated clock")


def test_spike_window_in_clock_time_with_pending_pods(spike: simkit.RunResult) -> None:
    fig = plot_timeline(spike, window=(33.5 * 3600, 35.5 * 3600))
    _check_common(fig)
    bottom = _axes(fig)[-1]
    ticks = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
    assert ticks and all(CLOCK.match(t) for t in ticks), ticks
    assert bottom.get_xlim() == (33.5 * 3600, 35.5 * 3600)
    pending = _panel(fig, "pending pods")
    assert "up to" in pending.get_title(loc="left")


def test_nodes_by_zone_small_multiples_per_pool(spike: simkit.RunResult) -> None:
    fig = plot_nodes_by_zone(spike)
    _check_common(fig)
    pools = sorted(spike.nodes["pool"].unique())
    axes = _axes(fig)
    assert len(axes) == len(pools)
    zones = sorted(spike.nodes["zone"].unique())
    assert set(zones) <= set(_labels(axes[0]))
    assert all(ax.get_ylabel() == "ready nodes" for ax in axes)
    rows = spike.nodes[spike.nodes["pool"] == "application-pool"]
    app = rows.pivot_table(index="t_s", columns="zone", values="ready_nodes").ffill().sum(axis=1)
    assert f"application-pool {int(app.min())}→{int(app.max())}" in fig.get_suptitle()


def test_outage_window_shows_errors_and_the_lost_zone(az: simkit.RunResult) -> None:
    fig = plot_outage(az, services=["bff-service", "postgresql"])
    _check_common(fig)
    avail = _panel(fig, "availability (%)")
    assert "target 99.9 %" in _labels(avail)
    nodes = _panel(fig, "ready nodes")
    assert {"us-east-1a", "us-east-1b", "us-east-1c"} <= set(_labels(nodes))
    assert "us-east-1a unreachable" in _labels(_axes(fig)[0])
    failed = az.routes[(az.routes.t_s >= 12.5 * 3600) & (az.routes.t_s <= 16.5 * 3600)]["errors"].sum()
    assert f"{failed:,.0f} requests failed" in fig.get_suptitle()
    lo, hi = _axes(fig)[-1].get_xlim()
    assert lo < 14 * 3600 < 16 * 3600 < hi  # the outage (14:00-16:00) inside the default window


def test_outage_default_services_are_those_that_fell_short(az: simkit.RunResult) -> None:
    fig = plot_outage(az)
    _check_common(fig)
    shown = [ax.get_title(loc="left").split(":")[0] for ax in _axes(fig) if ax.get_ylabel() == "pods"]
    assert shown and "bff-service" in shown


def test_cost_bars_with_the_budget_line(day: simkit.RunResult) -> None:
    ax = plot_cost(day)
    _check_common(ax.figure)
    budget = day.scenario.cost.budget_usd_month
    assert f"budget \\${budget:,.0f}/month" in _labels(ax)
    total = day.cost["monthly_usd"].sum()
    assert f"\\${total:,.0f}/month" in ax.get_title() and "under the budget" in ax.get_title()
    assert ax.get_xlabel() == "USD per month (730 h)"


def test_ten_x_comparison_has_an_honest_axis_and_the_target(day: simkit.RunResult) -> None:
    ten = simkit.simulate(
        simkit.load_scenario(overrides={"traffic.load.growth": 10}), duration=86400, progress=False
    )
    fig = plot_compare({"as planned": day, "10x load": ten})
    _check_common(fig)
    p95 = next(ax for ax in _axes(fig) if ax.get_ylabel().startswith("P95"))
    assert p95.get_ylim()[0] == 0 and "P95 target 200 ms" in _labels(p95)
    assert {"as planned", "10x load"} <= set(_labels(p95))
    assert "under the 200 ms target" in fig.get_suptitle()


def test_dr_cdfs_show_targets_and_name_the_misses(draws) -> None:
    frame, spec = draws
    fig = plot_dr_cdfs(frame, spec, xlim_min=(140, 20))
    _check_common(fig)
    rto, rpo = _axes(fig)
    assert "RTO target 60 min" in _labels(rto) and "RPO target 15 min" in _labels(rpo)
    missed = dr_checks(frame, spec)
    for target in missed.loc[~missed["passed"], "target"]:
        kind, event = str(target).split(" ", 1)
        assert f"{kind} of {event}" in fig.get_suptitle()


def test_rto_by_phase_uses_the_verdicts_statistic(draws) -> None:
    frame, spec = draws
    table = phases_at_statistic(frame, spec)
    checks = dr_checks(frame, spec).set_index("target")
    for event, row in table.iterrows():
        p95 = checks.loc[f"RTO {event}", "value"]  # minutes, what the verdict compares
        assert row["statistic_min"] == pytest.approx(p95)
        phases = row.drop("statistic_min").sum()
        assert phases == pytest.approx(p95, rel=0.05, abs=0.2)  # the phases add up to the P95
    fig = plot_rto_by_phase(frame, spec)
    _check_common(fig)
    ax = _axes(fig)[0]
    assert "RTO target 60 min" in _labels(ax) and ax.get_title().startswith("P95 RTO over")
    for event in checks[(~checks["passed"]) & checks.index.str.startswith("RTO")].index:
        assert event.removeprefix("RTO ") in ax.get_title()


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.integers(0, 100), min_size=1, max_size=12, unique=True),
    lo=st.integers(0, 100),
    width=st.integers(1, 100),
)
def test_steps_in_holds_the_value_in_force(times: list[int], lo: int, width: int) -> None:
    times = sorted(times)
    df = pd.DataFrame({"t_s": times, "k": "a", "v": np.arange(len(times))})
    out = steps_in(df, "k", "v", lo, lo + width)
    assert out.index[0] == lo and out.index[-1] == lo + width
    assert out.index.is_monotonic_increasing
    for t in out.index:
        before = [i for i, x in enumerate(times) if x <= t]
        expected = before[-1] if before else 0  # before the first change: the first value
        value = out.loc[t, "a"]
        last = value.iloc[-1] if isinstance(value, pd.Series) else value
        assert last == expected
