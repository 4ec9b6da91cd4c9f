"""Many plays at once: exactly perday wins, no moment twice, every winning answer has its row.

Each thread has its own database connection, as separate server processes would. On
PostgreSQL claims run side by side (SKIP LOCKED); on SQLite they queue (IMMEDIATE).
"""

import datetime as dt
import random
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client

from contests.models import DayPlan, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2020, 2, 10)
THREADS = 12


def run_together(work, threads=THREADS):
    """Run work(index) in threads released at the same instant; return their results."""
    barrier = threading.Barrier(threads)
    results = [None] * threads
    errors = []

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported below, with the thread that raised it
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=runner, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_simultaneous_plays_award_exactly_perday_wins(make_contest):
    contest = make_contest(perday=30)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0], random.Random(5))
    plays_per_thread = 5  # 60 plays for 30 moments, all of them already due

    def plays(index):
        client = Client()
        answers = []
        for number in range(plays_per_thread):
            request_id = f"t{index}-{number}"
            response = client.get("/play/?contest=C0001", HTTP_X_REQUEST_ID=request_id)
            answers.append((request_id, response.status_code, response.json()))
        return answers

    with time_machine.travel(rome(2020, 2, 10, 23, 59), tick=False):
        answers = [answer for batch in run_together(plays) for answer in batch]

    assert {status for _, status, _ in answers} == {200}
    winners = {request_id for request_id, _, body in answers if body["data"]["winner"]}
    assert len(winners) == 30
    wins = list(Win.objects.all())
    assert len(wins) == 30
    assert {win.request_id for win in wins} == winners
    assert len({win.moment_id for win in wins}) == 30
    assert WinningMoment.objects.filter(claimed=False).count() == 0


def test_racing_first_plays_make_exactly_one_plan(make_contest):
    make_contest(perday=500)

    def play(index):
        response = Client().get("/play/?contest=C0001", HTTP_X_REQUEST_ID=f"r{index}")
        return response.status_code

    with time_machine.travel(rome(2020, 2, 10, 9, 0), tick=False):
        statuses = run_together(play)

    assert statuses == [200] * THREADS
    plan = DayPlan.objects.get()
    assert plan.moments.count() == 500 == plan.moment_count


def test_racing_planners_make_exactly_one_plan_per_prize(make_contest):
    contest = make_contest(perday=2000)
    midnight = day_bounds(DAY, ROME)[0]
    run_together(lambda index: ensure_plans(contest, DAY, midnight))
    assert DayPlan.objects.count() == 1
    assert WinningMoment.objects.count() == 2000


def test_racing_batch_planners_make_each_plan_once_in_any_order(make_contest, monkeypatch):
    # Many plans per transaction (ensure_many_plans), asked for in opposite orders: every
    # plan is made once, each planner ends with all of them, none deadlocks or fails.
    from contests.moments import claiming
    from contests.moments.claiming import ensure_many_plans

    monkeypatch.setattr(claiming, "PLANS_PER_TRANSACTION", 4)
    contests = [make_contest(f"C{number:04d}", perday=50) for number in range(10)]
    midnight = day_bounds(DAY, ROME)[0]
    pairs = [(contest, day) for contest in contests for day in (DAY, DAY + dt.timedelta(days=1))]

    def plan(index):
        ordered = pairs if index % 2 else pairs[::-1]
        return sum(ensure_many_plans(ordered, midnight))

    assert run_together(plan, threads=6) == [len(pairs)] * 6
    assert DayPlan.objects.count() == len(pairs)
    assert WinningMoment.objects.count() == 50 * len(pairs)


def test_racing_makers_of_a_big_plan_leave_one_plan_that_verifies(make_contest, monkeypatch):
    # Many batches per plan (COPY on PostgreSQL), so the losers race well into the winner's write.
    from io import StringIO

    from django.core.management import call_command

    from contests.moments import storing
    from contests.moments.claiming import make_plan

    monkeypatch.setattr(storing, "MOMENT_BATCH", 100)
    contest = make_contest(perday=3000)
    midnight = day_bounds(DAY, ROME)[0]
    plans = run_together(lambda index: make_plan(contest.prizes.get(), DAY, midnight).pk)
    [plan] = DayPlan.objects.all()
    assert set(plans) == {plan.pk}
    assert WinningMoment.objects.filter(plan=plan).count() == 3000
    out = StringIO()
    call_command("verify_plans", stdout=out)
    assert out.getvalue().strip() == "Checked 1 plan: it matches its seal."
