"""The Auditor role: sees contests, past plans, wins, reviews and reports; changes nothing."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group

from contests.models import ApiClient, Contest, DayPlan, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.roles import AUDITOR
from tests.clock import rome

pytestmark = pytest.mark.django_db

NOON = rome(2020, 2, 10, 12)


@pytest.fixture
def played(make_contest, make_win):
    contest = make_contest(perday=24)
    ensure_plans(contest, dt.date(2020, 2, 10), rome(2020, 2, 10, 0))
    win = make_win(contest, rome(2020, 2, 10, 9), player="p-1", request_id="r-1")
    return contest, win


def get(client, url):
    with time_machine.travel(NOON, tick=False):
        return client.get(url)


def post(client, url, data):
    with time_machine.travel(NOON, tick=False):
        return client.post(url, data)


def test_the_group_holds_only_view_permissions(db):
    codenames = Group.objects.get(name=AUDITOR).permissions.values_list("codename", flat=True)
    assert codenames and all(name.startswith("view_") for name in codenames)


@pytest.mark.parametrize(
    "url",
    ["/", "/contests/C0001/", "/contests/C0001/?day=2020-02-10", "/winners/", "/winners/export/"],
)
def test_auditors_read_the_portal(auditor_client, played, url):
    assert get(auditor_client, url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/contests/contest/",
        "/admin/contests/contest/{contest}/change/",
        "/admin/contests/win/",
        "/admin/contests/win/{win}/change/",
        "/admin/contests/dayplan/",
        "/admin/contests/winreview/",
        "/admin/contests/apiclient/",
    ],
)
def test_auditors_read_the_admin(auditor_client, played, url):
    contest, win = played
    response = get(auditor_client, url.format(contest=contest.pk, win=win.pk))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/admin/contests/contest/add/",
        "/admin/contests/contest/{contest}/delete/",
        "/admin/contests/prize/add/",
        "/admin/contests/apiclient/add/",
        "/admin/contests/apitoken/add/",
        "/admin/contests/winningmoment/",
        "/admin/auth/user/",
        "/admin/auth/group/",
    ],
)
def test_auditors_are_refused_every_change_in_the_admin(auditor_client, played, url):
    contest, _ = played
    assert get(auditor_client, url.format(contest=contest.pk)).status_code in (403, 404)


def test_an_auditors_post_to_a_contest_changes_nothing(auditor_client, played):
    contest, _ = played
    response = post(
        auditor_client,
        f"/admin/contests/contest/{contest.pk}/change/",
        {"code": "C0001", "name": "Changed", "start": "2020-02-01", "end": "2020-02-29"},
    )
    assert response.status_code == 403
    assert Contest.objects.get().name == "Vinci uno sconto"


def test_auditors_get_no_actions_that_change_things(auditor_client, played):
    ApiClient.objects.create(name="Acme")
    for url, refused in [
        ("/admin/contests/apiclient/", "issue_tokens"),
        ("/admin/contests/apitoken/", "revoke"),
    ]:
        response = get(auditor_client, url)
        action_form = response.context.get("action_form")
        choices = [name for name, _ in action_form.fields["action"].choices] if action_form else []
        assert refused not in choices


def test_auditors_never_see_a_moment_before_it_has_passed(auditor_client, played):
    contest, _ = played
    plan = DayPlan.objects.get(prize__contest=contest)
    future = WinningMoment.objects.filter(plan=plan, at__gt=NOON)
    past = WinningMoment.objects.filter(plan=plan, at__lte=NOON)
    assert future.exists() and past.exists()
    pages = [
        get(auditor_client, f"/admin/contests/dayplan/{plan.pk}/change/"),
        get(auditor_client, "/contests/C0001/?day=2020-02-10"),
    ]
    for response in pages:
        html = response.content.decode()
        for moment in future:
            assert moment.at.astimezone(contest.zone).strftime("%H:%M:%S") not in html
    plan_page = pages[0].content.decode()
    assert any(m.at.astimezone(contest.zone).strftime("%H:%M:%S") in plan_page for m in past)
