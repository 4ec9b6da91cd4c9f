"""The contest page's pictures of a day, as coordinates for a server-drawn SVG.

Plain Python, no database and no clock: the view hands in the day's bounds, the plans'
windows, the win times and `now`. The x axis is the day's true length (23 or 25 hours
on DST change days), so every hour is the same width whatever the date. Labels and
numbers are in the active language (1.234 in Italian), as the page around them.
"""

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import ngettext

from ..moments.planning import HOUR

WIDTH = 720
LEFT = 44  # room for the y labels
RIGHT = 12
PLOT_WIDTH = WIDTH - LEFT - RIGHT
CUMULATIVE_HEIGHT = 240
HOURLY_HEIGHT = 110
TOP = 12
BOTTOM = 24  # room for the hour labels
LABEL_EVERY_HOURS = 3


def _counted(kind: str, count: int) -> str:
    """E.g. "1 win", "1,234 plays": what an hour's bar counts, in the active language."""
    number = formats.number_format(count, force_grouping=True)
    if kind == "win":
        return ngettext("%(count)s win", "%(count)s wins", count) % {"count": number}
    if kind == "play":
        return ngettext("%(count)s play", "%(count)s plays", count) % {"count": number}
    raise ValueError(f"not a kind of count: {kind!r}")


@dataclass(frozen=True)
class Window:
    """A plan's share of the day: `count` moments spread evenly from `start` to `end`,
    or over its open time only (`open`: the UTC ranges of its opening hours)."""

    start: dt.datetime
    end: dt.datetime
    count: int
    open: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

    def ideal_by(self, at: dt.datetime) -> float:
        """How many of its moments an even spread has reached by `at`."""
        if self.open:
            total = sum((end - start for start, end in self.open), dt.timedelta())
            passed = sum(
                (min(end, at) - start for start, end in self.open if start < at), dt.timedelta()
            )
            return self.count * (passed / total) if total else 0.0
        if at <= self.start:
            return 0.0
        if at >= self.end:
            return float(self.count)
        return self.count * ((at - self.start) / (self.end - self.start))

    def breaks(self) -> tuple[dt.datetime, ...]:
        """Where its ideal line bends: its start, or each opening and closing."""
        return tuple(at for interval in self.open for at in interval) or (self.start,)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    title: str


@dataclass(frozen=True)
class Axes:
    """The plot area shared by the charts of one day."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]

    @property
    def y_label_x(self) -> float:
        return self.left - 6

    @property
    def x_label_y(self) -> float:
        return self.bottom + 16


@dataclass(frozen=True)
class CumulativeChart:
    axes: Axes
    actual_points: str  # SVG polyline points of the wins so far
    ideal_points: str  # the straight line (one segment per plan window)
    now_x: float | None  # where "now" is, when it falls inside the day
    wins: int
    target: int
    ideal_now: float  # the ideal line's value at the end of the actual line


@dataclass(frozen=True)
class HourlyChart:
    axes: Axes
    bars: tuple[Bar, ...]
    total: int
    peak: int


def nice_axis(value: float, max_steps: int) -> tuple[int, int]:
    """The top of a y axis at or above `value`, and how many gridline gaps divide it.

    Gaps are whole numbers of 1, 2, 2.5 or 5 × 10ⁿ (never 2.5 itself), at most
    `max_steps` of them: 45 → 50 in fives of 10, 120 → 125 in fives of 25.
    """
    if value <= 1:
        return 1, 1
    rough = value / max_steps
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step >= rough and step == int(step):
            break
    step = int(step)
    top = math.ceil(value / step) * step
    return top, top // step


class DayScale:
    """Maps instants of one local day onto the x axis."""

    def __init__(self, day_start: dt.datetime, day_end: dt.datetime, zone: ZoneInfo) -> None:
        self.start = day_start
        self.end = day_end
        self.zone = zone
        self.span = day_end - day_start
        self.hours = round(self.span / HOUR)

    def x(self, at: dt.datetime) -> float:
        share = min(max((at - self.start) / self.span, 0.0), 1.0)
        return round(LEFT + share * PLOT_WIDTH, 2)

    def hour_label(self, hour: int) -> str:
        """The local wall-clock time at which hour `hour` of the day begins."""
        return formats.time_format((self.start + hour * HOUR).astimezone(self.zone), "H:i")

    def x_ticks(self) -> tuple[Tick, ...]:
        return tuple(
            Tick(self.x(self.start + hour * HOUR), self.hour_label(hour))
            for hour in range(0, self.hours, LABEL_EVERY_HOURS)
        )


def _axes(scale: DayScale, height: int, value: float, max_steps: int) -> tuple[Axes, int]:
    """The plot area for values up to `value`, and the top of its y axis."""
    y_top, steps = nice_axis(value, max_steps)
    bottom = height - BOTTOM
    y_ticks = tuple(
        Tick(
            round(bottom - (bottom - TOP) * i / steps, 2),
            formats.number_format(y_top * i // steps, force_grouping=True),
        )
        for i in range(steps + 1)
    )
    axes = Axes(WIDTH, height, LEFT, LEFT + PLOT_WIDTH, TOP, bottom, scale.x_ticks(), y_ticks)
    return axes, y_top


def _points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def day_charts(
    scale: DayScale,
    windows: Sequence[Window],
    win_times: Iterable[dt.datetime],
    now: dt.datetime,
) -> tuple[CumulativeChart, HourlyChart]:
    """Draw the cumulative wins against the ideal line, and the wins of each hour.

    `win_times` is read once, in any order, and never kept: each win only adds to one
    pixel column and one hour, so a day of a million wins costs no more memory.
    """
    until = min(max(now, scale.start), scale.end)
    columns = [0] * PLOT_WIDTH
    hourly = [0] * scale.hours
    for at in win_times:
        share = (at - scale.start) / scale.span
        columns[min(max(int(share * PLOT_WIDTH), 0), PLOT_WIDTH - 1)] += 1
        hourly[min(max(int((at - scale.start) / HOUR), 0), scale.hours - 1)] += 1
    wins = sum(columns)
    target = sum(window.count for window in windows)

    axes, y_top = _axes(scale, CUMULATIVE_HEIGHT, max(target, wins), max_steps=5)

    def y(value: float) -> float:
        return round(axes.bottom - (axes.bottom - axes.top) * value / y_top, 2)

    def ideal_by(at: dt.datetime) -> float:
        return sum(window.ideal_by(at) for window in windows)

    # The ideal line is straight between the windows' bends: a point at each is enough.
    bends = (min(at, scale.end) for window in windows for at in window.breaks())
    breaks = sorted({scale.start, scale.end, *bends})
    ideal_points = _points((scale.x(at), y(ideal_by(at))) for at in breaks)

    # The actual line is a staircase: flat, then up at each column that has wins.
    actual: list[tuple[float, float]] = [(LEFT, y(0))]
    running = 0
    until_column = min(int((until - scale.start) / scale.span * PLOT_WIDTH), PLOT_WIDTH - 1)
    for column, count in enumerate(columns):
        if count and column <= until_column:
            actual.append((LEFT + column, y(running)))
            running += count
            actual.append((LEFT + column, y(running)))
    actual.append((scale.x(until), y(running)))

    cumulative = CumulativeChart(
        axes=axes,
        actual_points=_points(actual),
        ideal_points=ideal_points,
        now_x=scale.x(now) if scale.start <= now < scale.end else None,
        wins=wins,
        target=target,
        ideal_now=round(ideal_by(until), 1),
    )
    return cumulative, hourly_chart(scale, hourly, "win")


def hourly_chart(scale: DayScale, counts: Sequence[int], kind: str) -> HourlyChart:
    """Bars of a count per hour of the day ("win"s, "play"s), each with its exact value."""
    peak = max(counts, default=0)
    axes, y_top = _axes(scale, HOURLY_HEIGHT, peak, max_steps=2)
    slot = PLOT_WIDTH / scale.hours
    gap = min(2.0, slot / 4)
    bars = []
    for hour, count in enumerate(counts):
        height = round((axes.bottom - axes.top) * count / y_top, 2)
        title = f"{scale.hour_label(hour)}–{scale.hour_label(hour + 1)}: {_counted(kind, count)}"
        bars.append(
            Bar(
                x=round(LEFT + hour * slot + gap / 2, 2),
                y=round(axes.bottom - height, 2),
                width=round(slot - gap, 2),
                height=height,
                value=count,
                title=title,
            )
        )
    return HourlyChart(axes=axes, bars=tuple(bars), total=sum(counts), peak=peak)
