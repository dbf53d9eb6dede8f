"""Shared axis conventions of simkit's figures: time in clock time or days as the window fits,
integer ticks for counts, legends outside the data, target lines labelled, titles that state findings.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

HOUR = 3600.0
DAY = 86400.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CLOCK_STEPS = (300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600)
TARGET_STYLE: dict[str, Any] = {"color": "red", "ls": "--", "lw": 1.2}


def clock_origin(scenario: Any) -> tuple[float, int]:
    """(seconds after midnight, weekday index) at t=0: `traffic.load.start_hour` and `start_weekday`
    (simkit.scenario.load: default Monday 00:00)."""
    load = getattr(getattr(scenario, "traffic", None), "load", None)
    hour = float(getattr(load, "start_hour", 0.0) or 0.0)
    day = getattr(load, "start_weekday", "monday")
    index = day if isinstance(day, int) else [w.lower() for w in WEEKDAYS].index(str(day)[:3].lower())
    return hour * HOUR, index


def time_axis(ax: Axes, start_s: float, end_s: float, scenario: Any = None) -> str:
    """Format the x axis (in simulated seconds) for the window: up to 2 days in clock time
    ("Tue 09:30"), longer in days ("day 3"). Sets the x limits and label; returns the label."""
    origin, weekday = clock_origin(scenario)
    span = max(end_s - start_s, 1.0)
    if span <= 2 * DAY:
        step = next((s for s in _CLOCK_STEPS if span / s <= 8), DAY)
        # ticks at clock multiples of the step: shift the locator by the clock origin
        first = (start_s + origin) // step * step - origin
        ticks = [first + i * step for i in range(int(span // step) + 3)]
        ax.set_xticks([t for t in ticks if start_s <= t <= end_s])
        one_day = (start_s + origin) // DAY == (end_s + origin - 1) // DAY

        def clock(x: float, _pos: int | None = None) -> str:
            t = x + origin
            hm = f"{int(t % DAY // HOUR):02d}:{int(t % HOUR // 60):02d}"
            return hm if one_day else f"{WEEKDAYS[(weekday + int(t // DAY)) % 7]} {hm}"

        ax.xaxis.set_major_formatter(FuncFormatter(clock))
        day = WEEKDAYS[(weekday + int((start_s + origin) // DAY)) % 7]
        label = f"simulated clock ({day}, hh:mm)" if one_day else "simulated clock (day hh:mm)"
    else:
        days = span / DAY
        ax.xaxis.set_major_locator(MultipleLocator(DAY * max(1, round(days / 10))))
        if days <= 14:  # a week or two: the weekday at each midnight (t=0 may not be one)

            def weekday_of(x: float, _pos: int | None = None) -> str:
                t = x + origin
                return f"{WEEKDAYS[(weekday + int(t // DAY)) % 7]} {int(t % DAY // HOUR):02d}h"

            ax.xaxis.set_major_formatter(FuncFormatter(weekday_of))
            label = "simulated time (weekday, hour)"
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{x / DAY:g}"))
            label = "simulated time (days)"
    ax.set_xlim(start_s, end_s)
    ax.set_xlabel(label)
    return label


def integer_axis(ax: Axes, axis: str = "y") -> None:
    """Integer ticks on a count axis (pods, nodes)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))


def legend_outside(ax: Axes, **kwargs: Any) -> Any:
    """The legend right of the axes, off the data."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        frameon=False,
        **kwargs,
    )


def target_line(ax: Axes, value: float, label: str, vertical: bool = False) -> None:
    """A dashed red target or budget line, labelled for the legend."""
    (ax.axvline if vertical else ax.axhline)(value, label=label, **TARGET_STYLE)


def fmt_ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def versus(value: float, target: float, unit: str, fmt: str = "{:,.0f}") -> str:
    """'32 ms under the 200 ms target' / '5 ms over ...': the finding against a target."""
    gap = target - value
    word = "under" if gap >= 0 else "over"
    return f"{fmt.format(abs(gap))} {unit} {word} the {fmt.format(target)} {unit} target"
