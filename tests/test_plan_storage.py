"""Storing plans: COPY on PostgreSQL writes exactly the moments drawn, under their seal."""

import datetime as dt
import itertools
import random
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from contests.models import DayPlan, WinningMoment
from contests.moments import storing
from contests.moments.claiming import make_plan
from contests.moments.planning import EARLY_PART, day_bounds, plan_moments, plan_offsets
from contests.moments.sealing import commitment, moment_line, moment_lines
from tests.clock import ROME, rome

DAY = dt.date(2026, 10, 25)  # 25 hours long in Rome


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 7 moments read 100 bytes at a time: every boundary is crossed often."""
    monkeypatch.setattr(storing, "MOMENT_BATCH", 7)
    monkeypatch.setattr(storing, "COPY_READ_SIZE", 100)


def stored_moments(plan: DayPlan) -> list[dt.datetime]:
    return list(plan.moments.order_by("at", "id").values_list("at", flat=True))


def verify_plans() -> str:
    out = StringIO()
    call_command("verify_plans", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.mark.django_db
@pytest.mark.parametrize("late", [False, True])
def test_a_plan_stores_exactly_the_moments_drawn_under_its_seal(make_contest, small_batches, late):
    contest = make_contest(perday=100, start=DAY, end=DAY)
    prize = contest.prizes.get()
    start, end = day_bounds(DAY, ROME)
    now = rome(2026, 10, 25, 14, 30) if late else start
    plan = make_plan(prize, DAY, now, random.Random(11))
    drawn = list(plan_moments(max(start, now), end, 100, random.Random(11)))
    assert stored_moments(plan) == drawn
    assert WinningMoment.objects.filter(plan=plan, contest=contest, day=DAY).count() == 100
    assert not WinningMoment.objects.filter(claimed=True).exists()
    expected = commitment(contest.code, prize.code, DAY, plan.salt, drawn)
    assert plan.commitment == expected
    plan.refresh_from_db()
    assert plan.commitment == expected
    assert verify_plans() == "Checked 1 plan: it matches its seal."


@pytest.mark.django_db
def test_on_postgresql_the_moments_go_in_one_copy(make_contest, postgres_only, small_batches):
    contest = make_contest(perday=50)
    with CaptureQueriesContext(connection) as queries:
        plan = make_plan(contest.prizes.get(), DAY, day_bounds(DAY, ROME)[0])
    statements = [query["sql"] for query in queries]
    [copy] = [sql for sql in statements if sql.startswith("COPY")]
    assert copy.startswith('COPY "contests_winningmoment" ("plan_id", "contest_id", "day", "at"')
    assert not [sql for sql in statements if 'INSERT INTO "contests_winningmoment"' in sql]
    assert len(stored_moments(plan)) == 50
    assert verify_plans().endswith("matches its seal.")


@pytest.mark.django_db
def test_a_failed_write_leaves_no_plan_and_no_moment(make_contest, monkeypatch, small_batches):
    contest = make_contest(perday=20)
    drawn_rows = storing._binary_rows

    def broken_rows(plan, offsets):
        yield from itertools.islice(drawn_rows(plan, offsets), 2)  # the header, 7 rows
        raise RuntimeError("the write broke half-way")

    monkeypatch.setattr(storing, "_binary_rows", broken_rows)  # PostgreSQL's path
    monkeypatch.setattr(storing, "_insert_moments", _broken_inserts)
    # PostgreSQL reports the stream's error as the COPY's own.
    with pytest.raises((RuntimeError, DatabaseError), match="half-way"):
        make_plan(contest.prizes.get(), DAY, day_bounds(DAY, ROME)[0])
    assert not DayPlan.objects.exists()
    assert not WinningMoment.objects.exists()


def _broken_inserts(plan, offsets):
    """SQLite's path, breaking after its first rows are in."""
    storing.WinningMoment.objects.create(
        plan=plan, contest_id=plan.prize.contest_id, day=plan.day, at=plan.window_start
    )
    raise RuntimeError("the write broke half-way")


def _moments_from(offsets):
    def moments(window_start, window_end, count, rng=None):
        span = (window_end - window_start) // dt.timedelta(microseconds=1)
        for offset in offsets(span, count, rng):
            yield window_start + dt.timedelta(microseconds=offset)

    return moments


@pytest.mark.django_db
def test_plan_days_over_planned_contests_costs_three_queries(make_contest):
    for number in range(5):
        make_contest(f"C{number:04d}", perday=3)
    with time_machine.travel(rome(2020, 2, 9, 12), tick=False):
        call_command("plan_days", "--days", "2", stdout=StringIO())
        assert DayPlan.objects.count() == 10
        with CaptureQueriesContext(connection) as queries:
            out = StringIO()
            call_command("plan_days", "--days", "2", stdout=out)
    # The contests, their prizes, the plans already made: not a query per contest.
    assert len(queries) == 3
    assert "Made 0 plans" in out.getvalue()


INSTANTS = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)


@given(start=INSTANTS, offsets=st.lists(st.integers(0, 400 * 86_400 * 10**6), max_size=20))
def test_moment_lines_are_moment_line_without_datetimes(start, offsets):
    expected = [moment_line(start + dt.timedelta(microseconds=o)) for o in offsets]
    assert list(moment_lines(start, offsets)) == expected


class ZeroWords(random.Random):
    """Random words of zero: the one case multiply-and-shift must redraw."""

    def randbytes(self, n):
        return bytes(n)


def early_width(span: int, count: int, slot: int) -> int:
    slot_width = span * (slot + 1) // count - span * slot // count
    return max(1, int(slot_width * EARLY_PART))


def test_offsets_that_would_be_biased_are_redrawn():
    # A zero word maps to offset 0 of every slot: without the redraw, always the slot start.
    span, count = 10**9 + 7, 9
    offsets = list(plan_offsets(span, count, ZeroWords(3)))
    first_redraw = random.Random(3).randrange(early_width(span, count, 0))
    assert offsets[0] == first_redraw
    starts = [span * slot // count for slot in range(count)]
    for slot, offset in enumerate(offsets):
        assert starts[slot] <= offset < starts[slot] + early_width(span, count, slot)
    assert all(offset > start for offset, start in zip(offsets, starts, strict=True))
