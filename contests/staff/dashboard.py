"""Today's figures of many contests at once: status, wins against perday, plays so far.

Each contest has its own zone, so "today" is a different local date from one contest to
the next. Whatever the zone, a contest's local date is the UTC date, the day before or
the day after (zones run from UTC−12 to UTC+14). So the wins of those three dates are
annotated in the same query as the contests, and each contest picks its own: one query
for every row, instead of one per row.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from ..models import Contest, ContestStatus, Prize, Win
from ..moments.stock import StockFigures, stock_figures
from ..play_counts import plays_on

# Annotation holding the wins of the UTC date plus this many days.
_WINS_BY_UTC_OFFSET = {-1: "wins_utc_before", 0: "wins_utc_today", 1: "wins_utc_after"}

# Running contests first: they are the ones staff watch.
_STATUS_ORDER = {ContestStatus.RUNNING: 0, ContestStatus.UPCOMING: 1, ContestStatus.ENDED: 2}


def _per_contest(queryset: QuerySet, aggregate: Count | Sum) -> Coalesce:
    """A correlated subquery aggregating `queryset` per contest, 0 when it has no rows.

    A subquery rather than a join: joining prizes and wins in one query would multiply
    the rows and so both totals.
    """
    per_contest = (
        queryset.filter(contest=OuterRef("pk"))
        .order_by()
        .values("contest")
        .annotate(total=aggregate)
        .values("total")
    )
    return Coalesce(Subquery(per_contest, output_field=IntegerField()), 0)


def with_today_figures(contests: QuerySet[Contest], now: dt.datetime) -> QuerySet[Contest]:
    """Annotate `perday_total` and the wins of each date that can be a contest's today."""
    utc_today = now.astimezone(dt.UTC).date()
    wins = {
        name: _per_contest(
            Win.objects.filter(day=utc_today + dt.timedelta(days=offset)), Count("pk")
        )
        for offset, name in _WINS_BY_UTC_OFFSET.items()
    }
    perday = _per_contest(Prize.objects.all(), Sum("perday"))
    return contests.annotate(perday_total=perday, **wins)


def wins_today(contest: Contest, now: dt.datetime) -> int:
    """The wins of the contest's local today, read from `with_today_figures`' annotations."""
    offset = (contest.local_date(now) - now.astimezone(dt.UTC).date()).days
    return getattr(contest, _WINS_BY_UTC_OFFSET[offset])


@dataclass(frozen=True)
class ContestToday:
    """One dashboard row: a contest as it stands on its own local today."""

    contest: Contest
    day: dt.date
    status: ContestStatus
    perday: int
    wins: int
    plays: int | None  # counted only for running contests
    # The stock of each prize that has one: used and left over the whole contest.
    stocks: tuple[StockFigures, ...] = ()

    @property
    def stock_low(self) -> bool:
        """Some prize has less than 10 % of its stock left: the dashboard flags it."""
        return any(figures.is_low for figures in self.stocks)

    @property
    def progress_percent(self) -> int:
        if not self.perday:
            return 0
        return min(100, round(100 * self.wins / self.perday))

    def matches(self, search: str) -> bool:
        search = search.casefold()
        return search in self.contest.code.casefold() or search in self.contest.name.casefold()


def contests_today(now: dt.datetime) -> list[ContestToday]:
    """Every contest with its figures for its own local today, running ones first.

    Contests are few (hundreds at most), so the page filters these rows in Python: the
    status depends on each contest's own local date, which SQL cannot know without the
    zone rules.
    """
    rows = []
    for contest in with_today_figures(Contest.objects.prefetch_related("prizes"), now):
        day = contest.local_date(now)
        status = contest.status_on(day)
        running = status == ContestStatus.RUNNING
        rows.append(
            ContestToday(
                contest=contest,
                day=day,
                status=status,
                perday=contest.perday_total,
                wins=wins_today(contest, now) if running else 0,
                # Plays live in the cache per contest: one read each, and only for
                # contests that can be played today.
                plays=plays_on(contest, day) if running else None,
                # A query per prize with a stock; contests without one pay nothing.
                stocks=tuple(
                    stock_figures(prize, now)
                    for prize in contest.prizes.all()
                    if prize.stock is not None
                ),
            )
        )
    rows.sort(key=lambda row: _STATUS_ORDER[row.status])  # stable: keeps -start, code
    return rows
