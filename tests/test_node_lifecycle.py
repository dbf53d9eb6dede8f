"""control/node_lifecycle.py: when a NotReady node's NoExecute taint goes on, table-driven."""

from __future__ import annotations

import pytest

from simkit.control.node_lifecycle import (
    FULL_DISRUPTION,
    NORMAL,
    PARTIAL_DISRUPTION,
    SECONDARY_TAINT_INTERVAL_S,
    TAINT_INTERVAL_S,
    noexecute_taint,
)

CASES = [
    # (id, now, zone nodes, not ready, next token, delay, next token after, reason)
    ("one of many down", 100.0, 10, 1, None, 0.0, None, NORMAL),
    ("two of three down", 100.0, 3, 2, None, 0.0, None, NORMAL),  # partial needs more than 2
    ("zone down, token free", 100.0, 3, 3, None, 0.0, 100.0 + TAINT_INTERVAL_S, FULL_DISRUPTION),
    ("zone down, token later", 100.0, 3, 3, 125.0, 25.0, 125.0 + TAINT_INTERVAL_S, FULL_DISRUPTION),
    ("zone down, old token", 100.0, 3, 3, 40.0, 0.0, 100.0 + TAINT_INTERVAL_S, FULL_DISRUPTION),
    ("small zone partial", 100.0, 5, 3, None, None, None, PARTIAL_DISRUPTION),
    ("small zone below threshold", 100.0, 10, 5, None, 0.0, None, NORMAL),
    ("large zone partial", 100.0, 60, 40, None, SECONDARY_TAINT_INTERVAL_S, None, PARTIAL_DISRUPTION),
]


@pytest.mark.parametrize(
    ("now", "nodes", "not_ready", "token", "delay", "after", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_noexecute_taint(now, nodes, not_ready, token, delay, after, reason):
    decision = noexecute_taint(now, nodes, not_ready, token)
    assert (decision.delay_s, decision.next_token_s, decision.reason) == (delay, after, reason)
    assert decision.message


def test_a_fully_disrupted_zone_is_tainted_one_node_per_interval():
    token, delays = None, []
    for _ in range(4):
        decision = noexecute_taint(0.0, 4, 4, token)
        delays.append(decision.delay_s)
        token = decision.next_token_s
    assert delays == [0.0, TAINT_INTERVAL_S, 2 * TAINT_INTERVAL_S, 3 * TAINT_INTERVAL_S]
