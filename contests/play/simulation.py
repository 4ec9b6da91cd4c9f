"""Drive whole local days of plays through the real draw and database with a fake clock.

Plays arrive evenly over the day's open time (all of it without opening hours), and the
ideal line that the wins are measured against rises only while the contest is open.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from .. import play_counts
from ..models import Contest, DayPlan
from ..moments.claiming import ensure_plans
from ..moments.hours import open_intervals, parse_hours
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
    # The day's open time (UTC); the whole day without opening hours.
    open_intervals: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    @property
    def open_time(self) -> dt.timedelta:
        return sum((end - start for start, end in self.open_intervals), dt.timedelta())

    def open_share(self, at: dt.datetime) -> float:
        """The share of the day's open time that has passed at `at`."""
        if not self.open_intervals:
            return 1.0
        passed = sum(
            (min(end, at) - start for start, end in self.open_intervals if start < at),
            dt.timedelta(),
        )
        return passed / self.open_time

    def open_instant(self, share: float) -> dt.datetime:
        """The instant at which `share` of the day's open time has passed."""
        left = self.open_time * share
        for start, end in self.open_intervals:
            if left < end - start:
                return start + left
            left -= end - start
        return self.open_intervals[-1][1]

    @property
    def total_planned(self) -> int:
        return sum(self.planned.values())

    @property
    def total_wins(self) -> int:
        return sum(self.wins.values())

    def measure_gap(self, at: dt.datetime) -> None:
        elapsed = self.open_share(at)
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

    Each contest receives its plays (default 100 × its moments planned) evenly spread
    over its day's open time; plays of all contests are interleaved in time order, as a
    server sees them. Contests whose rules are per player get a new player per play.
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
        opened = open_intervals(parse_hours(contest.opening_hours), day, contest.zone)
        if not opened:
            count = 0  # a closed day: nothing to play for
        result = results[contest.pk] = DayResult(
            contest,
            day,
            start,
            end,
            count,
            planned,
            wins_per_hour=[0] * hours,
            open_intervals=opened,
        )
        timeline.extend((result.open_instant((k + 0.5) / count), contest.pk) for k in range(count))
    timeline.sort()

    for number, (now, contest_id) in enumerate(timeline):
        result = results[contest_id]
        snapshot = memory.contest(result.contest.code)
        day_of_play, hour = snapshot.local_day(now)
        play_counts.count_play(snapshot.id, day_of_play, hour)
        # The line between two wins is straight, so the gap peaks just before or after one.
        result.measure_gap(now)
        player = f"sim-{number}" if snapshot.needs_player else ""
        win = draw(snapshot, now, request_id=f"sim-{number}", player=player)
        if win is not None:
            result.wins[win.prize.code] += 1
            result.wins_per_hour[int((now - result.day_start) / HOUR)] += 1
            result.measure_gap(now)
    for result in results.values():
        result.measure_gap(result.day_end)
    return list(results.values())
