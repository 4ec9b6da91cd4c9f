"""The admin: contests to edit; plans, moments and wins to read, never to change."""

import csv
import datetime as dt
import io
import random

import pytest
import time_machine
from django.contrib.auth.models import Permission

from contests.models import Contest, DayPlan, Prize, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

NOON = rome(2020, 2, 10, 12)


@pytest.fixture
def operator_client(staff_user, staff_client):
    """Staff with every permission of the contests app, but not a superuser."""
    staff_user.user_permissions.set(Permission.objects.filter(content_type__app_label="contests"))
    return staff_client


@pytest.fixture
def planned(make_contest):
    contest = make_contest(perday=45)
    with time_machine.travel(NOON, tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), rome(2020, 2, 10, 0), random.Random(7))
    return contest


def get(client, url):
    with time_machine.travel(NOON, tick=False):
        return client.get(url)


def future_times(contest) -> list[str]:
    moments = WinningMoment.objects.filter(contest=contest, at__gt=NOON)
    return [moment.at.astimezone(ROME).strftime("%H:%M:%S") for moment in moments]


def test_it_is_branded(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "Contest Portal administration" in html
    assert "<title>Contests, plans and winners | Contest Portal admin</title>" in html
    assert "/static/img/logo." in html
    assert 'href="/"' in html  # back to the staff portal


def test_it_lists_contests_with_status_and_todays_wins(admin_client, make_contest, make_win):
    contest = make_contest()
    make_win(contest, rome(2020, 2, 10, 9))
    make_contest("C0002", start=dt.date(2020, 3, 1), end=dt.date(2020, 3, 31))
    html = get(admin_client, "/admin/contests/contest/").content.decode()
    assert "Running today" in html and "Upcoming" in html
    assert "1 / 45" in html


def test_it_filters_contests_by_status(admin_client, make_contest):
    make_contest("C0001")
    make_contest("C0002", start=dt.date(2020, 3, 1), end=dt.date(2020, 3, 31))
    make_contest("C0003", start=dt.date(2019, 3, 1), end=dt.date(2019, 3, 31))
    for status, code in [("running", "C0001"), ("upcoming", "C0002"), ("ended", "C0003")]:
        response = get(admin_client, f"/admin/contests/contest/?status={status}")
        assert [c.code for c in response.context["cl"].result_list] == [code]


def test_it_searches_contests_by_code_and_name(admin_client, make_contest):
    make_contest("C0001", name="Caffè")
    make_contest("C0002", name="Gadget")
    response = admin_client.get("/admin/contests/contest/?q=gadg")
    assert [c.code for c in response.context["cl"].result_list] == ["C0002"]


def test_it_escapes_html_in_contest_cells(admin_client, make_contest):
    make_contest(name="<script>alert('x')</script>")
    html = get(admin_client, "/admin/contests/contest/").content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_it_validates_contests_like_the_portal(admin_client):
    response = admin_client.post(
        "/admin/contests/contest/add/",
        {
            "code": "bad code",
            "name": "X",
            "start": "2020-02-10",
            "end": "2020-02-01",
            "time_zone": "Europe/Rome",
            "prizes-TOTAL_FORMS": "1",
            "prizes-INITIAL_FORMS": "0",
            "prizes-MIN_NUM_FORMS": "1",
            "prizes-MAX_NUM_FORMS": "1000",
            "prizes-0-code": "p",
            "prizes-0-name": "P",
            "prizes-0-perday": "0",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Use only letters, digits, hyphens and underscores" in html
    assert "The end date cannot be before the start date." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert not Contest.objects.exists()


def test_it_refuses_to_delete_a_planned_prize_with_a_form_error(admin_client, planned):
    prize = planned.prizes.get()
    response = admin_client.post(
        f"/admin/contests/contest/{planned.pk}/change/",
        {
            "code": planned.code,
            "name": planned.name,
            "start": "2020-02-01",
            "end": "2020-02-29",
            "time_zone": "Europe/Rome",
            "prizes-TOTAL_FORMS": "1",
            "prizes-INITIAL_FORMS": "1",
            "prizes-MIN_NUM_FORMS": "1",
            "prizes-MAX_NUM_FORMS": "1000",
            "prizes-0-id": str(prize.pk),
            "prizes-0-contest": str(planned.pk),
            "prizes-0-code": prize.code,
            "prizes-0-name": prize.name,
            "prizes-0-perday": "45",
            "prizes-0-DELETE": "on",
        },
    )
    assert response.status_code == 200
    assert b"would require deleting the following protected related objects" in response.content
    assert Prize.objects.filter(pk=prize.pk).exists()


def test_it_never_deletes_a_contest_that_has_been_planned(admin_client, planned):
    response = admin_client.get(f"/admin/contests/contest/{planned.pk}/delete/")
    assert response.status_code == 403
    response = admin_client.get("/admin/contests/contest/")
    assert "delete_selected" not in response.content.decode()


def test_it_deletes_a_contest_never_played(admin_client, make_contest):
    contest = make_contest()
    response = admin_client.post(f"/admin/contests/contest/{contest.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Contest.objects.exists()


def test_plans_are_read_only_for_everyone(admin_client, planned):
    plan = DayPlan.objects.get()
    assert admin_client.get("/admin/contests/dayplan/add/").status_code == 403
    assert admin_client.get(f"/admin/contests/dayplan/{plan.pk}/delete/").status_code == 403
    response = admin_client.get(f"/admin/contests/dayplan/{plan.pk}/change/")
    assert response.status_code == 200
    assert b'name="moment_count"' not in response.content  # shown, not editable
    before = DayPlan.objects.values().get()
    admin_client.post(f"/admin/contests/dayplan/{plan.pk}/change/", {"moment_count": "1"})
    assert DayPlan.objects.values().get() == before


def test_it_hides_moments_to_come_from_staff_in_plans(operator_client, planned):
    plan = DayPlan.objects.get()
    html = get(operator_client, f"/admin/contests/dayplan/{plan.pk}/change/").content.decode()
    assert "still to come (their times are shown to superusers only)" in html
    for time in future_times(planned):
        assert time not in html
    past = WinningMoment.objects.filter(at__lte=NOON).first()
    assert past.at.astimezone(ROME).strftime("%H:%M:%S") in html


def test_it_shows_superusers_the_moments_to_come_in_plans(admin_client, planned):
    plan = DayPlan.objects.get()
    html = get(admin_client, f"/admin/contests/dayplan/{plan.pk}/change/").content.decode()
    for time in future_times(planned):
        assert time in html


def test_moments_are_listed_on_their_own_to_superusers_only(operator_client, admin_client, planned):
    assert get(operator_client, "/admin/contests/winningmoment/").status_code == 403
    assert b"Winning moments" not in get(operator_client, "/admin/").content
    assert get(admin_client, "/admin/contests/winningmoment/").status_code == 200


def make_admin_wins(make_contest, make_win):
    contest = make_contest()
    make_win(contest, rome(2020, 2, 3, 10), player="anna", request_id="a-1")
    make_win(contest, rome(2020, 2, 4, 11), player="marco", request_id="m-1")
    return contest


def test_wins_are_read_only_for_everyone(admin_client, make_contest, make_win):
    make_admin_wins(make_contest, make_win)
    win = Win.objects.get(request_id="a-1")
    assert admin_client.get("/admin/contests/win/add/").status_code == 403
    assert admin_client.get(f"/admin/contests/win/{win.pk}/delete/").status_code == 403
    response = admin_client.get(f"/admin/contests/win/{win.pk}/change/")
    assert response.status_code == 200
    assert b'name="player"' not in response.content
    admin_client.post(f"/admin/contests/win/{win.pk}/change/", {"player": "mallory"})
    assert Win.objects.get(pk=win.pk).player == "anna"
    html = admin_client.get("/admin/contests/win/").content.decode()
    assert "delete_selected" not in html


def test_it_searches_wins_by_player_and_request_id(admin_client, make_contest, make_win):
    make_admin_wins(make_contest, make_win)
    for query, expected in [("anna", ["a-1"]), ("m-1", ["m-1"])]:
        response = admin_client.get(f"/admin/contests/win/?q={query}")
        assert [w.request_id for w in response.context["cl"].result_list] == expected


def test_it_filters_wins_by_contest_and_day(admin_client, make_contest, make_win):
    contest = make_admin_wins(make_contest, make_win)
    response = admin_client.get(f"/admin/contests/win/?contest__id__exact={contest.pk}")
    assert len(response.context["cl"].result_list) == 2
    response = admin_client.get("/admin/contests/win/?day__year=2020&day__month=2&day__day=4")
    assert [w.request_id for w in response.context["cl"].result_list] == ["m-1"]


def test_it_exports_selected_wins_as_the_portals_csv(admin_client, make_contest, make_win):
    make_admin_wins(make_contest, make_win)
    win = Win.objects.get(request_id="m-1")
    response = admin_client.post(
        "/admin/contests/win/", {"action": "export_csv", "_selected_action": [str(win.pk)]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="winners-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [
        [
            "contest",
            "prize_code",
            "prize_name",
            "day",
            "won_at",
            "player",
            "client",
            "review",
            "request_id",
        ],
        [
            "C0001",
            "five-percent-discount",
            "Sconto del 5%",
            "2020-02-04",
            "2020-02-04T11:00:00+01:00",
            "marco",
            "",
            "Not reviewed",
            "m-1",
        ],
    ]


def test_it_escapes_html_in_win_cells(admin_client, make_contest, make_win):
    make_win(make_contest(), rome(2020, 2, 3, 10), player="<b>x</b>")
    html = admin_client.get("/admin/contests/win/").content.decode()
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
