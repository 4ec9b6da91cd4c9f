"""Planning is pure: exactly one moment early in each equal slot of the day's true length."""

import datetime as dt
import random
import zoneinfo

import pytest

from contests.moments.planning import EARLY_PART, day_bounds, plan_moments

ROME = zoneinfo.ZoneInfo("Europe/Rome")
HOUR = dt.timedelta(hours=1)


def assert_one_early_moment_per_slot(moments, start, end, count):
    assert len(moments) == count
    assert moments == sorted(moments)
    slot = (end - start) / count
    for index, moment in enumerate(moments):
        slot_start = start + slot * index
        assert slot_start - dt.timedelta(microseconds=1) <= moment
        # Early in its slot, so the last moment leaves half a slot of plays before midnight.
        assert moment <= slot_start + slot * EARLY_PART + dt.timedelta(microseconds=1)
        assert moment.tzinfo is not None


def test_day_bounds_of_an_ordinary_day_are_24_hours_apart():
    start, end = day_bounds(dt.date(2020, 2, 1), ROME)
    assert start == dt.datetime(2020, 1, 31, 23, 0, tzinfo=dt.UTC)
    assert end - start == 24 * HOUR


def test_day_bounds_follow_dst_changes():
    spring_start, spring_end = day_bounds(dt.date(2026, 3, 29), ROME)
    autumn_start, autumn_end = day_bounds(dt.date(2026, 10, 25), ROME)
    assert spring_end - spring_start == 23 * HOUR
    assert autumn_end - autumn_start == 25 * HOUR
    assert autumn_start == dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("day", [dt.date(2020, 2, 1), dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
@pytest.mark.parametrize("perday", [1, 2, 45, 1000])
@pytest.mark.parametrize("seed", range(5))
def test_it_plans_one_early_moment_per_slot(day, perday, seed):
    start, end = day_bounds(day, ROME)
    moments = list(plan_moments(start, end, perday, random.Random(seed)))
    assert_one_early_moment_per_slot(moments, start, end, perday)


@pytest.mark.parametrize("perday", [10_000, 100_000])
def test_it_plans_large_perday_exactly(perday):
    start, end = day_bounds(dt.date(2026, 10, 25), ROME)
    moments = list(plan_moments(start, end, perday, random.Random(perday)))
    assert_one_early_moment_per_slot(moments, start, end, perday)
    assert len(set(moments)) == perday


def test_a_late_plan_covers_what_is_left_of_the_day():
    start, end = day_bounds(dt.date(2020, 2, 1), ROME)
    late = start + 15 * HOUR
    moments = list(plan_moments(late, end, 45, random.Random(1)))
    assert_one_early_moment_per_slot(moments, late, end, 45)
    assert min(moments) >= late


def test_a_tiny_window_still_gets_every_moment_inside_it():
    end = dt.datetime(2020, 2, 1, 23, 0, tzinfo=dt.UTC)
    start = end - dt.timedelta(microseconds=10)
    moments = list(plan_moments(start, end, 45))
    assert len(moments) == 45
    assert all(start <= moment < end for moment in moments)


def test_different_runs_draw_different_moments():
    start, end = day_bounds(dt.date(2020, 2, 1), ROME)
    first = list(plan_moments(start, end, 45))
    second = list(plan_moments(start, end, 45))
    assert first != second


def test_moments_spread_over_the_whole_early_part_of_their_slots():
    # Over many plans the offsets inside a slot cover its early part, not one point of it.
    start, end = day_bounds(dt.date(2020, 2, 1), ROME)
    slot = (end - start) / 10
    offsets = [
        ((moment - start) % slot) / slot
        for seed in range(50)
        for moment in plan_moments(start, end, 10, random.Random(seed))
    ]
    assert min(offsets) < 0.05
    assert max(offsets) > EARLY_PART - 0.05


@pytest.mark.parametrize(("count", "window"), [(0, 1), (-3, 1), (5, 0), (5, -1)])
def test_it_refuses_impossible_plans(count, window):
    start = dt.datetime(2020, 2, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        list(plan_moments(start, start + window * HOUR, count))
