"""Drive whole local days of plays through the real draw and database with a fake clock."""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from .. import play_counts
from ..models import Contest, DayPlan
from ..moments.claiming import ensure_plans
from ..moments.planning import HOUR, day_bounds
from .draw import draw
from .memory import memory


@dataclass
class DayResult:
    """What one contest's simulated day produced."""

    contest: Contest
    day: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    plays: int
    planned: dict[str, int]  # prize code -> moments planned
    wins: Counter = field(default_factory=Counter)  # prize code -> wins
    wins_per_hour: list[int] = field(default_factory=list)
    # The farthest any prize's cumulative wins strayed from its ideal straight line.
    largest_gap: float = 0.0

    @property
    def total_planned(self) -> int:
        return sum(self.planned.values())

    @property
    def total_wins(self) -> int:
        return sum(self.wins.values())

    def measure_gap(self, at: dt.datetime) -> None:
        elapsed = (at - self.day_start) / (self.day_end - self.day_start)
        for code, planned in self.planned.items():
            gap = abs(self.wins[code] - planned * elapsed)
            self.largest_gap = max(self.largest_gap, gap)

    def hour_label(self, hour: int) -> str:
        local = (self.day_start + hour * HOUR).astimezone(self.contest.zone)
        return local.strftime("%H:%M %Z")


def simulate_day(
    contests: list[Contest],
    day: dt.date,
    plays: dict[int, int] | None = None,
    rng: random.Random | None = None,
) -> list[DayResult]:
    """Plan `day` for every contest at its local midnight, then play it through.

    Each contest receives its plays (default 100 × its total perday) evenly spread over
    its day; plays of all contests are interleaved in time order, as a server sees them.
    """
    plays = plays or {}
    results: dict[int, DayResult] = {}
    timeline: list[tuple[dt.datetime, int]] = []
    for contest in contests:
        start, end = day_bounds(day, contest.zone)
        ensure_plans(contest, day, start, rng)
        planned = dict(
            DayPlan.objects.filter(prize__contest=contest, day=day).values_list(
                "prize__code", "moment_count"
            )
        )
        count = plays.get(contest.pk, 100 * sum(planned.values()))
        hours = round((end - start) / HOUR)
        results[contest.pk] = DayResult(
            contest, day, start, end, count, planned, wins_per_hour=[0] * hours
        )
        step = (end - start) / count if count else dt.timedelta(0)
        timeline.extend((start + step * (k + 0.5), contest.pk) for k in range(count))
    timeline.sort()

    for number, (now, contest_id) in enumerate(timeline):
        result = results[contest_id]
        snapshot = memory.contest(result.contest.code)
        day_of_play, hour = snapshot.local_day(now)
        play_counts.count_play(snapshot.id, day_of_play, hour)
        # The line between two wins is straight, so the gap peaks just before or after one.
        result.measure_gap(now)
        win = draw(snapshot, now, request_id=f"sim-{number}")
        if win is not None:
            result.wins[win.prize.code] += 1
            result.wins_per_hour[int((now - result.day_start) / HOUR)] += 1
            result.measure_gap(now)
    for result in results.values():
        result.measure_gap(result.day_end)
    return list(results.values())
