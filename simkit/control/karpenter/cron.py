"""The standard 5-field cron that Karpenter's disruption budgets use, evaluated in UTC.

Karpenter parses `"TZ=UTC " + schedule` with robfig/cron v3 `ParseStandard`
(pkg/apis/v1/nodepool_budgets.go `Budget.IsActive`). This module reproduces that parser's grammar,
its error texts and `SpecSchedule.Next` (robfig/cron v3 parser.go, spec.go), written here rather
than taken from PyPI: croniter is unmaintained, and cronsim differs from robfig in what matters for
budgets (robfig's "star bit" rule for day-of-month vs day-of-week, `@every`, and the error messages
Karpenter surfaces in its events). Only minute resolution is needed (the second field is always 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["CronError", "CronSchedule", "parse_standard"]


class CronError(ValueError):
    """A schedule robfig/cron would reject; the text is robfig's."""


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int]


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DOWS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_MINUTE = _Bounds(0, 59, {})
_HOUR = _Bounds(0, 23, {})
_DOM = _Bounds(1, 31, {})
_MONTH = _Bounds(1, 12, _MONTHS)
_DOW = _Bounds(0, 6, _DOWS)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule: allowed values per field, `*` flags for the day rule, or an `@every` delay."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    dom: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    dow: frozenset[int] = frozenset()
    dom_star: bool = False
    dow_star: bool = False
    every: timedelta | None = None

    def _day_matches(self, t: datetime) -> bool:
        """robfig dayMatches: both day fields must match if either is `*`, otherwise either may."""
        dom_ok = t.day in self.dom
        dow_ok = (t.isoweekday() % 7) in self.dow
        if self.dom_star or self.dow_star:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def next(self, t: datetime) -> datetime | None:
        """The first activation strictly after `t` (UTC), or None where robfig returns the zero time."""
        t = t.astimezone(UTC)
        if self.every is not None:  # ConstantDelaySchedule.Next: whole seconds after t
            return t.replace(microsecond=0) + self.every
        start = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        limit = day + timedelta(days=5 * 366)
        while day <= limit:  # robfig gives up after five years (yearLimit)
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        hit = day.replace(hour=hour, minute=minute)
                        if hit >= start:
                            return hit
            day += timedelta(days=1)
        return None


_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _atoi(text: str, expr: str) -> int:
    """robfig mustParseInt: decimal integer, never negative."""
    if not _GO_INT.fullmatch(text):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{text}": invalid syntax')
    num = int(text)
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(text: str, names: dict[str, int], expr: str) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    return _atoi(text, expr)


def _range(expr: str, b: _Bounds) -> tuple[set[int], bool]:
    """robfig getRange: `*`, `a`, `a-b`, each with an optional `/step`; returns (values, star)."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    single = len(low_high) == 1
    star = False
    if low_high[0] in ("*", "?"):
        start, end, star = b.low, b.high, True
    else:
        start = _int_or_name(low_high[0], b.names, expr)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b.names, expr)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1], expr)
        if single:
            end = b.high
        if step > 1:
            star = False
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < b.low:
        raise CronError(f"beginning of range ({start}) below minimum ({b.low}): {expr}")
    if end > b.high:
        raise CronError(f"end of range ({end}) above maximum ({b.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _field(field: str, b: _Bounds) -> tuple[frozenset[int], bool]:
    """robfig getField: a comma-separated list of ranges; `*` only if some range is a bare star."""
    values: set[int] = set()
    star = False
    for part in field.split(","):
        got, is_star = _range(part, b)
        values |= got
        star = star or is_star
    return frozenset(values), star


def _go_duration(text: str) -> timedelta:
    """Go time.ParseDuration for the `@every` descriptor (units ns..h, no days)."""
    body = text[1:] if text[:1] in "+-" else text
    pos, total = 0, 0.0
    for m in _GO_DURATION_PART.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body or (pos != len(body) and body != "0"):
        raise CronError(f'failed to parse duration @every {text}: time: invalid duration "{text}"')
    return timedelta(seconds=-total if text.startswith("-") else total)


def parse_standard(spec: str) -> CronSchedule:
    """robfig/cron v3 ParseStandard: 5 fields or a descriptor; raises CronError with robfig's text."""
    spec = spec.strip()
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith("@"):
        if spec.startswith("@every "):
            return CronSchedule(every=max(_go_duration(spec[len("@every ") :].strip()), timedelta(seconds=1)))
        if spec not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    minutes, _ = _field(fields[0], _MINUTE)
    hours, _ = _field(fields[1], _HOUR)
    dom, dom_star = _field(fields[2], _DOM)
    months, _ = _field(fields[3], _MONTH)
    dow, dow_star = _field(fields[4], _DOW)
    return CronSchedule(minutes, hours, dom, months, dow, dom_star, dow_star)
