"""The operators' draw rules in the engine: opening hours (DST days included), closed days,
a stock spread over the contest, moments that expire."""

import datetime as dt
import json
import random
import zoneinfo

import pytest

from contests.models import Contest, DayPlan, Prize, Win, WinningMoment
from contests.moments import stock
from contests.moments.claiming import claim_moment, ensure_plans, next_unclaimed_moment
from contests.moments.hours import HoursError, open_intervals, parse_hours
from contests.moments.planning import day_bounds, open_offsets

ROME = zoneinfo.ZoneInfo("Europe/Rome")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
HOUR = dt.timedelta(hours=1)


def test_hours_are_read_and_written_canonically():
    hours = parse_hours("mon-fri 08:00-22:00; sat 09:00-13:00")
    assert hours.text() == "mon-fri 08:00-22:00; sat 09:00-13:00"
    assert hours.ranges_on(dt.date(2026, 2, 14)) == ((9 * 60, 13 * 60),)  # a Saturday
    assert hours.ranges_on(dt.date(2026, 2, 15)) == ()  # Sunday: not named, closed
    several = parse_hours("mon,wed 14:00-19:00 08:00-12:30; fri-sun 10:00-24:00")
    assert several.text() == (
        "mon 08:00-12:30 14:00-19:00; wed 08:00-12:30 14:00-19:00; fri-sun 10:00-24:00"
    )
    assert parse_hours("sat-mon 10:00-12:00").text() == "mon 10:00-12:00; sat-sun 10:00-12:00"
    assert several.ranges_on(dt.date(2026, 2, 16)) == ((8 * 60, 12 * 60 + 30), (14 * 60, 19 * 60))
    assert parse_hours("") is None
    assert parse_hours("  ") is None


@pytest.mark.parametrize(
    "text",
    [
        "mon",
        "mon 8-22",
        "xyz 08:00-10:00",
        "mon 10:00-09:00",
        "mon 08:00-12:00 11:00-13:00",
        "mon 08:00-25:00",
        "mon 24:00-24:00",
    ],
)
def test_bad_hours_are_refused(text):
    with pytest.raises(HoursError):
        parse_hours(text)


@pytest.mark.parametrize(
    ("zone", "day", "text", "hours"),
    [
        (ROME, dt.date(2026, 2, 10), "tue 08:00-22:00", 14),
        # Clocks go forward at 02:00 in Rome: 01:00-04:00 lasts two hours.
        (ROME, dt.date(2026, 3, 29), "sun 01:00-04:00", 2),
        # …and back at 03:00: 01:00-04:00 lasts four.
        (ROME, dt.date(2026, 10, 25), "sun 01:00-04:00", 4),
        (ROME, dt.date(2026, 10, 25), "sun 00:00-24:00", 25),
        (NEW_YORK, dt.date(2026, 3, 8), "sun 00:00-24:00", 23),
        (NEW_YORK, dt.date(2026, 3, 8), "sun 01:00-03:30", 1.5),
        (NEW_YORK, dt.date(2026, 11, 1), "sun 00:30-02:30", 3),
    ],
)
def test_open_time_is_as_long_as_the_clock_says(zone, day, text, hours):
    intervals = open_intervals(parse_hours(text), day, zone)
    assert sum((end - start for start, end in intervals), dt.timedelta()) == hours * HOUR


def test_open_offsets_fall_one_in_each_slot_of_open_time():
    minute = 60_000_000
    ranges = [(0, 60 * minute), (120 * minute, 180 * minute)]  # an hour, two closed, an hour
    for seed in range(50):
        offsets = list(open_offsets(ranges, 4, random.Random(seed)))
        assert offsets == sorted(offsets)
        # Open time of 120 minutes in four slots of 30: early half of each.
        bounds = [(0, 15), (30, 45), (120, 135), (150, 165)]
        for offset, (low, high) in zip(offsets, bounds, strict=True):
            assert low * minute <= offset < high * minute


def contest_with(
    code="R1",
    *,
    hours="",
    perday=10,
    stock_=None,
    expire=None,
    zone="Europe/Rome",
    start=dt.date(2026, 2, 1),
    end=dt.date(2026, 2, 28),
) -> Contest:
    contest = Contest.objects.create(
        code=code, name="Rules", start=start, end=end, time_zone=zone, opening_hours=hours
    )
    Prize.objects.create(
        contest=contest,
        code="p",
        name="Prize",
        perday=perday,
        stock=stock_,
        expire_after_minutes=expire,
    )
    return contest


def moments_of(contest, day):
    return list(WinningMoment.objects.filter(contest=contest, day=day).values_list("at", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "day", "text"),
    [
        ("Europe/Rome", dt.date(2026, 2, 10), "mon-fri 08:00-12:30 14:00-19:00"),
        ("Europe/Rome", dt.date(2026, 3, 29), "sun 01:00-04:00 20:00-22:00"),
        ("Europe/Rome", dt.date(2026, 10, 25), "sun 01:00-04:00 20:00-22:00"),
        ("America/New_York", dt.date(2026, 3, 8), "sun 00:00-03:30 09:00-17:00"),
        ("America/New_York", dt.date(2026, 11, 1), "sun 00:30-02:30 09:00-17:00"),
    ],
)
def test_moments_fall_only_in_open_time_one_per_equal_slot(zone, day, text):
    contest = contest_with(hours=text, perday=24, zone=zone, start=day, end=day)
    ensure_plans(contest, day, day_bounds(day, contest.zone)[0], random.Random(7))
    intervals = open_intervals(parse_hours(text), day, contest.zone)
    total = sum((end - start for start, end in intervals), dt.timedelta())
    moments = sorted(moments_of(contest, day))
    assert len(moments) == 24
    for number, at in enumerate(moments):
        # In open time…
        assert any(s <= at < e for s, e in intervals)
        open_before = sum((min(e, at) - s for s, e in intervals if s <= at), dt.timedelta())
        # In the early half of its own slot of the day's total open time.
        slot = total / 24
        assert slot * number <= open_before < slot * number + slot / 2
    plan = DayPlan.objects.get()
    assert plan.rules.startswith("hours: ")
    assert f"open: {text.split(' ', 1)[1]}\n" in plan.rules


@pytest.mark.django_db
def test_a_day_without_open_time_gets_no_plan():
    contest = contest_with(hours="mon-fri 08:00-22:00")
    sunday = dt.date(2026, 2, 15)
    assert ensure_plans(contest, sunday, day_bounds(sunday, ROME)[0]) == 0
    assert not DayPlan.objects.exists()
    # A plan made after the day's last closing time has nothing left to plan either.
    monday = dt.date(2026, 2, 16)
    assert ensure_plans(contest, monday, dt.datetime(2026, 2, 16, 22, 30, tzinfo=ROME)) == 0
    # Made during the day, it covers the open time left.
    assert ensure_plans(contest, monday, dt.datetime(2026, 2, 16, 15, 0, tzinfo=ROME)) == 1
    assert min(moments_of(contest, monday)) >= dt.datetime(2026, 2, 16, 15, 0, tzinfo=ROME)


@pytest.mark.django_db
def test_without_rules_a_plan_is_as_before():
    contest = contest_with()
    day = dt.date(2026, 2, 10)
    ensure_plans(contest, day, day_bounds(day, ROME)[0])
    plan = DayPlan.objects.get()
    assert (plan.rules, plan.expire_after, plan.moment_count) == ("", None, 10)
    assert (plan.window_start, plan.window_end) == day_bounds(day, ROME)


def plan_whole_contest(contest, rng):
    day = contest.start
    while day <= contest.end:
        ensure_plans(contest, day, day_bounds(day, contest.zone)[0], rng)
        day += dt.timedelta(days=1)
    return dict(DayPlan.objects.filter(prize__contest=contest).values_list("day", "moment_count"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stock_", "perday", "hours"),
    [(100, 10, ""), (7, 3, ""), (300, 10, ""), (50, 4, "mon-fri 09:00-18:00"), (28, 1, "")],
)
def test_the_stock_is_spread_evenly_never_over_it_never_over_perday(stock_, perday, hours):
    for seed in range(8):
        contest = contest_with(f"S{seed}", hours=hours, perday=perday, stock_=stock_)
        counts = plan_whole_contest(contest, random.Random(seed))
        assert max(counts.values()) <= perday
        open_days = stock.days_to_plan(parse_hours(hours), contest.start, contest.end)
        assert sum(counts.values()) == min(stock_, perday * open_days)
        # Evenly: days differ by at most one moment, unless perday held them back.
        if stock_ <= perday * open_days:
            assert max(counts.values()) - min(counts.values()) <= 1
        assert WinningMoment.objects.filter(contest=contest).count() == sum(counts.values())


@pytest.mark.django_db
def test_the_stock_formula_is_the_documented_one():
    contest = contest_with(perday=10, stock_=100)  # 28 days of February 2026
    prize = contest.prizes.get()
    allotment = stock.allot(prize, contest.start, day_bounds(contest.start, ROME)[0])
    assert (allotment.left, allotment.days, allotment.count) == (100, 28, 4)  # ⌈100 / 28⌉
    ensure_plans(contest, contest.start, day_bounds(contest.start, ROME)[0])
    assert DayPlan.objects.get().rules.splitlines()[2] == "stock: 100; 100 left over 28 days"


def claim(contest, day, at, player=""):
    return claim_moment(contest.pk, day, at, request_id="r", player=player)


@pytest.mark.django_db
def test_an_expired_moment_is_never_awarded():
    contest = contest_with(perday=2, expire=30)
    day = dt.date(2026, 2, 10)
    ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(1))
    first, second = sorted(moments_of(contest, day))
    plan = DayPlan.objects.get()
    assert plan.expire_after == dt.timedelta(minutes=30)
    assert "unclaimed: expire after 30 minutes\n" in plan.rules
    # 30 minutes after it fell due, the first moment is gone; the second is not due yet.
    assert claim(contest, day, first + dt.timedelta(minutes=30)) is None
    assert next_unclaimed_moment(contest.pk, day, first + dt.timedelta(minutes=30)) == second
    win = claim(contest, day, second + dt.timedelta(minutes=29, seconds=59))
    assert win is not None and win.moment.at == second
    assert WinningMoment.objects.filter(claimed=False).count() == 1


@pytest.mark.django_db
def test_a_carried_moment_is_won_later_the_same_day():
    contest = contest_with(perday=1)
    day = dt.date(2026, 2, 10)
    ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(1))
    [at] = moments_of(contest, day)
    assert claim(contest, day, at + dt.timedelta(hours=10)) is not None


@pytest.mark.django_db
def test_expired_moments_go_back_to_the_stock_of_the_days_not_yet_planned():
    contest = contest_with(perday=5, stock_=10, expire=10, end=dt.date(2026, 2, 2))
    first, second = dt.date(2026, 2, 1), dt.date(2026, 2, 2)
    ensure_plans(contest, first, day_bounds(first, ROME)[0], random.Random(2))
    assert DayPlan.objects.get(day=first).moment_count == 5
    moments = sorted(moments_of(contest, first))
    for at in moments[:3]:
        assert claim(contest, first, at) is not None
    # Two moments were never claimed: once the day is over they go back to the stock.
    ensure_plans(contest, second, day_bounds(second, ROME)[0], random.Random(3))
    assert DayPlan.objects.get(day=second).moment_count == 5  # 10 − 3 won = 7 left, perday 5
    assert "stock: 10; 7 left over 1 days\n" in DayPlan.objects.get(day=second).rules
    assert Win.objects.count() == 3


@pytest.mark.django_db
def test_without_expiry_unclaimed_moments_stay_used():
    contest = contest_with(perday=5, stock_=8, end=dt.date(2026, 2, 2))
    first, second = dt.date(2026, 2, 1), dt.date(2026, 2, 2)
    ensure_plans(contest, first, day_bounds(first, ROME)[0], random.Random(2))
    ensure_plans(contest, second, day_bounds(second, ROME)[0], random.Random(3))
    assert [p.moment_count for p in DayPlan.objects.order_by("day")] == [4, 4]


@pytest.mark.django_db
def test_stock_low_is_announced_once_by_the_plan_that_takes_it_below_ten_percent():
    from contests.models import WebhookEvent

    contest = contest_with(perday=10, stock_=20, end=dt.date(2026, 2, 3))
    plan_whole_contest(contest, random.Random(4))
    # 7 + 7 + 6: left 20, 13, 6 (below 2 is below 10 %) — then 0 after the last plan.
    [event] = WebhookEvent.objects.filter(kind="prize.stock_low")
    data = json.loads(event.body)["data"]
    assert data == {
        "contest": contest.code,
        "prize": {"code": "p", "name": data["prize"]["name"]},
        "left": 0,
        "of": 20,
        "what": "stock",
    }


@pytest.mark.django_db
def test_on_the_database_clock_an_expired_moment_is_never_awarded(postgres_only):
    from django.utils import timezone

    contest = contest_with(perday=2, expire=30, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))
    now = timezone.now()
    day = contest.local_date(now)
    plan = DayPlan.objects.create(
        prize=contest.prizes.get(),
        day=day,
        window_start=now - dt.timedelta(hours=2),
        window_end=now + dt.timedelta(hours=2),
        moment_count=2,
        made_at=now - dt.timedelta(hours=2),
        expire_after=dt.timedelta(minutes=30),
    )
    expired, fresh = now - dt.timedelta(minutes=31), now - dt.timedelta(minutes=29)
    for at in (expired, fresh):
        WinningMoment.objects.create(plan=plan, contest=contest, day=day, at=at)
    # now=None: the database's clock judges, and the expiry with it.
    win = claim_moment(contest.pk, day, None, request_id="db-clock")
    assert win is not None and win.moment.at == fresh
    assert claim_moment(contest.pk, day, None, request_id="db-clock-2") is None
