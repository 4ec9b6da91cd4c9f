"""The operators' draw rules as a plan records them: its window in open time, and the rule
lines sealed into its v2 text (contests/moments/sealing.py).

A plan of a contest and prize without any rule has no rule lines and is sealed as v1,
exactly as before the rules existed. Otherwise its rules are these lines, in this order,
each "name: value\\n":

    hours: <the contest's opening hours, canonical, or "all day, every day">
    open: <this day's local open ranges, e.g. "08:00-12:30 14:00-19:00", or "00:00-24:00">
    stock: <"none", or "<stock>; <left> left over <days> days" before this plan>
    unclaimed: <"carry", or "expire after <minutes> minutes">
    wmax-total: <"none", or the most wins per player over the contest>
    play-interval: <"none", or "<seconds> seconds">
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..models import Contest, DayPlan, Prize
from .hours import (
    ALL_DAY,
    open_intervals,
    parse_hours,
    parse_ranges,
    range_intervals,
    ranges_text,
)
from .planning import day_bounds
from .stock import Allotment

_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class PlanWindow:
    """Where a day's moments may fall: from `start` (open, and not past) to the day's end."""

    start: dt.datetime
    end: dt.datetime
    # Open time as (start, end) microseconds into the window; None: all of it is open.
    open_ranges: list[tuple[int, int]] | None
    open_text: str


def has_rules(contest: Contest, prize: Prize) -> bool:
    return bool(
        contest.opening_hours
        or contest.wmax_total is not None
        or contest.play_interval is not None
        or prize.stock is not None
        or prize.expire_after_minutes is not None
    )


def plan_window(contest: Contest, day: dt.date, now: dt.datetime) -> PlanWindow | None:
    """The window of a plan of `day` made at `now`; None if no open time is left in it."""
    hours = parse_hours(contest.opening_hours)
    day_end = day_bounds(day, contest.zone)[1]
    intervals = [
        (max(opens, now), closes)
        for opens, closes in open_intervals(hours, day, contest.zone)
        if closes > max(opens, now)
    ]
    if not intervals:
        return None
    start = intervals[0][0]
    if hours is None:
        return PlanWindow(start, day_end, None, ALL_DAY)
    offsets = [
        ((opens - start) // _MICROSECOND, (closes - start) // _MICROSECOND)
        for opens, closes in intervals
    ]
    return PlanWindow(start, day_end, offsets, ranges_text(hours.ranges_on(day)))


def plan_rules(
    contest: Contest, prize: Prize, window: PlanWindow, allotment: Allotment | None
) -> str:
    """The rule lines a plan is sealed with; empty when neither has any rule (a v1 plan)."""
    if not has_rules(contest, prize):
        return ""
    hours = parse_hours(contest.opening_hours)
    stock = "none"
    if allotment is not None:
        stock = f"{allotment.stock}; {allotment.left} left over {allotment.days} days"
    minutes = prize.expire_after_minutes
    lines = {
        "hours": hours.text() if hours is not None else "all day, every day",
        "open": window.open_text,
        "stock": stock,
        "unclaimed": "carry" if minutes is None else f"expire after {minutes} minutes",
        "wmax-total": "none" if contest.wmax_total is None else str(contest.wmax_total),
        "play-interval": "none"
        if contest.play_interval is None
        else f"{contest.play_interval} seconds",
    }
    return "".join(f"{name}: {value}\n" for name, value in lines.items())


def rule_lines(plan: DayPlan) -> dict[str, str]:
    """The plan's sealed rules by name; empty for a v1 plan."""
    return rule_lines_of(plan.rules)


def rule_lines_of(rules: str) -> dict[str, str]:
    found = {}
    for line in rules.splitlines():
        name, _, value = line.partition(": ")
        found[name] = value
    return found


def expire_after_of(rules: dict[str, str]) -> dt.timedelta | None:
    """What the sealed "unclaimed:" line says, as the claim reads it from DayPlan.expire_after."""
    value = rules.get("unclaimed", "carry")
    if value == "carry":
        return None
    return dt.timedelta(minutes=int(value.removeprefix("expire after ").removesuffix(" minutes")))


def plan_open_intervals(plan: DayPlan, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    """The open time of a plan's window, from its sealed "open:" line; all of it for v1."""
    ranges = parse_ranges(rule_lines(plan).get("open", ALL_DAY))
    intervals = [
        (max(opens, plan.window_start), closes)
        for opens, closes in range_intervals(ranges, plan.day, zone)
        if closes > max(opens, plan.window_start)
    ]
    return intervals or [(plan.window_start, plan.window_end)]
