"""Node-group exponential backoff after a failed scale-up (`CA137:utils/backoff/exponential_backoff.go`).

Rules (ca_spec §3.6): first failure -> initial duration; failure after the previous backoff expired
-> double, capped at max; failure while still backed off -> same duration. A group is backed off
while now <= until. Records whose last failure is older than the reset timeout are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from simkit.control.ca.model import BackoffEntry

__all__ = ["register_failure", "is_backed_off", "remove_stale"]


def register_failure(
    backoff: Mapping[str, BackoffEntry],
    group: str,
    now: float,
    initial: float,
    maximum: float,
) -> dict[str, BackoffEntry]:
    """Return a new backoff table with `group`'s failure at `now` recorded (upstream `Backoff`)."""
    previous = backoff.get(group)
    duration = initial
    if previous is not None:
        # backoffUntil.Before(now): expired strictly before now -> double; otherwise keep.
        duration = min(2 * previous.duration, maximum) if previous.until < now else previous.duration
    table = dict(backoff)
    table[group] = BackoffEntry(duration=duration, until=now + duration, last_failure=now)
    return table


def is_backed_off(backoff: Mapping[str, BackoffEntry], group: str, now: float) -> bool:
    """True while now <= backoffUntil (upstream `BackoffStatus`: `!backoffUntil.Before(now)`)."""
    entry = backoff.get(group)
    return entry is not None and not entry.until < now


def remove_stale(
    backoff: Mapping[str, BackoffEntry], now: float, reset_timeout: float
) -> dict[str, BackoffEntry]:
    """Drop records whose last failure + reset timeout is before now (`RemoveStaleBackoffData`)."""
    return {g: e for g, e in backoff.items() if not e.last_failure + reset_timeout < now}
