"""A contest played over several days through the real play view, for the closing's tests:
registered players (some through an API client), their wins, some disqualified."""

import datetime as dt
import random
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from contests import participants
from contests.models import ApiClient, Contest, Prize, ReviewStatus, Win
from contests.moments.claiming import ensure_plans
from contests.play.credentials import issue_token
from contests.staff.reviews import review_win
from tests.clock import rome

START = dt.date(2020, 2, 1)


def played_contest(
    make_contest,
    *,
    days: int = 4,
    players: int = 30,
    client_players: int = 4,
    disqualify: int = 2,
    code: str = "C0001",
    hours=(9, 15, 21),
    reserves: int = 2,
) -> Contest:
    end = START + dt.timedelta(days=days - 1)
    contest = make_contest(code, start=START, end=end, perday=3)
    Contest.objects.filter(pk=contest.pk).update(
        recovery_draw=True,
        recovery_reserves=reserves,
        beneficiary_name="Amici del Cuore ONLUS",
        beneficiary_fiscal_code="97654321001",
    )
    contest.refresh_from_db()
    contest.prizes.update(value=Decimal("12.50"))
    Prize.objects.create(contest=contest, code="gift-card", name="Buono", perday=1, value=50)
    brand = ApiClient.objects.create(name="Brand")
    _, token = issue_token(brand)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    browser = Client()
    for offset in range(days):
        day = START + dt.timedelta(days=offset)
        ensure_plans(contest, day, rome(day.year, day.month, day.day, 0), random.Random(offset))
        for hour in hours:
            with time_machine.travel(rome(day.year, day.month, day.day, hour), tick=False):
                for n in range(players):
                    browser.get(f"/play/?contest={code}&user=p{n:02d}")
                for n in range(client_players):
                    browser.get(f"/play/?contest={code}&user=c{n}", **bearer)
    participants.write_register()
    reviewer = get_user_model().objects.get_or_create(username="rita", is_staff=True)[0]
    for win in Win.objects.filter(contest=contest).order_by("won_at")[:disqualify]:
        review_win(win, ReviewStatus.DISQUALIFIED, "Duplicate account", reviewer, rome(2020, 3, 1))
    return contest
