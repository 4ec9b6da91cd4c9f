"""One clock for awards: on PostgreSQL a claim is judged by the database's clock, not the caller's.

docs/scaling.md, "One clock for awards". A process whose clock runs an hour fast (as
time_machine makes this one) still never takes a moment before the database says it is due.
"""

import datetime as dt
import time

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from contests.models import DayPlan, Win, WinningMoment
from contests.moments.claiming import claim_moment
from contests.moments.planning import day_bounds
from contests.play.memory import NextMoment, PlayMemory

HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


def database_time(function: str = "transaction_timestamp") -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}()")
        return cursor.fetchone()[0]


def plan_with_moments(contest, day, moments) -> DayPlan:
    prize = contest.prizes.get()
    day_start, day_end = day_bounds(day, contest.zone)
    plan = DayPlan.objects.create(
        prize=prize,
        day=day,
        window_start=day_start,
        window_end=day_end,
        moment_count=len(moments),
        made_at=day_start,
    )
    WinningMoment.objects.bulk_create(
        WinningMoment(plan=plan, contest=contest, day=day, at=at) for at in moments
    )
    return plan


def contest_around(make_contest, instant: dt.datetime):
    day = instant.astimezone(dt.UTC).date()
    # UTC, so that an instant near local midnight cannot fall outside the contest's days.
    return make_contest(
        start=day - dt.timedelta(days=1), end=day + dt.timedelta(days=1), time_zone="UTC"
    )


@pytest.mark.django_db
def test_a_claim_waits_for_the_database_clock_and_wins_at_its_time(make_contest, postgres_only):
    # The test runs inside one transaction: transaction_timestamp() stays put throughout.
    db_now = database_time()
    contest = contest_around(make_contest, db_now)
    day = contest.local_date(db_now)
    due_soon = db_now + dt.timedelta(milliseconds=50)
    plan_with_moments(contest, day, [due_soon])
    with time_machine.travel(db_now + HOUR, tick=False):
        assert timezone.now() > due_soon  # due by this process's clock…
        assert claim_moment(contest.pk, day, request_id="early") is None  # …not by the database's
        assert not Win.objects.exists()
        WinningMoment.objects.create(
            plan=DayPlan.objects.get(),
            contest=contest,
            day=day,
            at=db_now - dt.timedelta(microseconds=1),
        )
        win = claim_moment(contest.pk, day, request_id="due")
    assert win is not None and win.request_id == "due"
    assert win.won_at == db_now  # the claim's transaction time, not the process's
    assert win.won_at >= win.moment.at
    win.refresh_from_db()
    assert win.won_at == db_now
    assert WinningMoment.objects.get(at=due_soon).claimed is False


@pytest.mark.django_db
def test_a_given_time_is_used_as_it_is(make_contest, postgres_only):
    # Simulations and tests pass their own time: the caller's clock decides then.
    db_now = database_time()
    contest = contest_around(make_contest, db_now)
    day = contest.local_date(db_now)
    plan_with_moments(contest, day, [db_now + HOUR])
    assert (
        claim_moment(contest.pk, day, db_now + HOUR - dt.timedelta(seconds=1), request_id="a")
        is None
    )
    win = claim_moment(contest.pk, day, db_now + 2 * HOUR, request_id="b")
    assert win.won_at == db_now + 2 * HOUR


@pytest.mark.django_db(transaction=True)
def test_claims_from_skewed_clocks_never_win_before_the_moment(make_contest, postgres_only):
    start = database_time("clock_timestamp")
    contest = contest_around(make_contest, start)
    day = contest.local_date(start)
    offsets_ms = [-200, 300, 600, 900, 1200]
    plan_with_moments(contest, day, [start + dt.timedelta(milliseconds=ms) for ms in offsets_ms])
    wins = []
    deadline = time.monotonic() + 30
    skews = [HOUR, -HOUR, dt.timedelta(seconds=5), dt.timedelta(0)]
    attempt = 0
    while len(wins) < len(offsets_ms) and time.monotonic() < deadline:
        skew = skews[attempt % len(skews)]
        with time_machine.travel(dt.datetime.now(dt.UTC) + skew, tick=True):
            if (win := claim_moment(contest.pk, day, request_id=f"r{attempt}")) is not None:
                wins.append((win, database_time("clock_timestamp")))
        attempt += 1
        time.sleep(0.01)
    assert len(wins) == len(offsets_ms)
    for win, after in wins:
        assert win.moment.at <= win.won_at <= after
    stored = list(Win.objects.select_related("moment"))
    assert len(stored) == len(offsets_ms)
    assert all(win.won_at >= win.moment.at for win in stored)


@pytest.mark.django_db
def test_elsewhere_no_time_means_the_process_clock(make_contest):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL judges by its own clock (the tests above)")
    moment = dt.datetime(2020, 2, 10, 12, tzinfo=dt.UTC)
    contest = contest_around(make_contest, moment)
    plan_with_moments(contest, moment.date(), [moment])
    with time_machine.travel(moment - dt.timedelta(seconds=1), tick=False):
        assert claim_moment(contest.pk, moment.date(), request_id="early") is None
    with time_machine.travel(moment + dt.timedelta(seconds=1), tick=False):
        win = claim_moment(contest.pk, moment.date(), request_id="due")
    assert win.won_at == moment + dt.timedelta(seconds=1)


@pytest.mark.django_db(transaction=True)
def test_a_slow_process_knows_how_far_the_database_clock_is_ahead(settings, postgres_only):
    # A capped contest's plays skip the cache only while the next moment is not due for
    # the database (contests/play/caps.py): a process 5 s slow must count those 5 s.
    settings.AWARD_CLOCK = "database"
    memory = PlayMemory()
    with time_machine.travel(timezone.now() - 5 * SECOND, tick=True):
        memory._read_version()
        now = timezone.now()
        day = now.date()
        assert 4.9 < memory.clock_ahead < 5.5
        assert not memory.nothing_due_since(NextMoment(day, now + 3 * SECOND), day, now)
        assert memory.nothing_due_since(NextMoment(day, now + 8 * SECOND), day, now)
        assert memory.nothing_due_since(NextMoment(day, None), day, now)  # none left
        assert not memory.nothing_due_since(NextMoment(day - dt.timedelta(days=1), None), day, now)
