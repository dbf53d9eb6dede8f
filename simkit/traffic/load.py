"""Request rate per tick from a `LoadProfile`: a synthetic shape or a real trace, vectorised.

Traces are read at run time, cached per file (path, mtime, size, read options) and put on a uniform
grid of request counts per `interval`. Resampling onto the simulation's ticks goes through the
cumulative request count, so the requests in any interval are conserved exactly (no interpolation
across gaps, no point sampling of a spiky series).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit.errors import ScenarioError
from simkit.scenario.load import LoadProfile, Noise, Spike, TraceSpec

__all__ = [
    "TraceData",
    "arrival_dispersion",
    "load_trace",
    "read_trace",
    "rate_series",
    "spike_factor",
    "synthetic_factor",
    "trace_events",
]

_READ_FIELDS = ("format", "time_column", "rate_column", "rate_unit", "interval", "exclude_column", "gaps")


@dataclass(frozen=True)
class TraceData:
    """A trace on a uniform grid: `counts[i]` requests in `[i * interval_s, (i + 1) * interval_s)`."""

    source: str
    counts: np.ndarray
    interval_s: float
    events_s: np.ndarray | None = None
    """Sorted per-request times from the grid's origin (`format: events` only), for replay."""

    @property
    def duration_s(self) -> float:
        """Length of the (gap-free) trace timeline in seconds."""
        return len(self.counts) * self.interval_s

    @property
    def total(self) -> float:
        """Total number of requests."""
        return float(self._cum[-1])

    @property
    def mean_rps(self) -> float:
        """Mean request rate over the whole trace."""
        return self.total / self.duration_s

    @functools.cached_property
    def _cum(self) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(self.counts, dtype=float)))

    def t_s(self) -> np.ndarray:
        """Start time of each interval, seconds from the trace start."""
        return np.arange(len(self.counts)) * self.interval_s

    def rate_rps(self) -> np.ndarray:
        """Mean request rate in each interval."""
        return self.counts / self.interval_s

    def cumulative(self, u: np.ndarray) -> np.ndarray:
        """Requests in `[0, u)`, the trace repeated end to end beyond its duration."""
        laps = np.floor(u / self.duration_s)
        rest = u - laps * self.duration_s
        edges = np.arange(len(self.counts) + 1) * self.interval_s
        return laps * self.total + np.interp(rest, edges, self._cum)


# ---------------------------------------------------------------------------------------- reading


def _fail(file: Path | str, message: str, field: str = "") -> ScenarioError:
    """An error naming the trace file and, when it helps, the scenario field."""
    return ScenarioError(message, path=f"traffic.load.trace.{field}" if field else "", source=str(file))


def _resolve(path: str | Path, base_dir: Path | None) -> Path:
    """Absolute paths as given; relative ones against the scenario's directory (or the cwd)."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = (base_dir or Path.cwd()) / p
    if not p.is_file():
        where = f" (resolved against {base_dir})" if base_dir is not None else ""
        raise _fail(p, f"trace file not found: expected a CSV file at {p}{where}", "path")
    return p.resolve()


def _read_csv(file: Path) -> pd.DataFrame:
    """All cells as strings, blank lines dropped but line numbers kept in the index (line - 2)."""
    try:
        df = pd.read_csv(file, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _fail(file, f"cannot read as CSV with a header row: {exc}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    blank = (df.fillna("") == "").all(axis=1)
    df = df[~blank]
    if df.empty:
        raise _fail(file, "no data rows: expected a header line followed by at least one row")
    return df


def _column(df: pd.DataFrame, file: Path, name: str | None, position: int, field: str) -> pd.Series:
    """The named column, or the one at `position` when no name is given."""
    columns = list(df.columns)
    if name is None:
        if len(columns) <= position:
            raise _fail(file, f"bad header {columns}: expected at least {position + 1} columns", field)
        name = columns[position]
    elif name not in columns:
        raise _fail(file, f"bad header: no column {name!r}, expected one of {columns}", field)
    return df[name]


def _first_bad(mask: np.ndarray, raw: pd.Series) -> tuple[int, str]:
    """Line number and text of the first row flagged in `mask`."""
    i = int(np.argmax(mask))
    return int(raw.index[i]) + 2, str(raw.iloc[i])


def _parse_times(raw: pd.Series, file: Path, field: str) -> np.ndarray:
    """Seconds (numbers as given, ISO timestamps since the Unix epoch), or an error naming the line."""
    text = raw.fillna("").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if not math.isnan(float(numeric.iloc[0])):
        bad = numeric.isna().to_numpy() | ~np.isfinite(numeric.to_numpy(dtype=float))
        seconds = numeric.to_numpy(dtype=float)
    else:
        stamps = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        bad = stamps.isna().to_numpy()
        epoch = pd.Timestamp(0, tz="UTC")
        seconds = (stamps - epoch).dt.total_seconds().to_numpy(dtype=float)
    if bad.any():
        line, value = _first_bad(bad, raw)
        raise _fail(
            file, f"line {line}: cannot parse time {value!r}: expected seconds or an ISO timestamp", field
        )
    return seconds


def _parse_values(raw: pd.Series, file: Path, field: str, what: str) -> np.ndarray:
    """Finite, non-negative numbers, or an error naming the first bad line."""
    values = pd.to_numeric(raw.fillna("").str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        line, value = _first_bad(bad, raw)
        raise _fail(file, f"line {line}: cannot parse {what} {value!r}: expected a number", field)
    negative = values < 0
    if negative.any():
        line, value = _first_bad(negative, raw)
        raise _fail(file, f"line {line}: negative {what} {value}: expected a rate or count >= 0", field)
    return values


def _infer_interval(t: np.ndarray, file: Path) -> float:
    """The usual spacing of rows: the most common positive time step (the smallest on a tie)."""
    steps = np.round(np.diff(np.unique(t)), 9)
    if steps.size == 0:
        raise _fail(file, "cannot infer the row interval from a single time: set trace.interval", "interval")
    values, counts = np.unique(steps, return_counts=True)
    return float(values[np.argmax(counts)])


MAX_TRACE_BINS = 10_000_000
"""Most intervals a trace's span may cover (80 MB of counts): a few years at 10 s, a quarter at 1 s.
Checked before any array is allocated, so a trace whose timestamps span decades, or a tiny interval,
is one line of bad input instead of terabytes (issue 14)."""


def _bins(t: np.ndarray, interval: float, file: Path) -> np.ndarray:
    """Grid index of each time (tolerant to float noise just below a grid line); refuses a grid over
    `MAX_TRACE_BINS` intervals before allocating it."""
    span = float(t.max() - t.min()) if t.size else 0.0
    if span / interval + 1 > MAX_TRACE_BINS:
        fits = math.ceil(span / (MAX_TRACE_BINS - 1))
        raise _fail(
            file,
            f"its times span {span:,.0f} s: {span / interval + 1:,.0f} intervals of {interval:g} s, over the "
            f"limit of {MAX_TRACE_BINS:,}; set trace.interval to at least {fits:,} s or trim the trace",
            "interval",
        )
    return np.floor(t / interval + 1e-9).astype(np.int64)


def _series_counts(df: pd.DataFrame, file: Path, spec: TraceSpec) -> tuple[np.ndarray, float]:
    """Counts per interval from a one-row-per-interval series; gaps skipped or zero-filled."""
    t = _parse_times(_column(df, file, spec.time_column, 0, "time_column"), file, "time_column")
    values = _parse_values(_column(df, file, spec.rate_column, 1, "rate_column"), file, "rate_column", "rate")
    interval = spec.interval or _infer_interval(t, file)
    counts = values * interval if spec.rate_unit == "per_second" else values
    keep = ~_excluded(df, file, spec)
    idx = _bins(t - t.min(), interval, file)
    n = int(idx.max()) + 1
    binned = np.bincount(idx[keep], weights=counts[keep], minlength=n)
    if spec.gaps == "skip":
        binned = binned[np.bincount(idx[keep], minlength=n) > 0]
    return binned, interval


def _events(df: pd.DataFrame, file: Path, spec: TraceSpec) -> tuple[np.ndarray, float, np.ndarray]:
    """Counts per interval, the interval, and the sorted request times from the grid's origin."""
    t = _parse_times(_column(df, file, spec.time_column, 0, "time_column"), file, "time_column")
    t = t[~_excluded(df, file, spec)]
    if t.size == 0:
        raise _fail(file, "no requests left after exclude_column", "exclude_column")
    interval = spec.interval or 1.0
    origin = math.floor(t.min() / interval) * interval  # wall-clock aligned bins (whole seconds)
    idx = _bins(t - origin, interval, file)
    return np.bincount(idx, minlength=int(idx.max()) + 1).astype(float), interval, np.sort(t - origin)


def _excluded(df: pd.DataFrame, file: Path, spec: TraceSpec) -> np.ndarray:
    """Rows to treat as missing data: `exclude_column` is non-zero (e.g. NASA's server_down)."""
    if spec.exclude_column is None:
        return np.zeros(len(df), dtype=bool)
    raw = _column(df, file, spec.exclude_column, 0, "exclude_column")
    return _parse_values(raw, file, "exclude_column", "exclude flag") != 0


@functools.lru_cache(maxsize=16)
def _read_cached(file: Path, mtime_ns: int, size: int, options: tuple[Any, ...]) -> TraceData:
    """Parse once per file version and read options; the arrays are read-only because shared."""
    spec = TraceSpec(path=str(file), **dict(zip(_READ_FIELDS, options, strict=True)))
    df = _read_csv(file)
    events: np.ndarray | None = None
    if spec.format == "events":
        counts, interval, events = _events(df, file, spec)
        events.setflags(write=False)
    else:
        counts, interval = _series_counts(df, file, spec)
    if counts.size == 0:
        raise _fail(file, "no data left after removing excluded rows and gaps")
    counts.setflags(write=False)
    return TraceData(source=str(file), counts=counts, interval_s=float(interval), events_s=events)


def read_trace(spec: TraceSpec, base_dir: Path | None = None) -> TraceData:
    """Read the trace `spec` names (relative to `base_dir`), cached per path, mtime and options."""
    file = _resolve(spec.path, base_dir)
    stat = file.stat()
    options = tuple(getattr(spec, name) for name in _READ_FIELDS)
    return _read_cached(file, stat.st_mtime_ns, stat.st_size, options)


def load_trace(
    path: str | Path, base_dir: Path | None = None, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """`(t_s, rate_rps)` of a trace on its own uniform grid, unscaled; options are TraceSpec fields.

    Example: `load_trace(nasa_csv, rate_column="requests", rate_unit="per_interval")`.
    """
    data = read_trace(TraceSpec(path=str(path), **options), base_dir)
    return data.t_s(), data.rate_rps()


# -------------------------------------------------------------------------------- rate evaluation


def synthetic_factor(profile: LoadProfile, t_s: np.ndarray) -> np.ndarray:
    """Daily x weekly factor at each time (1 where no shape is configured)."""
    hours = profile.start_hour + 24.0 * profile.weekday_index + np.asarray(t_s, dtype=float) / 3600.0
    hour_of_week = np.mod(hours, 168.0)
    day = np.minimum(np.floor(hour_of_week / 24.0).astype(np.int64), 6)
    factor = np.ones_like(hour_of_week)
    if profile.daily is not None:
        factor *= _daily_factor(profile, hour_of_week - 24.0 * day)
    if profile.weekly is not None:
        factor *= np.asarray(profile.weekly.factors())[day]
    return factor


def _daily_factor(profile: LoadProfile, hour_of_day: np.ndarray) -> np.ndarray:
    """Cosine around the peak hour, or hourly factors linearly interpolated (periodic)."""
    daily = profile.daily
    assert daily is not None
    if daily.profile is None:
        amplitude = daily.amplitude or 0.0
        return 1.0 + amplitude * np.cos(2.0 * np.pi * (hour_of_day - daily.peak_hour) / 24.0)
    knots = daily.factors()
    return np.interp(hour_of_day, np.arange(25.0), [*knots, knots[0]])


def spike_factor(spikes: list[Spike], t_s: np.ndarray) -> np.ndarray:
    """Product of the spikes' multipliers: linear ramp up, hold at `factor`, linear ramp down."""
    t = np.asarray(t_s, dtype=float)
    factor = np.ones_like(t)
    for spike in spikes:
        up = _ramp(t - spike.at, spike.ramp)
        down = 1.0 - _ramp(t - (spike.end_s - spike.down_s), spike.down_s)
        level = np.minimum(up, down)
        factor *= 1.0 + (spike.factor - 1.0) * level
    return factor


def _ramp(x: np.ndarray, width: float) -> np.ndarray:
    """0 for x < 0, x / width rising to 1, then 1 (a step at 0 when width is 0)."""
    if width <= 0:
        return (x >= 0).astype(float)
    return np.clip(x, 0.0, width) / width  # clip first: no overflow for tiny widths


def _noise_factor(noise: Noise | None, n: int, rng: np.random.Generator) -> np.ndarray | None:
    """Lognormal multipliers with mean 1 and the configured CV; draws nothing when there is none."""
    if noise is None or noise.cv == 0:
        return None
    sigma2 = math.log1p(noise.cv**2)
    return rng.lognormal(-sigma2 / 2.0, math.sqrt(sigma2), size=n)


def _tick_ends(t: np.ndarray, tick_s: float | None, fallback: float) -> np.ndarray:
    """End of each tick: the next tick's start; the last one as wide as its predecessor."""
    if tick_s is not None:
        return t + tick_s
    last = t[-1] - t[-2] if t.size > 1 else fallback
    return np.append(t[1:], t[-1] + last)


def _trace_rate(spec: TraceSpec, t: np.ndarray, tick_s: float | None, base_dir: Path | None) -> np.ndarray:
    """Mean trace rate over each tick (requests conserved), scaled and looped as configured."""
    data = read_trace(spec, base_dir)
    if data.total == 0 and spec.scale_to_mean_rps:
        raise _fail(
            data.source, "the trace has no requests, so it cannot be scaled to a mean", "scale_to_mean_rps"
        )
    scale = spec.multiplier if spec.scale_to_mean_rps is None else spec.scale_to_mean_rps / data.mean_rps
    starts = t + spec.offset
    ends = _tick_ends(t, tick_s, data.interval_s) + spec.offset
    if not spec.loop and ends[-1] > data.duration_s * (1 + 1e-12):
        raise _fail(
            data.source,
            f"the trace covers {data.duration_s:g} s but the run needs {ends[-1]:g} s "
            f"(offset {spec.offset:g} s included): set trace.loop: true or shorten the run",
            "loop",
        )
    return (data.cumulative(ends) - data.cumulative(starts)) / (ends - starts) * scale


def _check_ticks(t_s: np.ndarray) -> np.ndarray:
    """Tick start times as a 1-D float array, finite and strictly increasing."""
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or not np.isfinite(t).all():
        raise ValueError("t_s: expected a 1-D array of finite tick start times in seconds")
    if t.size > 1 and not (np.diff(t) > 0).all():
        raise ValueError("t_s: expected strictly increasing tick start times")
    return t


def rate_series(
    profile: LoadProfile,
    t_s: np.ndarray,
    rng: np.random.Generator,
    base_dir: Path | None = None,
    *,
    tick_s: float | None = None,
) -> np.ndarray:
    """Total request rate (req/s) for each tick starting at `t_s` (seconds from simulation start).

    The synthetic shape is evaluated at the tick start; a trace is averaged over the tick
    `[t_s[i], t_s[i+1])` (last tick: `tick_s`, else as wide as the one before). `rng` is drawn from
    only when noise is configured; `base_dir` is the scenario file's directory for relative paths.
    """
    t = _check_ticks(t_s)
    if t.size == 0:
        return np.zeros(0)
    if profile.trace is not None:
        rate = _trace_rate(profile.trace, t, tick_s, base_dir)
    else:
        rate = (profile.base_rps or 0.0) * synthetic_factor(profile, t)
    rate = rate * spike_factor(profile.spikes, t)
    noise = _noise_factor(profile.noise, t.size, rng)
    if noise is not None:
        rate *= noise
    return np.maximum(rate, 0.0) * profile.growth  # last, so growth scales the series exactly


# ----------------------------------------------------------------------- event traces: replay, burstiness
DISPERSION_BIN_S = 1.0
"""Bin width of the sub-tick counts whose index of dispersion `arrival_dispersion` measures."""
DISPERSION_SMOOTH_TICKS = 2
"""Ticks either side pooled into each tick's index of dispersion (a 60 s tick has only 60 bins)."""


def trace_events(
    profile: LoadProfile, t_s: np.ndarray, base_dir: Path | None = None, *, tick_s: float | None = None
) -> np.ndarray | None:
    """The unscaled request times (seconds from the run's start) of an events trace inside the run.

    None unless the load is a `format: events` trace: a series has no per-request times. The window
    is `[t_s[0], end of the last tick)` shifted by `trace.offset`; with `loop` the trace repeats end
    to end (lap k adds k x its duration, as `TraceData.cumulative` counts it). Scaling, spikes,
    noise and growth are not applied here: `replay_multiplier` gives the factor per tick.
    """
    spec = profile.trace
    if spec is None or spec.format != "events":
        return None
    t = _check_ticks(t_s)
    data = read_trace(spec, base_dir)
    assert data.events_s is not None
    start, end = float(t[0]) + spec.offset, float(_tick_ends(t, tick_s, data.interval_s)[-1]) + spec.offset
    laps = range(int(start // data.duration_s), int(math.ceil(end / data.duration_s)))
    parts = [data.events_s + k * data.duration_s for k in laps] if spec.loop else [data.events_s]
    times = np.concatenate(parts) if parts else np.zeros(0)
    times = times[(times >= start) & (times < end)]
    return np.asarray(times - spec.offset, dtype=float)


def tick_counts(events_s: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Number of events in each tick `[t_s[i], t_s[i+1])` (the last tick open-ended)."""
    idx = np.searchsorted(t_s, events_s, side="right") - 1
    return np.bincount(idx[idx >= 0], minlength=t_s.size)[: t_s.size].astype(float)


def replay_multiplier(
    events_s: np.ndarray, t_s: np.ndarray, tick_s: np.ndarray, rate_rps: np.ndarray
) -> np.ndarray:
    """Per tick, copies per trace request that give `rate_rps` (the scaled rate `rate_series` returned).

    1 for an unscaled trace (rounded to 1e-9, so float noise never drops a request); 0 where the trace
    has no request in the tick (no arrivals can be replayed there).
    """
    raw = tick_counts(events_s, t_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(raw > 0, np.asarray(rate_rps) * np.asarray(tick_s) / np.where(raw > 0, raw, 1.0), 0.0)
    return np.round(m, 9)


def arrival_dispersion(
    events_s: np.ndarray,
    t_s: np.ndarray,
    tick_s: np.ndarray,
    multiplier: np.ndarray | None = None,
    *,
    bin_s: float = DISPERSION_BIN_S,
    smooth: int = DISPERSION_SMOOTH_TICKS,
) -> np.ndarray:
    """Index of dispersion (variance / mean) of the arrivals counted per `bin_s` inside each tick.

    Deviations are taken from each tick's own mean, so rate changes between ticks (which the fast
    mode already follows) do not count; the sums are pooled over `smooth` ticks either side.
    1 is Poisson; for a renewal process it tends to the inter-arrival SCV at long bins (Cox & Lewis,
    "The Statistical Analysis of Series of Events", 1966, ch. 4), the c_a^2 of GI/G/c approximations
    (Whitt, "Approximating a point process by a renewal process", Oper. Res. 1982). With a replay
    `multiplier` m (requests copied floor(m) times plus once more with probability frac(m), as the
    request-level mode does) the index becomes m*I + f(1-f)/m, f = frac(m): for thinning (m < 1),
    1 + m(I - 1). Ticks shorter than two bins carry 1.
    """
    t = np.asarray(t_s, dtype=float)
    n = t.size
    widths = np.asarray(tick_s, dtype=float)
    nb = np.floor(widths / bin_s + 1e-9).astype(np.int64)
    out = np.ones(n)
    if n == 0 or nb.max() < 2:
        return out
    tick = np.searchsorted(t, events_s, side="right") - 1
    k = np.floor((events_s - t[np.clip(tick, 0, n - 1)]) / bin_s + 1e-9).astype(np.int64)
    keep = (tick >= 0) & (k < nb[np.clip(tick, 0, n - 1)])
    width = int(nb.max())
    counts = np.bincount(tick[keep] * width + k[keep], minlength=n * width).reshape(n, width)
    used = np.arange(width)[None, :] < nb[:, None]
    total = np.where(used, counts, 0).sum(axis=1).astype(float)
    mean = total / np.maximum(nb, 1)
    ss = np.where(used, (counts - mean[:, None]) ** 2, 0.0).sum(axis=1)
    dof_mean = np.where(nb >= 2, (nb - 1) * mean, 0.0)
    ss = np.where(nb >= 2, ss, 0.0)
    num, den = _window_sum(ss, smooth), _window_sum(dof_mean, smooth)
    idc = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
    if multiplier is None:
        return idc
    m = np.asarray(multiplier, dtype=float)
    f = m - np.floor(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(m > 0, m * idc + f * (1.0 - f) / np.where(m > 0, m, 1.0), 1.0)
    return np.asarray(scaled, dtype=float)


def _window_sum(x: np.ndarray, half: int) -> np.ndarray:
    """Sum of x[i - half : i + half + 1] for each i (cut at the ends)."""
    c = np.concatenate(([0.0], np.cumsum(x, dtype=float)))
    i = np.arange(x.size)
    return np.asarray(c[np.minimum(i + half + 1, x.size)] - c[np.maximum(i - half, 0)], dtype=float)


def thinned_dispersion(index: np.ndarray, fraction: float) -> np.ndarray:
    """Index of dispersion of a random `fraction` of a stream: 1 + fraction x (I - 1) (binomial thinning)."""
    return 1.0 + min(max(fraction, 0.0), 1.0) * (np.asarray(index, dtype=float) - 1.0)
