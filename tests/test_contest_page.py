"""A contest's page: a day's wins against the ideal line, its plays, its winners.

Moments still to come are secret: staff see how many are left, superusers see when.
"""

import datetime as dt
import random
import re

import pytest
import time_machine

from contests.models import Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.play_counts import record_play
from tests.clock import ROME, rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db

NOON = rome(2020, 2, 10, 12)


def get(client, url, at=NOON):
    with time_machine.travel(at, tick=False):
        return client.get(url)


def test_it_is_for_staff_only(client, outsider_client, staff_client, make_contest):
    make_contest()
    with time_machine.travel(NOON, tick=False):
        assert_staff_only("/contests/C0001/", client, outsider_client, staff_client)


def test_it_answers_404_for_an_unknown_contest(staff_client):
    assert get(staff_client, "/contests/C0404/").status_code == 404


def test_it_shows_today_by_default(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/")
    assert response.context["day"] == dt.date(2020, 2, 10)
    assert response.context["is_today"]
    assert b"Monday 10 February 2020" in response.content


def test_it_draws_the_days_wins_against_the_ideal_line(staff_client, make_contest, make_win):
    contest = make_contest(perday=48)
    for hour in (0, 0, 1, 5):
        make_win(contest, rome(2020, 2, 10, hour, 30))
    response = get(staff_client, "/contests/C0001/")
    cumulative = response.context["cumulative"]
    assert (cumulative.wins, cumulative.target) == (4, 48)
    # Half the day has passed at noon: the even spread is at 24 of 48.
    assert cumulative.ideal_now == 24.0
    html = response.content.decode()
    assert '<polyline class="ideal"' in html
    assert '<polyline class="actual"' in html
    assert "00:00–01:00: 2 wins" in html  # a bar's exact value, in its <title>
    assert "05:00–06:00: 1 win<" in html


def test_it_shows_the_plays_of_each_hour(staff_client, make_contest):
    contest = make_contest()
    for minute in range(3):
        record_play(contest, rome(2020, 2, 10, 9, minute))
    response = get(staff_client, "/contests/C0001/")
    assert response.context["plays_per_hour"].total == 3
    assert "09:00–10:00: 3 plays" in response.content.decode()


def test_it_lists_the_days_winners_in_the_contests_zone(staff_client, make_contest, make_win):
    contest = make_contest(time_zone="America/New_York")
    make_win(
        contest, dt.datetime(2020, 2, 10, 14, 5, 9, tzinfo=dt.UTC), player="p-77", request_id="r-1"
    )
    response = get(staff_client, "/contests/C0001/", at=dt.datetime(2020, 2, 10, 15, tzinfo=dt.UTC))
    html = response.content.decode()
    assert "2020-02-10 09:05:09" in html  # 14:05:09 UTC is 09:05:09 in New York
    assert 'datetime="2020-02-10T09:05:09-05:00"' in html
    assert "p-77" in html and "r-1" in html and "Sconto del 5%" in html


def test_it_switches_to_an_earlier_day(staff_client, make_contest, make_win):
    contest = make_contest()
    make_win(contest, rome(2020, 2, 3, 10), player="earlier")
    make_win(contest, rome(2020, 2, 10, 10), player="today")
    response = get(staff_client, "/contests/C0001/?day=2020-02-03")
    assert response.context["day"] == dt.date(2020, 2, 3)
    html = response.content.decode()
    assert "earlier" in html and ">today<" not in html
    assert 'href="?day=2020-02-02"' in html  # previous day
    assert 'href="?day=2020-02-04"' in html  # next day
    assert 'name="day" value="2020-02-03"' in html  # the day field, in English's ISO order


def test_it_offers_no_day_outside_the_contest_or_in_the_future(staff_client, make_contest):
    make_contest()
    for day in ["2020-01-31", "2020-02-11", "2020-03-01", "yesterday"]:
        assert get(staff_client, f"/contests/C0001/?day={day}").status_code == 404
    first = get(staff_client, "/contests/C0001/?day=2020-02-01").content.decode()
    assert 'href="?day=2020-01-31"' not in first
    today = get(staff_client, "/contests/C0001/").content.decode()
    assert 'href="?day=2020-02-11"' not in today


def test_it_shows_the_last_day_of_an_ended_contest(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/", at=rome(2020, 3, 15, 12))
    assert response.context["day"] == dt.date(2020, 2, 29)


def test_it_says_when_an_upcoming_contest_starts(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/", at=rome(2020, 1, 20, 12))
    assert response.context["day"] is None
    assert b"Starts on Saturday 1 February 2020" in response.content


def test_it_draws_a_dst_day_with_its_25_hours(staff_client, make_contest):
    make_contest(start=dt.date(2020, 10, 1), end=dt.date(2020, 10, 31))
    response = get(staff_client, "/contests/C0001/?day=2020-10-25", at=rome(2020, 10, 26, 9))
    assert response.context["day_hours"] == 25
    assert len(response.context["plays_per_hour"].bars) == 25
    assert b"25-hour day" in response.content


def plan_today(contest):
    day = dt.date(2020, 2, 10)
    ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(7))
    return WinningMoment.objects.filter(contest=contest, day=day).order_by("at")


def future_moment_times(contest) -> list[str]:
    return [
        moment.at.astimezone(ROME).strftime("%H:%M:%S")
        for moment in WinningMoment.objects.filter(contest=contest, at__gt=NOON)
    ]


def test_it_never_shows_staff_a_moment_still_to_come(staff_client, make_contest):
    contest = make_contest(perday=45)
    moments = plan_today(contest)
    future = future_moment_times(contest)
    assert future  # the afternoon's moments
    html = get(staff_client, "/contests/C0001/").content.decode()
    assert "superusers only" not in html
    for time in future:
        assert time not in html
    # How many are left is no secret.
    assert response_number(html, "Moments left today") == moments.filter(claimed=False).count()


def test_it_shows_superusers_the_moments_still_to_come(superuser_client, make_contest):
    contest = make_contest(perday=45)
    plan_today(contest)
    future = future_moment_times(contest)
    html = get(superuser_client, "/contests/C0001/").content.decode()
    assert "superusers only" in html
    for time in future:
        assert time in html


def test_it_counts_the_moments_left_today(staff_client, make_contest):
    contest = make_contest(perday=45)
    moments = plan_today(contest)
    first = moments.first()
    WinningMoment.objects.filter(pk=first.pk).update(claimed=True)
    Win.objects.create(
        moment=first,
        contest=contest,
        prize=first.plan.prize,
        day=first.day,
        won_at=first.at,
        request_id="r",
    )
    response = get(staff_client, "/contests/C0001/")
    assert response.context["unclaimed_moments"] == 44


def response_number(html: str, label: str) -> int:
    match = re.search(rf"{label}</div>\s*<div class=\"stat-value\">([\d,]+)<", html)
    assert match, f"no {label!r} figure on the page"
    return int(match.group(1).replace(",", ""))


def test_it_paginates_the_winners_and_keeps_the_day(staff_client, make_contest, make_win):
    contest = make_contest(perday=100)
    for minute in range(55):
        make_win(contest, rome(2020, 2, 3, 10, minute), request_id=f"r{minute:02d}")
    response = get(staff_client, "/contests/C0001/?day=2020-02-03")
    assert len(response.context["rows"]) == 50
    assert b'href="?day=2020-02-03&amp;page=2"' in response.content
    response = get(staff_client, "/contests/C0001/?day=2020-02-03&page=2")
    assert len(response.context["rows"]) == 5
    assert b"r04" in response.content and b"r05" not in response.content  # oldest last


def test_it_links_to_the_days_csv(staff_client, make_contest):
    make_contest()
    html = get(staff_client, "/contests/C0001/?day=2020-02-03").content.decode()
    assert (
        'href="/winners/export/?contest=C0001&amp;day_from=2020-02-03&amp;day_to=2020-02-03"'
        in html
    )
