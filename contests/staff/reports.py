"""The closing report of a contest: per day what was planned, won, disqualified and left.

Prizes not assigned (moments nobody claimed, and wins disqualified) go to charity under
Italian rules, so the numbers must agree exactly with the database.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from ..models import Contest, DayPlan, ReviewStatus, Win
from ..moments.vouchers import voucher_counts
from ..play_counts import plays_on


@dataclass
class DayLine:
    day: dt.date | None  # None on the totals line
    plays: int = 0
    planned: int = 0
    awarded: int = 0
    disqualified: int = 0
    commitments: list[str] = field(default_factory=list)

    @property
    def unassigned(self) -> int:
        """Prizes that go to no one: moments never claimed, and wins disqualified."""
        return self.planned - self.awarded + self.disqualified


@dataclass
class ClosingReport:
    contest: Contest
    start: dt.date
    end: dt.date
    days: list[DayLine]
    total: DayLine

    def voucher_counts(self) -> list[tuple[str, dict[str, int]]]:
        """(prize code, codes imported, given and redeemed) of each prize with a pool."""
        counts = voucher_counts(self.contest.pk)
        return [
            (prize.code, counts[prize.pk])
            for prize in self.contest.prizes.order_by("code")
            if prize.pk in counts
        ]

    def winners(self):
        """Every win of the period in time order, with what the report lists about it."""
        return (
            Win.objects.filter(contest=self.contest, day__range=(self.start, self.end))
            .select_related("prize", "client")
            .order_by("won_at", "id")
        )


def closing_report(contest: Contest, start: dt.date, end: dt.date) -> ClosingReport:
    """Build the report of the contest's days from `start` to `end`, both included."""
    start, end = max(start, contest.start), min(end, contest.end)
    planned = defaultdict(int)
    commitments = defaultdict(list)
    plans = DayPlan.objects.filter(prize__contest=contest, day__range=(start, end))
    for day, count, commitment in plans.order_by("day", "prize__code").values_list(
        "day", "moment_count", "commitment"
    ):
        planned[day] += count
        commitments[day].append(commitment)
    wins = {
        row["day"]: row
        for row in Win.objects.filter(contest=contest, day__range=(start, end))
        .values("day")
        .annotate(
            awarded=Count("id"),
            disqualified=Count("id", filter=Q(review_status=ReviewStatus.DISQUALIFIED)),
        )
    }
    days = []
    day = start
    while day <= end:
        won = wins.get(day, {})
        days.append(
            DayLine(
                day,
                plays=plays_on(contest, day),
                planned=planned[day],
                awarded=won.get("awarded", 0),
                disqualified=won.get("disqualified", 0),
                commitments=commitments[day],
            )
        )
        day += dt.timedelta(days=1)
    total = DayLine(
        None,
        plays=sum(line.plays for line in days),
        planned=sum(line.planned for line in days),
        awarded=sum(line.awarded for line in days),
        disqualified=sum(line.disqualified for line in days),
    )
    return ClosingReport(contest, start, end, days, total)
