"""The recovery draw and the closing record in the staff portal and on the public page:
Contest staff hold the draw, Auditors and plain staff read and are refused (and logged)."""

import csv
import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from contests.models import (
    AuditEvent,
    AuditEventKind,
    Participant,
    Promoter,
    RecoveryDraw,
    RecoveryPick,
)
from contests.recovery import procedure, service
from contests.recovery_records import PickRole
from tests.closing import played_contest

pytestmark = pytest.mark.django_db


@pytest.fixture
def contest(make_contest):
    Promoter.objects.create(company="Caffè Roma S.p.A.", vat_number="IT01234567890", address="Roma")
    return played_contest(make_contest)


@pytest.fixture
def plain_staff_client(db) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user("sam", is_staff=True))
    return client


def rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_contest_staff_freeze_and_draw_with_the_buttons(staff_client, contest):
    page = staff_client.get("/contests/C0001/report/").content.decode()
    assert 'id="recovery-freeze"' in page and "Caffè Roma S.p.A." in page
    assert "97654321001" in page and 'id="prize-pool"' in page
    assert staff_client.post("/contests/C0001/recovery/freeze/").status_code == 302
    assert RecoveryDraw.objects.get().state == "frozen"
    assert 'id="recovery-draw"' in staff_client.get("/contests/C0001/report/").content.decode()
    assert staff_client.post("/contests/C0001/recovery/draw/").status_code == 302
    page = staff_client.get("/contests/C0001/report/").content.decode()
    draw = RecoveryDraw.objects.get()
    assert draw.state == "drawn" and draw.drawn_by == "alice"
    assert draw.seed in page and 'id="recovery-winners"' in page and 'id="signatures"' in page
    # The digest the signatures cover is the report CSV's, downloaded in English.
    csv_bytes = b"".join(staff_client.get("/contests/C0001/report.csv").streaming_content)
    assert f'id="record-sha256">{hashlib.sha256(csv_bytes).hexdigest()}<' in page
    # A second press is refused, with a message, and logged with who tried.
    response = staff_client.post("/contests/C0001/recovery/draw/", follow=True)
    assert "already been drawn" in response.content.decode()
    refusal = AuditEvent.objects.get(kind=AuditEventKind.RECOVERY_REFUSED)
    assert refusal.username == "alice" and refusal.user.username == "alice"


@pytest.mark.parametrize("who", ["auditor_client", "plain_staff_client"])
@pytest.mark.parametrize("action", ["freeze", "draw"])
def test_auditors_and_plain_staff_are_refused_and_logged(request, contest, who, action):
    client = request.getfixturevalue(who)
    if action == "draw":
        service.freeze(contest, service.Actor("robot"))
    page = client.get("/contests/C0001/report/")
    assert page.status_code == 200 and b'id="recovery-freeze"' not in page.content
    assert client.post(f"/contests/C0001/recovery/{action}/").status_code == 403
    assert RecoveryDraw.objects.filter(state="drawn").count() == 0
    refusal = AuditEvent.objects.get(kind=AuditEventKind.RECOVERY_REFUSED)
    assert refusal.username in {"audrey", "sam"} and refusal.detail.startswith(action)


def test_auditors_download_the_list_and_plain_staff_cannot(
    auditor_client, plain_staff_client, contest
):
    Participant.objects.create(contest=contest, player='=HYPERLINK("x")', day=contest.start)
    service.freeze(contest, service.Actor("robot"))
    assert plain_staff_client.get("/contests/C0001/recovery/participants.csv").status_code == 403
    response = auditor_client.get("/contests/C0001/recovery/participants.csv")
    assert response.status_code == 200
    table = rows(response)
    assert table[0] == [
        "participant", "client", "client_name", "player", "entries", "sha256", "excluded_because"
    ]  # fmt: skip
    draw = RecoveryDraw.objects.get()
    listed = procedure.parse_canonical_text(draw.participants_text)
    eligible = [row for row in table[1:] if not row[6]]
    assert [row[0].removeprefix("'") for row in eligible] == [e.entrant for e in listed]
    excluded = [row for row in table[1:] if row[6]]
    assert len(excluded) == draw.excluded_count > 0
    assert all(row[6].startswith("won ") and row[4] == "0" for row in excluded)
    hostile = next(row for row in table if 'HYPERLINK("x")' in row[3])
    assert hostile[3] == "'" + '=HYPERLINK("x")'  # shown as text, never a formula
    assert {row[2] for row in eligible} == {"", "Brand"}


def test_the_public_page_shows_digests_then_seed_and_pseudonyms(client, contest):
    assert client.get("/contests/C0001/recovery/").status_code == 404
    service.freeze(contest, service.Actor("robot"))
    before = client.get("/contests/C0001/recovery/").json()["data"]
    draw = RecoveryDraw.objects.get()
    assert before["participants_sha256"] == draw.participants_sha256
    assert before["seed_sha256"] == draw.seed_sha256 and before["seed"] is None
    assert all(p["winners"] == [] for p in before["prizes"])
    service.draw(contest, service.Actor("robot"))
    after = client.get("/contests/C0001/recovery/").json()["data"]
    assert after["seed"] == RecoveryDraw.objects.get().seed
    for line in after["prizes"]:
        winners = RecoveryPick.objects.filter(prize__code=line["prize"], role=PickRole.WINNER)
        expected = [procedure.pseudonym(p.entrant) for p in winners.order_by("rank")]
        assert line["winners"] == expected
    text = client.get("/contests/C0001/recovery/").content.decode()
    assert not any(pick.entrant in text for pick in RecoveryPick.objects.all())


def test_the_record_csv_has_values_and_the_draw(staff_client, contest):
    service.freeze(contest, service.Actor("robot"))
    service.draw(contest, service.Actor("robot"))
    table = rows(staff_client.get("/contests/C0001/report.csv"))
    keyed = {row[0]: row[1:] for row in table if row}
    assert keyed["promoter"] == ["Caffè Roma S.p.A."]
    assert keyed["beneficiary_fiscal_code"] == ["97654321001"]
    assert keyed["seed"] == [RecoveryDraw.objects.get().seed]
    header = table.index(next(row for row in table if row[:1] == ["prize"]))
    gift = next(row for row in table[header:] if row[0] == "gift-card")
    line = dict(zip(table[header], gift, strict=True))
    assert line["value_eur"] == "50.00"
    planned, awarded = int(line["planned"]), int(line["awarded"])
    assert planned == awarded + int(line["recovered"]) + int(line["devolved"])


def test_the_record_page_follows_the_staff_language(staff_client, contest):
    staff_client.cookies["django_language"] = "it"
    page = staff_client.get("/contests/C0001/report/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Devoluto alla ONLUS" in page and "Estrazione di recupero" in page


def test_contest_staff_disqualify_a_recovery_winner_and_auditors_cannot(
    staff_client, auditor_client, contest
):
    service.freeze(contest, service.Actor("robot"))
    service.draw(contest, service.Actor("robot"))
    first = RecoveryPick.objects.filter(role=PickRole.WINNER).order_by("prize__code", "rank")[0]
    form = {"pick": first.pk, "reason": "Not of age"}
    assert auditor_client.post("/contests/C0001/recovery/disqualify/", form).status_code == 403
    assert not hasattr(RecoveryPick.objects.get(pk=first.pk), "disqualification")
    response = staff_client.post("/contests/C0001/recovery/disqualify/", form, follow=True)
    page = response.content.decode()
    reserve = RecoveryPick.objects.get(prize=first.prize, role=PickRole.RESERVE, rank=1)
    assert 'id="recovery-replacements"' in page and reserve.entrant in page
    assert RecoveryPick.objects.get(pk=first.pk).disqualification.replacement == reserve
    nothing = staff_client.post("/contests/C0001/recovery/disqualify/", {"pick": first.pk})
    assert nothing.status_code == 302  # a reason is required: refused with a message
    refusals = AuditEvent.objects.filter(kind=AuditEventKind.RECOVERY_REFUSED)
    assert {e.username for e in refusals} == {"audrey", "alice"}
