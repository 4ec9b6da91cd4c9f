"""A played contest's rules cannot be rewritten (issue 15, item 4): once it has a plan, its
time zone cannot change, its start cannot move past a planned day and its end cannot move
before one — field errors in the portal's form and the admin, command errors, and the
database refuses it too. The closing report always covers every planned day."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from contests.models import Contest
from contests.moments.claiming import ensure_plans
from contests.staff.reports import closing_report
from tests.clock import rome
from tests.test_contest_form import edit_data, post

pytestmark = pytest.mark.django_db

# The contest runs 1–29 February 2020; plans exist for the 10th and the 12th.
PLANNED = [dt.date(2020, 2, 10), dt.date(2020, 2, 12)]


@pytest.fixture
def played(make_contest) -> Contest:
    contest = make_contest(perday=5)
    for day in PLANNED:
        ensure_plans(contest, day, rome(day.year, day.month, day.day))
    return contest


def errors_of(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_the_form_refuses_a_new_time_zone(played, staff_client):
    response = post(staff_client, "/contests/C0001/edit/", edit_data(played, time_zone="UTC"))
    assert response.status_code == 200
    assert errors_of(response, "time_zone") == [
        "The time zone cannot change once the contest has been played: its days were "
        "planned in Europe/Rome."
    ]
    assert Contest.objects.get().time_zone == "Europe/Rome"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "start",
            "2020-02-11",
            "The start cannot move past 2020-02-10, a day that has been planned.",
        ),
        (
            "end",
            "2020-02-11",
            "The end cannot move before 2020-02-12, a day that has been planned.",
        ),
    ],
)
def test_the_form_keeps_the_planned_days_inside_the_contest(
    played, staff_client, field, value, message
):
    response = post(staff_client, "/contests/C0001/edit/", edit_data(played, **{field: value}))
    assert response.status_code == 200
    assert errors_of(response, field) == [message]
    refreshed = Contest.objects.get()
    assert (refreshed.start, refreshed.end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))


def test_the_form_still_changes_what_may_change(played, staff_client):
    data = edit_data(played, name="Nuovo nome", start="2020-02-10", end="2020-03-15")
    response = post(staff_client, "/contests/C0001/edit/", data)
    assert response.status_code == 302
    refreshed = Contest.objects.get()
    assert (refreshed.name, refreshed.start, refreshed.end) == (
        "Nuovo nome",
        dt.date(2020, 2, 10),
        dt.date(2020, 3, 15),
    )


def test_the_admin_refuses_a_new_time_zone_and_a_shorter_end(played, admin_client):
    data = edit_data(played, time_zone="America/New_York", end="2020-02-11")
    data["prizes-TOTAL_FORMS"] = data["prizes-INITIAL_FORMS"]
    response = admin_client.post(f"/admin/contests/contest/{played.pk}/change/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The time zone cannot change once the contest has been played" in html
    assert "The end cannot move before 2020-02-12, a day that has been planned." in html
    assert Contest.objects.get().time_zone == "Europe/Rome"


def test_the_command_refuses_a_new_time_zone(played):
    with pytest.raises(CommandError) as refused:
        call_command("create_contest", "C0001", "--time-zone", "UTC", stdout=io.StringIO())
    assert "time_zone: The time zone cannot change once the contest has been played" in str(
        refused.value
    )
    with pytest.raises(CommandError, match="The start cannot move past 2020-02-10"):
        call_command("create_contest", "C0001", "--start", "2020-02-11", stdout=io.StringIO())
    assert Contest.objects.get().time_zone == "Europe/Rome"


@pytest.mark.parametrize(
    "change",
    [
        {"time_zone": "UTC"},
        {"start": dt.date(2020, 2, 11)},
        {"end": dt.date(2020, 2, 11)},
        {"code": "C0002"},
    ],
)
def test_the_database_refuses_what_the_forms_refuse(played, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        Contest.objects.filter(pk=played.pk).update(**change)
    refreshed = Contest.objects.get()
    assert (refreshed.code, refreshed.time_zone) == ("C0001", "Europe/Rome")
    assert (refreshed.start, refreshed.end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))


def test_the_database_lets_the_rest_change(played, make_contest):
    Contest.objects.filter(pk=played.pk).update(name="Altro", wmax=3, end=dt.date(2020, 3, 1))
    unplayed = make_contest("C0009")
    Contest.objects.filter(pk=unplayed.pk).update(time_zone="UTC", start=dt.date(2020, 2, 20))
    assert Contest.objects.get(code="C0009").time_zone == "UTC"


def test_the_closing_report_covers_every_planned_day(played):
    report = closing_report(played, played.start, played.end)
    covered = {line.day for line in report.days if line.planned}
    assert covered == set(PLANNED)
    assert report.total.planned == 5 * len(PLANNED)
