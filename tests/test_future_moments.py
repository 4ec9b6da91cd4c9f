"""Nobody sees the future in production (issue 15, item 3): winning moments still to come
appear on no page and in no admin list for anyone, superusers included, unless
SHOW_FUTURE_MOMENTS allows it — which only the embedded default (DEBUG on) may."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from contests.models import DayPlan, WinningMoment
from tests.plans import contest_with_plan
from tests.test_production_settings import manage, production
from tests.test_security import renderings

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned_today(make_contest):
    """A running contest whose plan for today has a moment due and four still to come."""
    contest = contest_with_plan(make_contest, "C0001", due=1, later=4)
    future = list(WinningMoment.objects.filter(at__gt=timezone.now()))
    # Odd seconds, so that nothing else on a page prints the same strings by chance.
    for index, moment in enumerate(future):
        moment.at += dt.timedelta(minutes=7 * index + 3, seconds=17 + index)
        moment.save(update_fields=["at"])
    return contest, future


def leaks(contest, future, html: str) -> list[str]:
    zones = [contest.time_zone, timezone.get_current_timezone_name(), "UTC"]
    return [text for moment in future for text in renderings(moment.at, zones) if text in html]


@override_settings(SHOW_FUTURE_MOMENTS=False)
def test_a_superusers_contest_page_during_the_day_shows_no_future_time(
    planned_today, superuser_client
):
    contest, future = planned_today
    response = superuser_client.get("/contests/C0001/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Moments still to come" not in html
    assert "superusers only" not in html
    assert not leaks(contest, future, html)


@override_settings(SHOW_FUTURE_MOMENTS=False)
def test_the_admin_shows_a_superuser_no_future_moment(planned_today, superuser_client):
    contest, future = planned_today
    plan = DayPlan.objects.get()
    page = superuser_client.get(f"/admin/contests/dayplan/{plan.pk}/change/")
    assert page.status_code == 200
    assert b"4 still to come (their times are shown to superusers only)" in page.content
    assert not leaks(contest, future, page.content.decode())
    # The list of moments, which would show the ones to come, is not there at all.
    assert superuser_client.get("/admin/contests/winningmoment/").status_code == 403
    moment = future[0]
    assert superuser_client.get(
        f"/admin/contests/winningmoment/{moment.pk}/change/"
    ).status_code in (
        302,
        403,
    )
    index = superuser_client.get("/admin/").content.decode()
    assert "/admin/contests/winningmoment/" not in index


def test_the_embedded_default_shows_them_to_its_local_superuser(planned_today, superuser_client):
    # The tests' settings are the embedded default's here: DEBUG was on when they loaded.
    contest, future = planned_today
    html = superuser_client.get("/contests/C0001/").content.decode()
    assert "superusers only" in html
    assert leaks(contest, future, html)


def test_production_shows_them_to_no_one_and_refuses_the_setting():
    show = "from django.conf import settings; print(settings.SHOW_FUTURE_MOMENTS)"
    result = manage("shell", "-v", "0", "-c", show, environment=production())
    assert result.stdout.strip() == "False", result.stderr
    refused = manage("check", environment=production(DJANGO_SHOW_FUTURE_MOMENTS="true"))
    assert refused.returncode != 0
    assert "DJANGO_SHOW_FUTURE_MOMENTS is refused when DJANGO_DEBUG is off" in refused.stderr
    embedded = manage("shell", "-v", "0", "-c", show, environment={})
    assert embedded.stdout.strip() == "True"
    hidden = manage(
        "shell", "-v", "0", "-c", show, environment={"DJANGO_SHOW_FUTURE_MOMENTS": "false"}
    )
    assert hidden.stdout.strip() == "False"
