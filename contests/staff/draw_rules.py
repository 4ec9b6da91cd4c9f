"""The draw rules as the staff portal shows them: the ideal line in open time, and each
rule with the stock used and left (contest page, dashboard, closing report)."""

import datetime as dt
from dataclasses import dataclass

from ..models import Contest, DayPlan, Prize
from ..moments.hours import open_intervals, parse_hours
from ..moments.planning import day_bounds
from ..moments.rules import plan_open_intervals
from ..moments.stock import StockFigures, stock_figures
from .charts import Window


def day_windows(contest: Contest, day: dt.date, plans: list[DayPlan]) -> list[Window]:
    """The ideal line's windows: each plan's, rising only in the open time it was made for.

    A day not planned yet (no play so far) is drawn as a plan made at midnight would be.
    """
    if plans:
        return [
            Window(
                plan.window_start,
                plan.window_end,
                plan.moment_count,
                tuple(plan_open_intervals(plan, contest.zone)) if plan.rules else (),
            )
            for plan in plans
        ]
    day_start, day_end = day_bounds(day, contest.zone)
    hours = parse_hours(contest.opening_hours)
    opened = tuple(open_intervals(hours, day, contest.zone)) if hours is not None else ()
    closed = hours is not None and not opened
    return [
        Window(day_start, day_end, 0 if closed else prize.perday, opened)
        for prize in contest.prizes.all()
    ]


@dataclass(frozen=True)
class PrizeRules:
    prize: Prize
    stock: StockFigures | None

    @property
    def expire_after_minutes(self) -> int | None:
        return self.prize.expire_after_minutes


@dataclass(frozen=True)
class ContestRules:
    """A contest's draw rules, for people to read; `any` is False when it has none."""

    opening_hours: str
    wmax_total: int | None
    play_interval: int | None
    prizes: list[PrizeRules]

    @property
    def any(self) -> bool:
        return bool(
            self.opening_hours
            or self.wmax_total
            or self.play_interval
            or any(p.stock or p.expire_after_minutes for p in self.prizes)
        )

    @property
    def stocks(self) -> list[StockFigures]:
        return [p.stock for p in self.prizes if p.stock is not None]

    @property
    def stock_low(self) -> bool:
        return any(figures.is_low for figures in self.stocks)


def contest_rules(contest: Contest, now: dt.datetime) -> ContestRules:
    """The contest's rules with each stock as it stands at `now` (a query per stock prize)."""
    return ContestRules(
        opening_hours=contest.opening_hours,
        wmax_total=contest.wmax_total,
        play_interval=contest.play_interval,
        prizes=[PrizeRules(prize, stock_figures(prize, now)) for prize in contest.prizes.all()],
    )
