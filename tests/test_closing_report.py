"""Winner review and the closing report: the numbers agree exactly with the database."""

import datetime as dt
import random
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command

from contests.models import DayPlan, ReviewStatus, Win, WinningMoment, WinReview
from contests.play.simulation import simulate_day
from contests.staff.reports import closing_report
from contests.staff.reviews import review_win
from tests.clock import rome

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2020, 2, 10)
WEEK = [MONDAY + dt.timedelta(days=n) for n in range(7)]


@pytest.fixture
def reviewer():
    return User.objects.create_user("rita", is_staff=True)


def test_a_review_needs_a_reason_and_keeps_its_history(make_contest, reviewer):
    contest = make_contest(perday=2)
    simulate_day([contest], MONDAY, {contest.pk: 50}, random.Random(1))
    win = Win.objects.first()
    with pytest.raises(ValidationError, match="Say why"):
        review_win(win, ReviewStatus.VALIDATED, "   ", reviewer, rome(2020, 2, 11, 9))
    review_win(win, ReviewStatus.VALIDATED, "Receipt checked", reviewer, rome(2020, 2, 11, 9))
    review_win(win, ReviewStatus.DISQUALIFIED, "Duplicate account", reviewer, rome(2020, 2, 12))
    win.refresh_from_db()
    assert win.review_status == ReviewStatus.DISQUALIFIED
    assert [(r.status, r.reason, r.reviewed_by) for r in win.reviews.all()] == [
        ("disqualified", "Duplicate account", reviewer),
        ("validated", "Receipt checked", reviewer),
    ]


def test_a_disqualified_prize_is_not_awarded_again(client, make_contest, reviewer):
    contest = make_contest(perday=1)
    simulate_day([contest], MONDAY, {contest.pk: 10}, random.Random(2))
    win = Win.objects.get()
    review_win(win, ReviewStatus.DISQUALIFIED, "Fraud", reviewer, rome(2020, 2, 10, 23))
    with time_machine.travel(rome(2020, 2, 10, 23, 59), tick=False):
        assert client.get("/play/?contest=C0001").json()["data"]["winner"] is False
    assert Win.objects.count() == 1
    assert WinningMoment.objects.get().claimed is True


def test_the_report_of_a_simulated_week_agrees_with_the_database(make_contest, reviewer):
    contest = make_contest(perday=6)
    plays = {}
    for day in WEEK:
        # Thursday is quiet: three plays cannot claim six moments.
        plays[day] = 3 if day.weekday() == 3 else 120
        simulate_day([contest], day, {contest.pk: plays[day]}, random.Random(day.day))
    wednesday_wins = list(Win.objects.filter(day=WEEK[2]).order_by("won_at"))
    for win in wednesday_wins[:2]:
        review_win(win, ReviewStatus.DISQUALIFIED, "Invalid receipt", reviewer, rome(2020, 2, 20))
    review_win(wednesday_wins[2], ReviewStatus.VALIDATED, "OK", reviewer, rome(2020, 2, 20))

    report = closing_report(contest, WEEK[0], WEEK[-1])

    assert [line.day for line in report.days] == WEEK
    for line in report.days:
        wins = Win.objects.filter(contest=contest, day=line.day)
        plans = DayPlan.objects.filter(prize__contest=contest, day=line.day)
        assert line.plays == plays[line.day]
        assert line.planned == sum(plans.values_list("moment_count", flat=True))
        assert line.awarded == wins.count()
        assert line.disqualified == wins.filter(review_status="disqualified").count()
        unclaimed = WinningMoment.objects.filter(contest=contest, day=line.day, claimed=False)
        assert line.unassigned == unclaimed.count() + line.disqualified
        assert line.commitments == list(plans.values_list("commitment", flat=True))
    thursday = report.days[3]
    assert (thursday.awarded, thursday.unassigned) == (3, 3)
    wednesday = report.days[2]
    assert (wednesday.awarded, wednesday.disqualified, wednesday.unassigned) == (6, 2, 2)
    assert report.total.planned == 42
    assert report.total.awarded == Win.objects.count() == 39
    assert report.total.disqualified == 2
    assert report.total.unassigned == 5
    assert report.total.plays == sum(plays.values())
    assert list(report.winners()) == list(Win.objects.order_by("won_at", "id"))


def test_the_report_covers_only_the_contests_own_days(make_contest):
    contest = make_contest(start=dt.date(2020, 2, 1), end=dt.date(2020, 2, 3))
    report = closing_report(contest, dt.date(2020, 1, 25), dt.date(2020, 2, 10))
    assert [line.day for line in report.days] == [
        dt.date(2020, 2, 1),
        dt.date(2020, 2, 2),
        dt.date(2020, 2, 3),
    ]
    assert report.total.planned == 0


def test_purge_player_data_blanks_old_player_ids_only(make_contest, reviewer):
    contest = make_contest(perday=2, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    for day in (dt.date(2026, 9, 1), dt.date(2026, 11, 20)):
        simulate_day([contest], day, {contest.pk: 20}, random.Random(3))
    Win.objects.update(player="player-7")
    review_win(Win.objects.first(), ReviewStatus.VALIDATED, "ok", reviewer, rome(2026, 9, 2))
    out = StringIO()
    with time_machine.travel(rome(2026, 11, 28, 10), tick=False):
        call_command("purge_player_data", "--older-than", "30", "--dry-run", stdout=out)
        assert Win.objects.filter(player="player-7").count() == 4
        call_command("purge_player_data", "--older-than", "30", stdout=out)
    assert "Would blank the player id of 2 wins before 2026-10-29." in out.getvalue()
    assert "Blanked the player id of 2 wins before 2026-10-29." in out.getvalue()
    assert set(Win.objects.filter(day=dt.date(2026, 9, 1)).values_list("player", flat=True)) == {""}
    assert Win.objects.filter(player="player-7").count() == 2
    assert Win.objects.count() == 4
    assert WinReview.objects.count() == 1
