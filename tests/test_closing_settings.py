"""The closing's settings: prize values, the beneficiary and the recovery draw, from the
command, the staff form and the admin; the promoter, one row edited in the admin."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contests.models import Contest, Prize, Promoter

pytestmark = pytest.mark.django_db

CREATE = [
    "C0100", "--name", "Vinci un caffè", "--start", "2026-12-01", "--end", "2026-12-30",
    "--prize-code", "coffee", "--prize-name", "Caffè", "--perday", "20",
]  # fmt: skip


def test_create_contest_sets_the_closing():
    out = StringIO()
    call_command(
        "create_contest", *CREATE, "--prize-value", "1.50", "--beneficiary", "Amici ONLUS",
        "--beneficiary-fiscal-code", "97654321001", "--recovery-draw",
        "--recovery-entries", "per_play", "--recovery-reserves", "5", stdout=out,
    )  # fmt: skip
    contest = Contest.objects.get()
    assert (contest.beneficiary_name, contest.beneficiary_fiscal_code) == (
        "Amici ONLUS",
        "97654321001",
    )
    assert (contest.recovery_draw, contest.recovery_entries, contest.recovery_reserves) == (
        True,
        "per_play",
        5,
    )
    assert Prize.objects.get().value == Decimal("1.50")
    assert "recovery draw" in out.getvalue()
    call_command("create_contest", "C0100", "--prize-value", "2", stdout=StringIO())
    call_command("create_contest", "C0100", "--no-recovery-draw", stdout=StringIO())
    contest.refresh_from_db()
    assert Prize.objects.get().value == Decimal("2.00") and not contest.recovery_draw
    assert contest.recovery_reserves == 5  # left out: kept


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prize-value", "-1"], "not an amount"),
        (["--prize-value", "1.234"], "not an amount"),
        (["--beneficiary-fiscal-code", "12AB"], "fiscal code"),
        (["--recovery-entries", "per_day"], "invalid choice"),
    ],
)
def test_create_contest_refuses_bad_closing_values(flags, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_contest", *CREATE, *flags, stdout=StringIO(), stderr=StringIO())
    assert not Contest.objects.exists()


def test_the_staff_form_saves_values_and_the_recovery_draw(staff_client):
    data = {
        "code": "C0100", "name": "Caffè", "start": "2026-12-01", "end": "2026-12-30",
        "time_zone": "Europe/Rome", "beneficiary_name": "Amici ONLUS",
        "beneficiary_fiscal_code": "97654321001", "recovery_draw": "on",
        "recovery_entries": "per_player", "recovery_reserves": "2",
        "prizes-TOTAL_FORMS": "1", "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "1", "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-code": "coffee", "prizes-0-name": "Caffè", "prizes-0-perday": "20",
        "prizes-0-value": "1.50",
    }  # fmt: skip
    assert staff_client.post("/new-contest/", data).status_code == 302
    contest = Contest.objects.get()
    assert contest.recovery_draw and contest.recovery_reserves == 2
    assert contest.prizes.get().value == Decimal("1.50")
    page = staff_client.get("/contests/C0100/").content.decode()
    assert 'id="prize-pool"' in page


def test_the_promoter_is_one_row_edited_in_the_admin(superuser_client):
    response = superuser_client.get("/admin/contests/promoter/")
    assert response.status_code == 302 and response["Location"].endswith("/promoter/add/")
    data = {"company": "Caffè Roma S.p.A.", "vat_number": "IT01234567890", "address": "Roma"}
    assert superuser_client.post("/admin/contests/promoter/add/", data).status_code == 302
    assert superuser_client.get("/admin/contests/promoter/")["Location"].endswith("/1/change/")
    Promoter(company="Another").save()  # still one row: the settings are site-wide
    assert list(Promoter.objects.values_list("pk", "company")) == [(1, "Another")]
