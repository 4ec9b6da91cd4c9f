"""A prize's stock for the whole contest: how much of it a day's plan gets, and what is left.

The stock is spread evenly over the days still to plan. When day `d` is planned,

    left   = stock − counted
    days   = the contest's days from d to its end, both included, that have open time
    moments(d) = min(perday, ⌈left / days⌉)        (none when left is 0)

where `counted` is the moments of the prize's plans of other days, less those given back:
with the prize's "expire" rule, a moment nobody claimed goes back to the stock once it has
expired or its day is over. So no plan ever takes more than is left (never over stock),
no day more than perday, and the last day to plan takes all that is left: a contest whose
days × perday exceed its stock still places all of it by the end. Plans of one prize are
made one at a time (the prize's row is locked), so racing planners cannot both count the
same stock.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Sum

from ..models import DayPlan, Prize, WinningMoment
from ..webhooks import events
from .hours import OpeningHours, parse_hours

# Below this share of its stock left, a prize is flagged (dashboard) and announced (the
# webhook event prize.stock_low).
LOW_SHARE = 0.10


@dataclass(frozen=True)
class StockFigures:
    """A prize's stock as it stands: `used` is planned and not given back."""

    prize: Prize
    stock: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.stock - self.used)

    @property
    def left_percent(self) -> int:
        return round(100 * self.left / self.stock) if self.stock else 0

    @property
    def is_low(self) -> bool:
        return is_low(self.left, self.stock)


def is_low(left: int, stock: int) -> bool:
    """Below 10 % of the stock left: where the dashboard's flag and prize.stock_low come from."""
    return left < LOW_SHARE * stock


@dataclass(frozen=True)
class Allotment:
    """What a day's plan takes from the stock, and the figures it was worked out from."""

    count: int
    left: int  # before this plan
    days: int  # days still to plan, this one included
    stock: int

    @property
    def becomes_low(self) -> bool:
        """This plan takes the stock below 10 % left: the moment prize.stock_low is announced."""
        return self.count > 0 and not is_low(self.left, self.stock) and self.is_low_after

    @property
    def is_low_after(self) -> bool:
        return is_low(self.left - self.count, self.stock)


def given_back(prize_id: int, now: dt.datetime, exclude_day: dt.date | None = None) -> int:
    """Unclaimed moments of the prize's expiring plans that can no longer be won at `now`."""
    expires = ExpressionWrapper(F("at") + F("plan__expire_after"), output_field=DateTimeField())
    moments = WinningMoment.objects.filter(
        plan__prize_id=prize_id, plan__expire_after__isnull=False, claimed=False
    ).alias(expires=expires)
    if exclude_day is not None:
        moments = moments.exclude(day=exclude_day)
    return moments.filter(Q(expires__lte=now) | Q(plan__window_end__lte=now)).count()


def counted(prize_id: int, now: dt.datetime, exclude_day: dt.date | None = None) -> int:
    plans = DayPlan.objects.filter(prize_id=prize_id)
    if exclude_day is not None:
        plans = plans.exclude(day=exclude_day)
    planned = plans.aggregate(total=Sum("moment_count"))["total"] or 0
    return planned - given_back(prize_id, now, exclude_day)


def days_to_plan(hours: OpeningHours | None, day: dt.date, end: dt.date) -> int:
    """The days from `day` to `end`, both included, that have open time."""
    if day > end:
        return 0
    total = (end - day).days + 1
    if hours is None:
        return total
    weeks, rest = divmod(total, 7)
    open_weekdays = sum(hours.days[weekday] != () for weekday in range(7))
    extra = sum(hours.is_open_on(day + dt.timedelta(days=k)) for k in range(rest))
    return weeks * open_weekdays + extra


def allot(prize: Prize, day: dt.date, now: dt.datetime) -> Allotment:
    """The moments `day`'s plan of a stock prize gets (the formula above)."""
    contest = prize.contest
    left = max(0, prize.stock - counted(prize.pk, now, exclude_day=day))
    days = max(1, days_to_plan(parse_hours(contest.opening_hours), day, contest.end))
    count = min(prize.perday, -(-left // days))
    return Allotment(count=count, left=left, days=days, stock=prize.stock)


def stock_figures(prize: Prize, now: dt.datetime) -> StockFigures | None:
    """The prize's stock, used and left at `now`; None for a prize without a stock."""
    if prize.stock is None:
        return None
    return StockFigures(prize, prize.stock, counted(prize.pk, now))


def announce_stock_low(prize: Prize, left: int, now: dt.datetime) -> None:
    """Write the prize.stock_low event (docs/api.md) in the transaction of the plan that
    took the stock below LOW_SHARE: once per prize, since the stock only goes down."""
    data = {
        "contest": prize.contest.code,
        "prize": {"code": prize.code, "name": prize.name},
        "left": left,
        "of": prize.stock,
        "what": "stock",
    }
    events.record_event(events.PRIZE_STOCK_LOW, prize.contest_id, data, now=now)
