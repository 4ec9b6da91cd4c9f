"""Sealed plans: anyone can check after the day that the moments were fixed before it."""

import datetime as dt
import hashlib
import json
import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from contests.models import DayPlan, WinningMoment
from contests.moments.claiming import ensure_plans, make_plan
from contests.moments.planning import day_bounds
from contests.moments.sealing import commitment
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def outsider_hash(contest, prize, day, salt, moments):
    """What docs/auditing.md tells an outsider to compute, written from that page."""
    text = f"contest-portal plan v1\ncontest: {contest}\nprize: {prize}\nday: {day}\nsalt: {salt}\n"
    text += "".join(f"{moment}\n" for moment in moments)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_plan_is_sealed_when_it_is_made(make_contest):
    contest = make_contest(perday=5)
    plan = make_plan(contest.prizes.get(), DAY, day_bounds(DAY, ROME)[0])
    plan.refresh_from_db()
    assert re.fullmatch(r"[0-9a-f]{64}", plan.salt)
    moments = [
        at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for at in plan.moments.order_by("at").values_list("at", flat=True)
    ]
    assert plan.commitment == outsider_hash(
        "C0001", "five-percent-discount", DAY, plan.salt, moments
    )


def test_every_plan_has_its_own_salt(make_contest):
    contest = make_contest()
    for offset in range(3):
        ensure_plans(contest, DAY + dt.timedelta(days=offset), rome(2020, 2, 1))
    assert len(set(DayPlan.objects.values_list("salt", flat=True))) == 3


def test_plans_made_ahead_are_sealed_before_their_day(make_contest):
    make_contest()
    with time_machine.travel(rome(2020, 2, 9, 22), tick=False):
        call_command("plan_days", "--days", "2", stdout=StringIO())
    tomorrow = DayPlan.objects.get(day=DAY)
    assert tomorrow.commitment and tomorrow.made_at < day_bounds(DAY, ROME)[0]


def test_the_published_plan_hides_moments_until_the_day_is_over(client, make_contest):
    contest = make_contest(perday=3)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    plan = DayPlan.objects.get()
    with time_machine.travel(rome(2020, 2, 10, 23, 59, 59), tick=False):
        response = client.get("/contests/C0001/plans/2020-02-10/")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["revealed"] is False
    [published] = data["plans"]
    assert published["commitment"] == plan.commitment
    assert published["moment_count"] == 3
    assert "moments" not in published and "salt" not in published
    body = response.content.decode()
    assert plan.salt not in body
    for at in plan.moments.values_list("at", flat=True):
        assert at.astimezone(dt.UTC).strftime("%H:%M:%S") not in body


def test_after_the_day_anyone_can_check_the_seal(client, make_contest):
    contest = make_contest(perday=4)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    with time_machine.travel(rome(2020, 2, 11, 0, 0), tick=False):
        response = client.get("/contests/C0001/plans/2020-02-10/")
    assert response["Content-Type"] == "application/json"
    data = json.loads(b"".join(response.streaming_content))["data"]
    assert data["revealed"] is True
    [published] = data["plans"]
    assert len(published["moments"]) == 4
    recomputed = outsider_hash(
        data["contest"], published["prize"], data["day"], published["salt"], published["moments"]
    )
    assert recomputed == published["commitment"] == DayPlan.objects.get().commitment


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/contests/C0001/plans/2020-13-01/", 400, "Invalid date"),
        ("/contests/C0001/plans/yesterday/", 400, "Invalid date"),
        ("/contests/C9999/plans/2020-02-10/", 404, "Contest not found"),
        ("/contests/C0001/plans/2020-02-11/", 404, "Plan not found"),
    ],
)
def test_the_published_plan_answers_errors_in_the_envelope(
    client, make_contest, path, status, title
):
    contest = make_contest()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["title"] == title


def verify(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_plans", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_plans_passes_untouched_plans(make_contest):
    contest = make_contest(perday=50)
    for offset in range(3):
        ensure_plans(contest, DAY + dt.timedelta(days=offset), rome(2020, 2, 1))
    out, _ = verify()
    assert out.strip() == "Checked 3 plans: every one matches its seal."


def test_verify_plans_catches_a_moved_moment(make_contest):
    contest = make_contest(perday=50)
    ensure_plans(contest, DAY, rome(2020, 2, 1))
    ensure_plans(contest, DAY + dt.timedelta(days=1), rome(2020, 2, 1))
    moment = WinningMoment.objects.filter(day=DAY).order_by("at")[10]
    WinningMoment.objects.filter(pk=moment.pk).update(at=moment.at + dt.timedelta(seconds=1))
    with pytest.raises(CommandError, match=r"1 of 2 plans do not match their seal"):
        verify()
    with pytest.raises(CommandError):
        verify("--contest", "C0001", "--date", "2020-02-10")
    out, _ = verify("--date", "2020-02-11")
    assert "matches its seal" in out


def test_verify_plans_catches_a_deleted_moment(make_contest):
    contest = make_contest(perday=5)
    ensure_plans(contest, DAY, rome(2020, 2, 1))
    WinningMoment.objects.filter(pk=WinningMoment.objects.first().pk).delete()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_plans", stdout=StringIO(), stderr=err)
    assert "MISMATCH C0001/five-percent-discount 2020-02-10: 4 moments stored, 5 planned" in (
        err.getvalue()
    )


def test_a_plan_cannot_be_edited(make_contest):
    contest = make_contest()
    ensure_plans(contest, DAY, rome(2020, 2, 1))
    plan = DayPlan.objects.get()
    plan.moment_count = 1
    with pytest.raises(PermissionError):
        plan.save()
    # Asking again returns the plan as it was, never a new draw.
    assert make_plan(contest.prizes.get(), DAY, rome(2020, 2, 5)).commitment == plan.commitment


def test_codes_cannot_change_once_a_contest_has_plans(make_contest):
    contest = make_contest()
    contest.code = "C0002"
    contest.full_clean()  # no plan yet: a rename is fine
    contest.code = "C0001"
    ensure_plans(contest, DAY, rome(2020, 2, 1))
    contest.code = "C0002"
    with pytest.raises(ValidationError, match="cannot change once the contest has been played"):
        contest.full_clean()
    prize = contest.prizes.get()
    prize.code = "other"
    with pytest.raises(ValidationError, match="cannot change once the prize has plans"):
        prize.full_clean()


def test_the_auditing_guides_worked_example_is_true():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "auditing.md").read_text()
    salt = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
    moments = [
        dt.datetime(2026, 11, 26, 23, 3, 12, 345678, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 27, 7, 41, 5, 1200, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 27, 15, 22, 48, 999001, tzinfo=dt.UTC),
    ]
    digest = commitment("C0001", "five-percent-discount", dt.date(2026, 11, 27), salt, moments)
    assert f'"commitment": "{digest}"' in guide
    assert f"{digest}  -" in guide


def test_a_finished_days_document_is_built_once_stored_and_streamed(
    client, make_contest, django_assert_max_num_queries, monkeypatch
):
    from contests.models import PlanDocument, PlanDocumentPart
    from contests.moments import audit

    contest = make_contest(perday=3000)
    make_contest("C0002", perday=2)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    monkeypatch.setattr(audit, "DOCUMENT_PART", 10_000)  # several parts, not one
    with time_machine.travel(rome(2020, 2, 11, 0, 0), tick=False):
        expected = json.dumps({"data": audit.public_plans(contest, DAY, rome(2020, 2, 11))})
        first = client.get("/contests/C0001/plans/2020-02-10/")
        body = b"".join(first.streaming_content)
        assert body.decode() == expected  # what JsonResponse wrote before, byte for byte
        [document] = PlanDocument.objects.all()
        parts = list(PlanDocumentPart.objects.filter(document=document).order_by("number"))
        assert len(parts) > 1
        assert "".join(part.text for part in parts) == expected
        # Asked again: streamed as stored, never rebuilt (one read of the document, then
        # its parts a few at a time; no moment is read).
        with django_assert_max_num_queries(4):
            again = b"".join(client.get("/contests/C0001/plans/2020-02-10/").streaming_content)
        assert again == body
    assert PlanDocument.objects.count() == 1
    assert PlanDocumentPart.objects.count() == len(parts)


def test_a_day_not_over_is_never_stored(client, make_contest):
    from contests.models import PlanDocument

    contest = make_contest(perday=3)
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    with time_machine.travel(rome(2020, 2, 10, 23, 0), tick=False):
        assert client.get("/contests/C0001/plans/2020-02-10/").json()["data"]["revealed"] is False
    assert not PlanDocument.objects.exists()
