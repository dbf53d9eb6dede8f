"""Kubernetes quantities and durations, parsed once at the edge.

Internal units: CPU in millicores, memory in MiB, time in seconds, money in USD.
Quantity grammar follows k8s.io/apimachinery `resource.Quantity`: a decimal number with an optional
binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), decimal suffix (n, u, m, k, M, G, T, P, E) or exponent (1e3).
Durations follow Go's `time.ParseDuration` ("1h30m", "250ms") plus a `d` suffix for days, because
planners think in days and weeks.

Bounds (issue 14): a quantity is finite and at most 2**63-1 in magnitude, as Kubernetes says of
`resource.Quantity` ("no quantity may represent a number greater than 2^63-1 in magnitude"); a
duration is finite, non-negative and at most `MAX_DURATION_S` (100 years); `-0` reads as 0.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

__all__ = [
    "parse_quantity",
    "parse_cpu",
    "parse_memory",
    "parse_duration",
    "format_cpu",
    "format_memory",
    "format_duration",
]

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)")
_DURATION_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
MIB = 2**20
MAX_QUANTITY = Decimal(2**63 - 1)
"""Largest magnitude of a quantity in base units (k8s.io/apimachinery resource.Quantity)."""
MAX_DURATION_S = 100 * 365 * 86400.0
"""Longest duration accepted anywhere: 100 years, in seconds."""


def parse_quantity(value: str | int | float) -> Decimal:
    """Parse a Kubernetes quantity ("500m", "2Gi", "1e3", 4) into its value in base units."""
    if isinstance(value, bool):
        raise ValueError(f"expected a quantity, got {value!r}")
    if isinstance(value, int | float):
        return _bounded_quantity(Decimal(str(value)), value)
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"expected a Kubernetes quantity such as '500m' or '2Gi', got {value!r}")
    number, suffix = match.group(1), match.group(2) or ""
    try:
        base = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise ValueError(f"expected a Kubernetes quantity, got {value!r}") from exc
    if suffix in _BINARY:
        return _bounded_quantity(base * _BINARY[suffix], value)
    if suffix[:1] in ("e", "E"):
        exponent = int(suffix[1:])
        if abs(exponent) > 30:  # beyond 2**63 either way: refused before computing 10**exponent
            raise ValueError(f"expected a quantity of magnitude at most 2**63-1, got {value!r}")
        return _bounded_quantity(base * (Decimal(10) ** exponent), value)
    return _bounded_quantity(base * _DECIMAL[suffix], value)


def _bounded_quantity(amount: Decimal, value: object) -> Decimal:
    if not amount.is_finite():
        raise ValueError(f"expected a finite quantity, got {value!r}")
    if abs(amount) > MAX_QUANTITY:
        raise ValueError(f"expected a quantity of magnitude at most 2**63-1, got {value!r}")
    return amount + 0  # -0 -> 0


def parse_cpu(value: str | int | float) -> int:
    """CPU quantity -> millicores ("500m" -> 500, "1.5" -> 1500). Rounds up like Kubernetes' MilliValue."""
    amount = parse_quantity(value) * 1000
    if amount < 0:
        raise ValueError(f"expected a non-negative CPU quantity, got {value!r}")
    return int(amount.to_integral_value(rounding="ROUND_CEILING"))


def parse_memory(value: str | int | float) -> float:
    """Memory quantity -> MiB ("2Gi" -> 2048.0, "1G" -> 953.67...). Plain numbers are bytes."""
    amount = parse_quantity(value)
    if amount < 0:
        raise ValueError(f"expected a non-negative memory quantity, got {value!r}")
    return float(amount / MIB)


def parse_duration(value: str | int | float) -> float:
    """Duration -> seconds ("30s" -> 30, "5m" -> 300, "1h30m" -> 5400, "7d" -> 604800, 15 -> 15)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        return _bounded_duration(float(value), value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d*)?", text):
        return _bounded_duration(float(text), value)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"expected a duration such as '30s', '5m', '1h30m' or '7d', got {value!r}")
    return _bounded_duration(total, value)


def _bounded_duration(seconds: float, value: object) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"expected a finite duration, got {value!r}")
    if seconds < 0:
        raise ValueError(f"expected a non-negative duration, got {value!r}")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"expected a duration of at most 100 years (36500d), got {value!r}")
    return seconds + 0.0  # -0 -> 0


def format_cpu(millicores: float) -> str:
    """Millicores -> the way Kubernetes writes CPU ("500m", "2")."""
    m = int(round(millicores))
    return str(m // 1000) if m % 1000 == 0 else f"{m}m"


def format_memory(mib: float) -> str:
    """MiB -> the way Kubernetes writes memory ("512Mi", "2Gi")."""
    m = int(round(mib))
    return f"{m // 1024}Gi" if m % 1024 == 0 and m else f"{m}Mi"


def format_duration(seconds: float) -> str:
    """Seconds -> a short duration ("90s" -> "1m30s", 604800 -> "7d", 0.015 -> "15ms"), exactly."""
    if seconds != int(seconds):
        if seconds < 1 and round(seconds * 1000, 9) == int(round(seconds * 1000, 9)):
            ms = f"{int(round(seconds * 1000))}ms"
            if parse_duration(ms) == seconds:  # 0.30000000000000004 is not 300ms
                return ms
        return f"{Decimal(repr(seconds)):f}s"  # the shortest exact digits, never an exponent ("1e-06s")
    s = int(seconds)
    if s == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts)


def format_time(seconds: float) -> str:
    """Seconds -> the one human format of times and durations in text ("1h2m16.8s", "35s", "-1h"):
    days, hours and minutes as `format_duration` writes them, then seconds to 0.1 s. Tables keep
    seconds as numbers; this is for messages, events, reasons and the CLI."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "never" if seconds == float("inf") else str(seconds)
    if seconds < 0:
        return "-" + format_time(-seconds)
    tenths = int(round(seconds * 10))
    whole, frac = divmod(tenths, 10)
    head = format_duration(float(whole - whole % 60)) if whole >= 60 else ""
    rest = whole % 60
    if frac:
        return f"{head}{rest}.{frac}s"
    return f"{head}{rest}s" if rest or not head else head


def format_number(value: float) -> str:
    """A number as text tables print it: thousands separators, never scientific notation, 4
    significant digits below 1,000, and never rounded onto a different round number (0.99995 is
    "0.99995", not "1": a probability of 1 is printed only when it is 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e18:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    for digits in range(4, 18):
        text = np.format_float_positional(v, precision=digits, unique=False, fractional=False, trim="-")
        if float(text) != round(float(text)) or v == float(text):
            return text
    return repr(v)
