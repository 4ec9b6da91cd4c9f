"""What a process learns in a few queries when its memory starts or forgets: every contest
running around today, and the next moment of each whose plans for today are all made.

Without it, each process would learn each contest at its first play, several queries each:
after every change, a thousand contests would cost every worker thousands of queries.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Min

from ..models import ApiClient, Contest, DayPlan, WinningMoment
from .memory import ContestSnapshot, NextMoment

# Zones run from UTC−12 to UTC+14: a contest's local date is the UTC date or the day beside it.
_AROUND = dt.timedelta(days=1)


def running_contests(now: dt.datetime) -> tuple[list[ContestSnapshot], dict[int, NextMoment]]:
    """Snapshots of the contests that may be running at `now`, and their known next moments."""
    utc_today = now.astimezone(dt.UTC).date()
    contests = list(
        Contest.objects.filter(start__lte=utc_today + _AROUND, end__gte=utc_today - _AROUND)
        .annotate(prize_count=Count("prizes"))
        .order_by()
    )
    ids = [contest.pk for contest in contests]
    clients = defaultdict(set)
    for contest_id, client_id in ApiClient.contests.through.objects.filter(
        contest_id__in=ids
    ).values_list("contest_id", "apiclient_id"):
        clients[contest_id].add(client_id)
    snapshots = [ContestSnapshot(c, client_ids=frozenset(clients[c.pk])) for c in contests]

    days = [utc_today - _AROUND, utc_today, utc_today + _AROUND]
    planned = dict(
        ((contest_id, day), count)
        for contest_id, day, count in DayPlan.objects.filter(
            prize__contest_id__in=ids, day__in=days
        )
        .values("prize__contest_id", "day")
        .annotate(count=Count("id"))
        .values_list("prize__contest_id", "day", "count")
    )
    first_unclaimed = {
        (contest_id, day): at
        for contest_id, day, at in WinningMoment.objects.filter(
            contest_id__in=ids, day__in=days, claimed=False
        )
        .values("contest_id", "day")
        .annotate(first=Min("at"))
        .values_list("contest_id", "day", "first")
    }
    next_moments = {}
    for contest, snapshot in zip(contests, snapshots, strict=True):
        day = snapshot.local_date(now)
        # Only a day whose every prize has its plan: a missing plan is made by the next play.
        if contest.prize_count and planned.get((contest.pk, day)) == contest.prize_count:
            next_moments[contest.pk] = NextMoment(day, first_unclaimed.get((contest.pk, day)))
    return snapshots, next_moments
