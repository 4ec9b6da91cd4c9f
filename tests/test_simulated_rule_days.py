"""Whole days through the real code under the draw rules: opening hours (DST days too),
a stock over thirty days, moments that expire."""

import datetime as dt
import random

import pytest

from contests.models import Contest, DayPlan, Prize, Win
from contests.play.simulation import simulate_day

pytestmark = pytest.mark.django_db


def contest_with(
    perday,
    *,
    hours="",
    zone="Europe/Rome",
    stock=None,
    expire=None,
    start=dt.date(2026, 1, 1),
    end=dt.date(2026, 12, 31),
    code="H0",
):
    contest = Contest.objects.create(
        code=code, name="Hours", start=start, end=end, time_zone=zone, opening_hours=hours
    )
    Prize.objects.create(
        contest=contest,
        code="prize",
        name="Prize",
        perday=perday,
        stock=stock,
        expire_after_minutes=expire,
    )
    return contest


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Rome", dt.date(2026, 2, 10)),
        ("Europe/Rome", dt.date(2026, 3, 29)),  # clocks go forward
        ("Europe/Rome", dt.date(2026, 10, 25)),  # clocks go back
        ("America/New_York", dt.date(2026, 3, 8)),
        ("America/New_York", dt.date(2026, 11, 1)),
    ],
)
@pytest.mark.parametrize("perday", [45, 7, 1])
def test_every_open_moment_is_won_and_wins_follow_the_open_time_line(zone, day, perday):
    hours = "mon-sun 01:00-04:00 08:00-12:30 15:00-22:00"
    contest = contest_with(perday, hours=hours, zone=zone)
    [result] = simulate_day([contest], day, rng=random.Random(day.toordinal() + perday))
    assert result.plays == 100 * perday
    assert result.total_wins == result.total_planned == perday
    assert result.largest_gap <= 1
    for won_at in Win.objects.values_list("won_at", flat=True):
        assert any(start <= won_at < end for start, end in result.open_intervals)


def test_a_closed_day_has_no_plan_and_no_win():
    contest = contest_with(10, hours="mon-fri 09:00-18:00")
    [result] = simulate_day([contest], dt.date(2026, 2, 15), rng=random.Random(1))  # Sunday
    assert (result.plays, result.total_planned, result.total_wins) == (0, 0, 0)
    assert not DayPlan.objects.exists()


@pytest.mark.parametrize(
    ("stock", "perday", "hours"), [(100, 10, ""), (40, 2, "mon-fri 09:00-18:00")]
)
def test_a_stock_limited_thirty_day_contest_awards_exactly_its_stock(stock, perday, hours):
    # April 2026 has 22 weekdays: 44 moments at most on the second contest, so 40 fit.
    start = dt.date(2026, 4, 1)
    end = start + dt.timedelta(days=29)
    contest = contest_with(perday, hours=hours, stock=stock, start=start, end=end)
    rng = random.Random(stock)
    day = start
    while day <= end:
        [result] = simulate_day([contest], day, rng=rng)
        assert result.total_wins == result.total_planned <= perday
        assert result.largest_gap <= 1
        day += dt.timedelta(days=1)
    assert Win.objects.count() == stock


def test_expiring_moments_are_all_won_under_steady_traffic():
    contest = contest_with(45, expire=15)
    [result] = simulate_day([contest], dt.date(2026, 6, 1), rng=random.Random(5))
    assert result.total_wins == 45
    assert result.largest_gap <= 1


def test_with_too_few_plays_expired_moments_go_back_to_the_stock():
    start = dt.date(2026, 6, 1)
    contest = contest_with(10, expire=5, stock=20, start=start, end=start + dt.timedelta(days=1))
    # Twelve plays for ten moments a day: most moments expire before a play comes.
    [first] = simulate_day([contest], start, {contest.pk: 12}, random.Random(6))
    assert first.total_planned == 10
    assert first.total_wins < 10
    [second] = simulate_day([contest], start + dt.timedelta(days=1), None, random.Random(7))
    # All that was not won comes back, up to perday.
    assert second.total_planned == min(10, 20 - first.total_wins)
