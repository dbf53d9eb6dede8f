"""Regression test, fixed on 2026-12-07; the bug as the review found it:
Review of b5a7837/c8b8973 (overlapping plans share their extra node-hours): a piece's baseline is
the pool's count at the earliest running plan's start. When the pool shrank between that start and a
later plan's start (the cluster autoscaler's evening scale-down under a long node-pool upgrade, or an
`Unfinished` plan that stays open to the run's end), the nodes a later plan adds below the earlier
baseline are charged to no plan: the later plan counted them alone, its share becomes 0, and the
column no longer "attributes what the cluster added during the plans" (plan_overlap.py docstring,
README "extra_node_hours"). Hand case: app 10 nodes at 0 h, 5 at 1 h (scale-down), 8 at 2 h (B's
surge), 5 at 3 h; A runs 0-4 h, B 1.5-3.5 h. A alone counts 0, B alone 3 node-h; shared: both 0.
Expected: what the plans share adds up to at least what any one of them counted alone."""

from __future__ import annotations

import pytest

from simkit.analysis.plan_overlap import shared_node_hours
from simkit.analysis.plans import node_window, pool_levels

H = 3600.0
NODES = [(h * H, "app", "z1", n, 0) for h, n in [(0, 10), (1, 5), (2, 8), (3, 5)]]
WINDOWS = [(0.0, 4 * H), (1.5 * H, 3.5 * H)]


def test_the_lone_counts_by_hand() -> None:
    alone = [node_window(NODES, s, e, {})[1] for s, e in WINDOWS]
    assert alone == pytest.approx([0.0, 3.0])


def test_shares_add_up_to_at_least_any_lone_count() -> None:
    shares = shared_node_hours(pool_levels(NODES), WINDOWS)[0]
    total = sum(sum(s.values()) for s in shares)
    alone = [node_window(NODES, s, e, {})[1] for s, e in WINDOWS]
    assert total >= max(alone) - 1e-9  # was 0.0 against B's 3.0 (the earliest plan's baseline)
    assert all(sum(share.values()) <= a + 1e-9 for share, a in zip(shares, alone, strict=True))
