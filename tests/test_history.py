"""An append-only history of who changed what (issue 15, item 5): contests, prizes, API
clients, tokens (issued, revoked), reviews, plans made by commands, sign-ins and lockouts;
shown per contest to Auditors and in the admin; staff users with history are deactivated,
never deleted."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import ProtectedError
from django.test import Client

from contests.accounts import has_history
from contests.models import ApiClient, AuditEvent, Contest, Prize
from contests.play.credentials import issue_token
from tests.clock import rome
from tests.test_contest_form import edit_data, post

pytestmark = pytest.mark.django_db


def test_a_portal_edit_leaves_history_rows_naming_who_and_what(make_contest, staff_client):
    contest = make_contest()
    data = edit_data(contest, name="Vinci due sconti", **{"prizes-0-perday": "50"})
    assert post(staff_client, "/contests/C0001/edit/", data).status_code == 302
    [created, changed] = Contest.history.filter(id=contest.pk).order_by("history_id")
    assert (created.history_type, changed.history_type) == ("+", "~")
    assert created.history_user is None  # made by the fixture, outside any request
    assert changed.history_user.username == "alice"
    delta = changed.diff_against(created)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("name", "Vinci uno sconto", "Vinci due sconti")
    ]
    prize = Prize.history.filter(contest_id=contest.pk).latest("history_id")
    assert (prize.history_user.username, prize.perday) == ("alice", 50)


def test_the_contest_history_page_shows_it_to_auditors(make_contest, staff_client, auditor_client):
    contest = make_contest()
    post(staff_client, "/contests/C0001/edit/", edit_data(contest, name="Vinci due sconti"))
    client_ = ApiClient.objects.create(name="Brand")
    client_.contests.add(contest)
    token, _ = issue_token(client_)
    token.revoked_at = rome(2020, 2, 3, 10)
    token.save(update_fields=["revoked_at"])
    call_command("plan_days", "--contest", "C0001", stdout=io.StringIO())
    response = auditor_client.get("/contests/C0001/history/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Contest C0001" in html and "alice" in html
    assert "Vinci uno sconto → Vinci due sconti" in html
    assert "API client enabled" in html and "API client Brand" in html
    assert f"API token {token.prefix}… of Brand" in html
    assert "issued" in html and "revoked" in html
    # Nothing on the page changes anything: it has no form.
    assert '<form method="post"' not in html.split("<main", 1)[1]


def test_plans_made_by_commands_are_recorded(make_contest):
    today = __import__("django.utils.timezone", fromlist=["x"]).localdate()
    make_contest(start=today, end=today)
    call_command("plan_days", "--contest", "C0001", "--days", "1", stdout=io.StringIO())
    [event] = AuditEvent.objects.filter(kind="plan_made_by_command")
    assert event.contest.code == "C0001"
    assert "manage.py plan_days" in event.detail and str(today) in event.detail


def test_reviews_keep_their_history(make_contest, make_win, staff_client):
    win = make_win(make_contest(), rome(2020, 2, 3, 10))
    staff_client.post(f"/winners/{win.pk}/", {"status": "disqualified", "reason": "Duplicate"})
    [record] = win.reviews.model.history.all()
    assert (record.history_type, record.status, record.history_user.username) == (
        "+",
        "disqualified",
        "alice",
    )


def test_sign_ins_are_recorded_and_listed_in_the_admin(staff_user, admin_client):
    Client().post("/accounts/login/", {"username": "alice", "password": "alice-pw-1"})
    assert AuditEvent.objects.filter(kind="signed_in", username="alice").exists()
    page = admin_client.get("/admin/contests/auditevent/")
    assert page.status_code == 200
    assert b"Signed in" in page.content


def test_the_admin_shows_each_contests_history(make_contest, admin_client):
    contest = make_contest()
    page = admin_client.get(f"/admin/contests/contest/{contest.pk}/history/")
    assert page.status_code == 200
    assert b"Created" in page.content or b"created" in page.content.lower()
    listing = admin_client.get("/admin/contests/historicalcontest/")
    assert listing.status_code == 200
    # Read only: no way to add, change or revert from the admin.
    assert admin_client.get("/admin/contests/historicalcontest/add/").status_code == 403
    record = Contest.history.get()
    version = f"/admin/contests/contest/{contest.pk}/history/{record.history_id}/"
    assert admin_client.post(version, {"name": "rewritten"}).status_code == 403
    assert Contest.objects.get().name == "Vinci uno sconto"


def test_auditors_may_read_the_history_in_the_admin(auditor_client, make_contest):
    make_contest()
    assert auditor_client.get("/admin/contests/historicalcontest/").status_code == 200
    assert auditor_client.get("/admin/contests/auditevent/").status_code == 200


def test_history_rows_are_never_changed_or_deleted(make_contest):
    make_contest()
    event = AuditEvent.objects.create(at=rome(2020, 2, 3, 10), kind="signed_in", username="x")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_staff_with_history_are_deactivated_never_deleted(make_contest, staff_client, admin_client):
    contest = make_contest()
    post(staff_client, "/contests/C0001/edit/", edit_data(contest, name="Changed"))
    alice = get_user_model().objects.get(username="alice")
    assert has_history(alice)
    with pytest.raises(ProtectedError):
        alice.delete()
    page = admin_client.get(f"/admin/auth/user/{alice.pk}/change/")
    assert b"/delete/" not in page.content
    assert admin_client.get(f"/admin/auth/user/{alice.pk}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [alice.pk]}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    assert Contest.history.filter(history_user=alice).exists()
    assert AuditEvent.objects.filter(kind="user_deactivated", user=alice).exists()


def test_users_without_history_can_still_be_deleted(db):
    nobody = get_user_model().objects.create_user("temp", password="temp-pw-1")
    nobody.delete()
    assert not get_user_model().objects.filter(username="temp").exists()
