"""Creating and editing a contest with its prizes in one form."""

import datetime as dt
import random

import pytest
import time_machine

from contests.models import Contest, DayPlan, Prize
from contests.moments.claiming import ensure_plans
from tests.clock import rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db

NOON = rome(2020, 2, 10, 12)


def contest_data(**overrides) -> dict:
    data = {
        "code": "C0007",
        "name": "Vinci un caffè",
        "start": "2020-02-10",
        "end": "2020-02-20",
        "time_zone": "Europe/Rome",
        "prizes-TOTAL_FORMS": "1",
        "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "1",
        "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-code": "coffee",
        "prizes-0-name": "Un caffè",
        "prizes-0-perday": "30",
    }
    data.update(overrides)
    return data


def edit_data(contest: Contest, **overrides) -> dict:
    """The edit form as the browser sends it back, untouched unless overridden."""
    prizes = list(contest.prizes.order_by("pk"))
    data = {
        "code": contest.code,
        "name": contest.name,
        "start": contest.start.isoformat(),
        "end": contest.end.isoformat(),
        "time_zone": contest.time_zone,
        "prizes-TOTAL_FORMS": str(len(prizes) + 1),
        "prizes-INITIAL_FORMS": str(len(prizes)),
        "prizes-MIN_NUM_FORMS": "1",
        "prizes-MAX_NUM_FORMS": "1000",
    }
    for index, prize in enumerate(prizes):
        data |= {
            f"prizes-{index}-id": str(prize.pk),
            f"prizes-{index}-contest": str(contest.pk),
            f"prizes-{index}-code": prize.code,
            f"prizes-{index}-name": prize.name,
            f"prizes-{index}-perday": str(prize.perday),
        }
    data.update(overrides)
    return data


def post(client, url, data):
    with time_machine.travel(NOON, tick=False):
        return client.post(url, data)


def test_the_new_contest_form_is_for_staff_only(client, outsider_client, staff_client):
    assert_staff_only("/new-contest/", client, outsider_client, staff_client)


def test_the_edit_form_is_for_staff_only(client, outsider_client, staff_client, make_contest):
    make_contest()
    assert_staff_only("/contests/C0001/edit/", client, outsider_client, staff_client)


def test_it_offers_every_time_zone_with_the_sites_as_default(staff_client):
    response = staff_client.get("/new-contest/")
    html = response.content.decode()
    assert '<option value="Europe/Rome" selected>' in html
    assert '<option value="America/New_York">' in html
    assert '<option value="Asia/Tokyo">' in html


def test_it_creates_a_contest_with_its_prize(staff_client):
    response = post(staff_client, "/new-contest/", contest_data())
    assert response.status_code == 302
    assert response["Location"] == "/contests/C0007/"
    contest = Contest.objects.get(code="C0007")
    assert (contest.name, contest.start, contest.end) == (
        "Vinci un caffè",
        dt.date(2020, 2, 10),
        dt.date(2020, 2, 20),
    )
    assert list(contest.prizes.values_list("code", "name", "perday")) == [
        ("coffee", "Un caffè", 30)
    ]


def assert_field_error(response, field: str, message: str) -> None:
    """The form is shown again with `message` right below the field `field`."""
    assert response.status_code == 200
    html = response.content.decode()
    field_at = html.index(f' name="{field}"')
    next_field_at = html.find(' name="', field_at + 1)
    error_at = html.index(message)
    assert field_at < error_at < next_field_at, f"{message!r} is not next to {field}"
    assert 'class="invalid-feedback"' in html


def test_it_refuses_an_end_before_the_start(staff_client):
    response = post(staff_client, "/new-contest/", contest_data(end="2020-02-01"))
    assert_field_error(response, "end", "The end date cannot be before the start date.")
    assert not Contest.objects.exists()


def test_it_refuses_zero_wins_per_day(staff_client):
    response = post(staff_client, "/new-contest/", contest_data(**{"prizes-0-perday": "0"}))
    assert_field_error(
        response, "prizes-0-perday", "Ensure this value is greater than or equal to 1."
    )
    assert not Contest.objects.exists()


@pytest.mark.parametrize("code", ["C 0007", "C0007?x=1", "-C0007", "città"])
def test_it_refuses_a_code_that_is_not_url_safe(staff_client, code):
    response = post(staff_client, "/new-contest/", contest_data(code=code))
    assert_field_error(response, "code", "Use only letters, digits, hyphens and underscores")
    assert not Contest.objects.exists()


def test_it_refuses_a_code_already_taken(staff_client, make_contest):
    make_contest("C0007")
    response = post(staff_client, "/new-contest/", contest_data())
    assert_field_error(response, "code", "Contest with this Code already exists.")
    assert Contest.objects.count() == 1


def test_it_refuses_two_prizes_with_one_code(staff_client):
    data = contest_data(
        **{
            "prizes-TOTAL_FORMS": "2",
            "prizes-1-code": "coffee",
            "prizes-1-name": "Another",
            "prizes-1-perday": "3",
        }
    )
    response = post(staff_client, "/new-contest/", data)
    assert response.status_code == 200
    assert b"Please correct the duplicate data for code" in response.content
    assert not Contest.objects.exists()


def test_it_needs_at_least_one_prize(staff_client):
    data = contest_data(**{"prizes-0-code": "", "prizes-0-name": "", "prizes-0-perday": ""})
    response = post(staff_client, "/new-contest/", data)
    assert_field_error(response, "prizes-0-code", "This field is required.")
    assert not Contest.objects.exists()


def test_it_keeps_at_least_one_prize(staff_client, make_contest):
    contest = make_contest()
    response = post(
        staff_client, "/contests/C0001/edit/", edit_data(contest, **{"prizes-0-DELETE": "on"})
    )
    assert response.status_code == 200
    assert b"A contest needs at least one prize." in response.content
    assert contest.prizes.count() == 1


def test_it_refuses_an_unknown_time_zone(staff_client):
    response = post(staff_client, "/new-contest/", contest_data(time_zone="Mars/Olympus"))
    assert_field_error(response, "time_zone", "Select a valid choice.")


def test_it_edits_a_contest_and_adds_a_prize(staff_client, make_contest):
    contest = make_contest()
    data = edit_data(
        contest,
        name="Vinci due sconti",
        **{"prizes-1-code": "gadget", "prizes-1-name": "Gadget", "prizes-1-perday": "5"},
    )
    response = post(staff_client, "/contests/C0001/edit/", data)
    assert response.status_code == 302
    contest.refresh_from_db()
    assert contest.name == "Vinci due sconti"
    assert sorted(contest.prizes.values_list("code", flat=True)) == [
        "five-percent-discount",
        "gadget",
    ]


def test_it_leaves_the_blank_prize_row_alone(staff_client, make_contest):
    contest = make_contest()
    response = post(staff_client, "/contests/C0001/edit/", edit_data(contest))
    assert response.status_code == 302
    assert contest.prizes.count() == 1


def test_it_says_a_perday_change_applies_from_the_next_unplanned_day(staff_client, make_contest):
    contest = make_contest()
    with time_machine.travel(NOON, tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), NOON, random.Random(1))
        page = staff_client.get("/contests/C0001/edit/")
    assert b"applies from the next day not yet planned" in page.content
    assert b"today is planned already" in page.content

    response = post(
        staff_client, "/contests/C0001/edit/", edit_data(contest, **{"prizes-0-perday": "60"})
    )
    assert response.status_code == 302
    assert Prize.objects.get().perday == 60
    # Today's plan is the record of today: it keeps the perday it was made with.
    assert DayPlan.objects.get().moment_count == 45
    follow = staff_client.get(response["Location"])
    assert b"five-percent-discount: 60 wins per day from Tue 11 Feb 2020" in follow.content


def test_it_refuses_to_remove_a_prize_that_has_plans(staff_client, make_contest):
    contest = make_contest()
    Prize.objects.create(contest=contest, code="gadget", name="Gadget", perday=5)
    with time_machine.travel(NOON, tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), NOON, random.Random(1))
    data = edit_data(contest, **{"prizes-0-DELETE": "on"})
    response = post(staff_client, "/contests/C0001/edit/", data)
    assert response.status_code == 200
    assert b"Prize five-percent-discount cannot be removed: it already has day plans" in (
        response.content
    )
    assert contest.prizes.count() == 2


def test_it_removes_a_prize_that_was_never_planned(staff_client, make_contest):
    contest = make_contest()
    gadget = Prize.objects.create(contest=contest, code="gadget", name="Gadget", perday=5)
    index = list(contest.prizes.order_by("pk")).index(gadget)
    response = post(
        staff_client,
        "/contests/C0001/edit/",
        edit_data(contest, **{f"prizes-{index}-DELETE": "on"}),
    )
    assert response.status_code == 302
    assert list(contest.prizes.values_list("code", flat=True)) == ["five-percent-discount"]


def test_it_offers_removal_only_for_saved_prizes(staff_client, make_contest):
    make_contest()
    html = staff_client.get("/contests/C0001/edit/").content.decode()
    assert 'name="prizes-0-DELETE"' in html
    assert 'name="prizes-1-DELETE"' not in html  # the blank row


def test_it_answers_with_a_form_error_if_a_prize_is_planned_while_being_removed(
    staff_client, make_contest, monkeypatch
):
    contest = make_contest()
    with time_machine.travel(NOON, tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), NOON, random.Random(1))
    Prize.objects.create(contest=contest, code="gadget", name="Gadget", perday=5)
    # As if a play made the plan after the form was checked: the delete itself hits PROTECT.
    monkeypatch.setattr("contests.staff.forms.BasePrizeFormSet.clean", lambda formset: None)
    data = edit_data(contest, name="Renamed", **{"prizes-0-DELETE": "on"})
    response = post(staff_client, "/contests/C0001/edit/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("A prize you removed has just been planned, so it was kept.") == 1
    contest.refresh_from_db()
    assert contest.name == "Vinci uno sconto"  # nothing was saved
    assert contest.prizes.count() == 2


def test_it_sets_and_clears_the_per_player_cap(staff_client, make_contest):
    post(staff_client, "/new-contest/", contest_data(wmax="2"))
    contest = Contest.objects.get(code="C0007")
    assert contest.wmax == 2
    post(staff_client, "/contests/C0007/edit/", edit_data(contest, wmax=""))
    contest.refresh_from_db()
    assert contest.wmax is None


def test_it_refuses_a_cap_of_zero(staff_client):
    response = post(staff_client, "/new-contest/", contest_data(wmax="0"))
    assert_field_error(response, "wmax", "Ensure this value is greater than or equal to 1.")


def test_auditors_and_staff_without_the_role_cannot_create_or_edit(
    auditor_client, make_contest, django_user_model, client
):
    contest = make_contest()
    no_role = django_user_model.objects.create_user("nora", is_staff=True)
    client.force_login(no_role)
    for refused in (auditor_client, client):
        assert refused.get("/new-contest/").status_code == 403
        assert refused.get("/contests/C0001/edit/").status_code == 403
        assert post(refused, "/new-contest/", contest_data()).status_code == 403
        changed = edit_data(contest, name="Changed")
        assert post(refused, "/contests/C0001/edit/", changed).status_code == 403
        # They still see the contest, without the buttons that would lead to a refusal.
        page = refused.get("/contests/C0001/").content.decode()
        assert "/contests/C0001/edit/" not in page and "/new-contest/" not in page
    assert not Contest.objects.filter(code="C0007").exists()
    assert Contest.objects.get().name == "Vinci uno sconto"
