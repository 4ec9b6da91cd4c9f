"""Claims are atomic by construction, not by luck."""

import datetime as dt
import random

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from contests.models import DayPlan, Win
from contests.moments.claiming import claim_moment, ensure_plans
from contests.moments.planning import day_bounds
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def test_the_database_refuses_a_second_award_of_a_moment(make_contest):
    contest = make_contest(perday=1)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0], random.Random(1))
    win = claim_moment(contest.pk, DAY, rome(2020, 2, 10, 23), request_id="first")
    with pytest.raises(IntegrityError), transaction.atomic():
        Win.objects.create(
            moment=win.moment,
            contest=contest,
            prize=win.prize,
            day=DAY,
            won_at=rome(2020, 2, 10, 23),
            request_id="second",
        )


def test_the_database_refuses_a_second_plan_for_a_day(make_contest):
    contest = make_contest()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    plan = DayPlan.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DayPlan.objects.create(
            prize=plan.prize,
            day=DAY,
            window_start=plan.window_start,
            window_end=plan.window_end,
            moment_count=1,
            made_at=plan.made_at,
        )


def test_on_postgresql_a_claim_skips_moments_that_others_hold(make_contest, postgres_only):
    contest = make_contest()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    with CaptureQueriesContext(connection) as queries:
        claim_moment(contest.pk, DAY, rome(2020, 2, 10, 23), request_id="r")
    [select] = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert select.endswith('LIMIT 1 FOR UPDATE OF "contests_winningmoment" SKIP LOCKED')
