"""The dashboard: every contest, its status, and today's plays and wins against perday."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contests.models import Prize
from contests.play_counts import record_play
from contests.staff.dashboard import contests_today
from tests.clock import rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db

NOON = rome(2020, 2, 10, 12)


@pytest.fixture
def contests(make_contest):
    running = make_contest("C0001", perday=45)
    make_contest(
        "C0002", name="Primavera", start=dt.date(2020, 3, 1), end=dt.date(2020, 3, 31), perday=10
    )
    make_contest(
        "C0003", name="Natale", start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31), perday=5
    )
    return running


def get(client, url):
    with time_machine.travel(NOON, tick=False):
        return client.get(url)


def test_it_is_for_staff_only(client, outsider_client, staff_client):
    assert_staff_only("/", client, outsider_client, staff_client)


def test_it_lists_every_contest_with_its_status_and_dates(staff_client, contests):
    response = get(staff_client, "/")
    rows = {row.contest.code: row for row in response.context["rows"]}
    assert {code: row.status for code, row in rows.items()} == {
        "C0001": "running",
        "C0002": "upcoming",
        "C0003": "ended",
    }
    # Running contests come first.
    assert [row.contest.code for row in response.context["rows"]] == ["C0001", "C0002", "C0003"]
    html = response.content.decode()
    assert "Running today" in html and "Upcoming" in html and "Ended" in html
    assert "1 Feb 2020 – 29 Feb 2020" in html


def test_it_counts_todays_wins_against_perday(staff_client, contests, make_win):
    Prize.objects.create(contest=contests, code="gadget", name="Gadget", perday=5)
    for hour in (1, 2, 3):
        make_win(contests, rome(2020, 2, 10, hour))
    make_win(contests, rome(2020, 2, 9, 23))  # yesterday: not today's

    response = get(staff_client, "/")
    row = next(row for row in response.context["rows"] if row.contest.code == "C0001")
    assert (row.wins, row.perday, row.progress_percent) == (3, 50, 6)
    assert b'aria-valuenow="3"' in response.content
    assert b'aria-valuemax="50"' in response.content
    assert response.context["wins_today"] == 3


def test_it_counts_wins_on_each_contests_own_local_day(make_contest, make_win):
    # At 23:30 UTC it is already the next day in Tokyo, still the same one in New York.
    tokyo = make_contest("TOKYO", time_zone="Asia/Tokyo")
    new_york = make_contest("NYC", time_zone="America/New_York")
    now = dt.datetime(2020, 2, 10, 23, 30, tzinfo=dt.UTC)
    make_win(tokyo, now - dt.timedelta(minutes=40))  # 08:50 on the 11th in Tokyo
    make_win(tokyo, now - dt.timedelta(hours=9))  # the 10th in Tokyo: not today there
    make_win(new_york, now - dt.timedelta(hours=1))  # 17:30 on the 10th in New York
    make_win(new_york, now - dt.timedelta(hours=20))  # 22:30 on the 9th: not today

    with time_machine.travel(now, tick=False):
        rows = {row.contest.code: row for row in contests_today(now)}
    assert (rows["TOKYO"].day, rows["TOKYO"].wins) == (dt.date(2020, 2, 11), 1)
    assert (rows["NYC"].day, rows["NYC"].wins) == (dt.date(2020, 2, 10), 1)


def test_it_shows_plays_so_far_from_the_play_counters(staff_client, contests):
    for minute in range(7):
        record_play(contests, rome(2020, 2, 10, 9, minute))
    response = get(staff_client, "/")
    row = next(row for row in response.context["rows"] if row.contest.code == "C0001")
    assert row.plays == 7
    assert response.context["plays_today"] == 7


def test_it_filters_by_status(staff_client, contests):
    response = get(staff_client, "/?status=upcoming")
    assert [row.contest.code for row in response.context["rows"]] == ["C0002"]
    response = get(staff_client, "/?status=ended")
    assert [row.contest.code for row in response.context["rows"]] == ["C0003"]


def test_it_searches_by_code_or_name(staff_client, contests):
    response = get(staff_client, "/?q=primav")
    assert [row.contest.code for row in response.context["rows"]] == ["C0002"]
    response = get(staff_client, "/?q=c0003")
    assert [row.contest.code for row in response.context["rows"]] == ["C0003"]
    response = get(staff_client, "/?q=nothing-like-it")
    assert response.context["rows"] == []
    assert b"No contest matches" in response.content


def test_it_links_each_contest_to_its_page_and_form(staff_client, contests):
    html = get(staff_client, "/").content.decode()
    assert 'href="/contests/C0001/"' in html
    assert 'href="/contests/C0002/edit/"' in html


def test_it_reads_every_contests_figures_in_a_fixed_number_of_queries(staff_client, make_contest):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert get(staff_client, "/").status_code == 200
        return len(captured)

    make_contest("C0001")
    one = queries()
    for number in range(2, 6):
        make_contest(f"C000{number}", start=dt.date(2019, 1, 1), end=dt.date(2019, 1, 31))
    # Four more contests that are not running: not one more query for them.
    assert queries() == one


def test_it_escapes_contest_names(staff_client, make_contest):
    make_contest("C0001", name="<script>alert(1)</script>")
    html = get(staff_client, "/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
