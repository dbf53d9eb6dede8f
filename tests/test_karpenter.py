"""simkit.control.karpenter beyond the transcribed vectors: robfig cron grammar and errors, budget
windows at their edges, eviction cost clamps and the Consolidatable requeue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simkit.control import karpenter as kp
from simkit.control.karpenter.cron import CronError, parse_standard

T = datetime(2024, 1, 7, 0, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("* * * * tue-mon", "beginning of range (2) beyond end of range (1): tue-mon"),
        ("@wrongly", "unrecognized descriptor: @wrongly"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ],
)
def test_invalid_crons_give_robfigs_error_text(spec: str, message: str) -> None:
    with pytest.raises(CronError) as info:
        parse_standard(spec)
    assert str(info.value) == message
    active, error = kp.budget_is_active(kp.Budget(nodes="1", schedule=spec, duration=timedelta(hours=1)), T)
    assert not active and error == f"invariant violated, invalid cron, {message}"


def test_day_of_month_and_day_of_week_are_ored_only_when_both_are_restricted() -> None:
    both = parse_standard("0 0 13 * fri")  # the 13th OR a Friday
    assert both.next(datetime(2024, 1, 1, tzinfo=UTC)) == datetime(2024, 1, 5, tzinfo=UTC)
    star = parse_standard("0 0 * * fri")  # day-of-month is *, so only Fridays
    assert star.next(datetime(2024, 1, 5, 0, 0, 1, tzinfo=UTC)) == datetime(2024, 1, 12, tzinfo=UTC)
    assert parse_standard("@weekly").next(T - timedelta(seconds=1)) == T  # Sunday 00:00
    assert parse_standard("0 9 * JAN MON").next(T) == datetime(2024, 1, 8, 9, 0, tzinfo=UTC)


def test_budget_window_starts_at_the_hit_and_ends_before_hit_plus_duration() -> None:
    """robfig's Next is strictly after its argument (it starts at the upcoming second), so at exactly
    `hit + duration` Next(now - duration) is the following hit and the budget is inactive."""
    daily = kp.Budget(nodes="0", schedule="@daily", duration=timedelta(minutes=30))
    assert kp.budget_is_active(daily, T) == (True, None)
    assert kp.budget_is_active(daily, T + timedelta(minutes=29, seconds=59)) == (True, None)
    assert kp.budget_is_active(daily, T + timedelta(minutes=30)) == (False, None)
    assert kp.budget_is_active(daily, T - timedelta(seconds=1)) == (False, None)
    # Evaluated in UTC whatever the offset of `now`: 00:10 at +01:00 is 23:10 UTC, outside the window.
    assert kp.budget_is_active(daily, datetime.fromisoformat("2024-01-07T00:10:00+01:00")) == (False, None)


def test_allowed_disruptions_round_percentages_up_and_fail_closed() -> None:
    now = T + timedelta(hours=12)
    assert kp.allowed_disruptions(kp.Budget(nodes="10%"), 15, now).value == 2
    assert kp.allowed_disruptions(kp.Budget(nodes="3"), 1000, now).value == 3  # never scaled
    bad = kp.allowed_disruptions(kp.Budget(nodes="ten"), 10, now)
    assert bad.value == 0 and bad.error is not None
    budgets = [kp.Budget(nodes="5"), kp.Budget(nodes="1", reasons=("Drifted",), schedule="@bogus")]
    assert kp.allowed_disruptions_by_reason(budgets, 10, now, "Empty").value == 5
    assert kp.must_allowed_disruptions(budgets, 10, now, "Empty") == 0  # the other budget's error


def test_eviction_cost_clamps_and_ignores_bad_deletion_cost() -> None:
    ann = "controller.kubernetes.io/pod-deletion-cost"
    assert kp.eviction_cost({}, None) == 1.0
    assert kp.eviction_cost({ann: str(2**27)}, None) == 2.0
    assert kp.eviction_cost({ann: "-1e12"}, None) == -10.0
    assert kp.eviction_cost({ann: "lots"}, 2**25) == 2.0
    assert kp.lifetime_remaining(timedelta(hours=10), timedelta(hours=4)) == pytest.approx(0.6)
    assert kp.lifetime_remaining(None, timedelta(days=400)) == 1.0


def test_consolidatable_condition_requeues_for_the_remainder() -> None:
    got = kp.consolidatable_condition(
        T, timedelta(minutes=1), "True", T - timedelta(hours=1), T - timedelta(seconds=20)
    )
    assert (got.present, got.is_true, got.requeue_after) == (False, False, timedelta(seconds=40))
    at_edge = kp.consolidatable_condition(T, timedelta(minutes=1), "True", T, T - timedelta(minutes=1))
    assert (at_edge.present, at_edge.is_true) == (True, True)


def _it(name: str, cpu: int, price: float) -> kp.InstanceType:
    """An instance type with an on-demand offering at `price` and spot at 40 % of it, in zone z1."""
    return kp.InstanceType(
        name=name,
        capacity={"cpu": cpu * 1000, "memory": 8 * 2**30 * 1000, "pods": 110_000},
        offerings=(kp.Offering("on-demand", "z1", price), kp.Offering("spot", "z1", price * 0.4)),
    )


def _cluster(pool: kp.NodePool, node_type: str, pod_cpu_m: int) -> kp.Cluster:
    node = kp.Node(
        name="n1",
        nodepool=pool.name,
        instance_type=node_type,
        capacity_type="on-demand",
        zone="z1",
        allocatable={"cpu": 4000, "pods": 110_000},
        initialized_at=T,
        consolidatable=True,
    )
    pod = kp.Pod(name="web", node="n1", requests={"cpu": pod_cpu_m})
    its = (_it("small", 1, 0.05), _it("large", 4, 0.20))
    return kp.Cluster(now=T, instance_types=its, nodepools=(pool,), nodes=(node,), pods=(pod,))


def test_single_node_consolidation_replaces_with_a_cheaper_type_or_says_why_not() -> None:
    pool = kp.NodePool(name="np", budgets=(kp.Budget(nodes="100%"),))
    got = kp.reconcile(_cluster(pool, "large", 500))
    assert got.command is not None and got.command.decision == "replace"
    # Both types are cheaper than on-demand "large" at their worst (spot) launch price: cheapest first,
    # and the launch is pinned to spot because the price filter assumed spot.
    assert got.command.replacements[0].instance_types == ("small", "large")
    assert got.command.replacements[0].capacity_type == "spot"
    on_demand = kp.Requirement("karpenter.sh/capacity-type", "In", ("on-demand",))
    od_pool = kp.NodePool(name="np", budgets=(kp.Budget(nodes="100%"),), requirements=(on_demand,))
    got = kp.reconcile(_cluster(od_pool, "large", 500))
    assert got.command is not None and got.command.replacements[0].instance_types == ("small",)
    assert got.command.replacements[0].capacity_type == "on-demand"
    stuck = kp.reconcile(_cluster(od_pool, "small", 500))  # already on the cheapest on-demand type
    assert stuck.command is None
    assert "Unconsolidatable Node/n1: Can't replace with a cheaper node" in stuck.events


def test_should_disrupt_rejections_carry_karpenters_text() -> None:
    when_empty = kp.NodePool(name="np", consolidation_policy="WhenEmpty")
    got = kp.reconcile(_cluster(when_empty, "large", 500))
    assert got.command is None
    assert (
        'Unconsolidatable Node/n1: NodePool "np" has consolidation policy WhenEmpty, but node is not empty'
        in (got.events)
    )
    never = kp.NodePool(name="np", consolidate_after=None)
    assert (
        'Unconsolidatable Node/n1: NodePool "np" has consolidation disabled'
        in kp.reconcile(_cluster(never, "large", 500)).events
    )
