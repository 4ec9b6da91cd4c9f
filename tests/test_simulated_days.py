"""S4 and S5 through the real code: whole days of plays, several contests at once."""

import datetime as dt
import random

import pytest

from contests.models import Contest, Prize, Win
from contests.play.simulation import simulate_day

pytestmark = pytest.mark.django_db


def contests_with(*perdays, time_zone="Europe/Rome"):
    made = []
    for number, perday in enumerate(perdays):
        contest = Contest.objects.create(
            code=f"S{number}",
            name=f"Simulated {number}",
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 12, 31),
            time_zone=time_zone,
        )
        Prize.objects.create(contest=contest, code="prize", name="Prize", perday=perday)
        made.append(contest)
    return made


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (dt.date(2026, 2, 10), 24),
        (dt.date(2026, 3, 29), 23),  # clocks go forward in Rome
        (dt.date(2026, 10, 25), 25),  # clocks go back in Rome
    ],
)
def test_every_prize_is_won_and_wins_follow_the_ideal_line(day, hours):
    contests = contests_with(45, 7, 24, 1)
    results = simulate_day(contests, day, rng=random.Random(day.toordinal()))
    for result in results:
        assert len(result.wins_per_hour) == hours
        assert result.plays == 100 * result.total_planned
        assert result.total_wins == result.total_planned
        assert result.largest_gap <= 1
    assert Win.objects.count() == 45 + 7 + 24 + 1


def test_a_contest_with_two_prizes_gets_every_win_of_both():
    [contest] = contests_with(20)
    Prize.objects.create(contest=contest, code="mug", name="Mug", perday=10)
    [result] = simulate_day([contest], dt.date(2026, 6, 1), rng=random.Random(1))
    assert result.wins == {"prize": 20, "mug": 10}
    assert result.largest_gap <= 1


def test_wins_are_spread_over_every_hour_of_the_day():
    [contest] = contests_with(48)
    [result] = simulate_day([contest], dt.date(2026, 6, 1), rng=random.Random(2))
    # Two slots an hour, one moment early in each: every hour gets its two wins.
    assert result.wins_per_hour == [2] * 24


def test_days_in_another_zone_follow_that_zones_dst():
    contests = contests_with(30, time_zone="America/New_York")
    [result] = simulate_day(contests, dt.date(2026, 3, 8), rng=random.Random(3))
    assert len(result.wins_per_hour) == 23
    assert result.total_wins == 30
    assert result.largest_gap <= 1


def test_with_few_plays_the_day_still_ends_with_every_prize_won():
    # Barely more plays than prizes: each moment waits for the next play, nothing is lost.
    [contest] = contests_with(45)
    [result] = simulate_day([contest], dt.date(2026, 6, 1), {contest.pk: 60}, random.Random(4))
    assert result.total_wins == 45
