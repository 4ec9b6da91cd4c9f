"""Trusted timestamps (issue 18, item 1): every plan's commitment is stamped by an RFC 3161
TSA on the worker, published beside it, and checked by verify_plans. The TSA is real:
openssl on loopback (tests/tsa.py)."""

import base64
import datetime as dt
import io
import json
import subprocess

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from contests import jobs
from contests.evidence import timestamps
from contests.evidence.configuration import check_timestamping
from contests.models import DayPlan, PlanDocument, Timestamp, TimestampRequest
from contests.moments.audit import check_plan, recompute_commitment
from contests.moments.claiming import ensure_plans
from tests.tsa import local_tsa

pytestmark = pytest.mark.django_db


@pytest.fixture
def tsa(tmp_path):
    with (
        local_tsa(tmp_path / "tsa") as authority,
        override_settings(TSA_URL=authority.url, TSA_CA_CERTIFICATE=str(authority.ca_certificate)),
    ):
        yield authority


@pytest.fixture
def tomorrow_planned(make_contest):
    """A contest running now, with tomorrow's plan made (in Europe/Rome)."""
    today = timezone.now().date()
    contest = make_contest(start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=5))
    tomorrow = contest.local_date(timezone.now()) + dt.timedelta(days=1)
    ensure_plans(contest, tomorrow, timezone.now())
    return DayPlan.objects.get(prize__contest=contest, day=tomorrow)


def published(client, plan) -> dict:
    response = client.get(f"/contests/{plan.prize.contest.code}/plans/{plan.day}/")
    assert response.status_code == 200
    [entry] = response.json()["data"]["plans"]
    return entry


def test_the_worker_stamps_every_plan_and_the_plan_page_publishes_the_token(
    tsa, tomorrow_planned, client, tmp_path
):
    plan = tomorrow_planned
    assert published(client, plan)["timestamp_token"] is None

    assert jobs.run("stamp_timestamps") == "success"

    entry = published(client, plan)
    token = base64.b64decode(entry["timestamp_token"])
    assert entry["commitment"] == plan.commitment
    # Anyone can check it with openssl alone: the token stamps the published commitment
    # and chains to the TSA's CA.
    (tmp_path / "token.der").write_bytes(token)
    checked = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", plan.commitment, "-token_in",
         "-in", str(tmp_path / "token.der"), "-CAfile", str(tsa.ca_certificate)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Verification: OK" in checked.stdout, checked.stderr
    stamped_at = dt.datetime.fromisoformat(entry["timestamped_at"])
    assert stamped_at < plan.window_start
    assert check_plan(plan) is None
    # Stamped once: the next run has nothing to do.
    jobs.run("stamp_timestamps")
    assert tsa.answered == 1


def test_a_tsa_that_is_down_is_retried_until_it_stamps(tsa, tomorrow_planned):
    tsa.refuse_next = 2
    for _ in range(2):
        with pytest.raises(jobs.JobFailed):
            jobs.run("stamp_timestamps")
    assert not Timestamp.objects.exists()
    assert jobs.run("stamp_timestamps") == "success"
    assert Timestamp.objects.get().request.reference == str(tomorrow_planned.pk)
    assert tsa.refused == 2


def test_request_timestamp_is_generic_and_idempotent(tsa):
    digest = "ab" * 32
    first = timestamps.request_timestamp("recovery_draw", "C0001", digest)
    assert timestamps.request_timestamp("recovery_draw", "C0001", digest) == first
    assert timestamps.stamp_pending() == (1, 0)
    token = first.timestamp.token
    assert (
        timestamps.verify_token(bytes(token), digest, timestamps.trusted_roots()) <= timezone.now()
    )
    with pytest.raises(ValueError):
        timestamps.request_timestamp("recovery_draw", "C0001", "not hex")


def test_without_a_tsa_nothing_is_requested(tomorrow_planned):
    assert timestamps.request_timestamp("plan", "1", "ab" * 32) is None
    assert "not set" in jobs.JOBS["stamp_timestamps"].function()
    assert not TimestampRequest.objects.exists()
    assert check_plan(tomorrow_planned) is None


def verify_plans() -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_plans", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_verify_plans_refuses_a_token_of_another_authority(tsa, tomorrow_planned, tmp_path):
    jobs.run("stamp_timestamps")
    with (
        local_tsa(tmp_path / "other", "Other TSA") as other,
        override_settings(TSA_CA_CERTIFICATE=str(other.ca_certificate)),
    ):
        assert "signature does not verify" in verify_plans()


def test_a_commitment_rewritten_with_its_moments_is_caught_by_the_token(tsa, tomorrow_planned):
    """The database's owner moves a moment and rewrites the commitment to match: the seal
    holds again, but the TSA signed the old commitment."""
    plan = tomorrow_planned
    jobs.run("stamp_timestamps")
    moment = plan.moments.order_by("at").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contests_winningmoment SET at = %s WHERE id = %s",
            [moment.at + dt.timedelta(seconds=1), moment.pk],
        )
        cursor.execute(
            "UPDATE contests_dayplan SET commitment = %s WHERE id = %s",
            [recompute_commitment(plan), plan.pk],
        )
    err = verify_plans()
    assert "MISMATCH" in err and "the token stamps" in err


def test_a_token_made_after_the_first_moment_proves_nothing(tsa, make_contest):
    contest = make_contest()  # February 2020: long over when the TSA stamps it
    with time_machine.travel(dt.datetime(2020, 2, 9, 12, tzinfo=dt.UTC), tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), timezone.now())
    plan = DayPlan.objects.get()
    timestamps.request_timestamp(timestamps.PLAN, str(plan.pk), plan.commitment)
    assert timestamps.stamp_pending() == (1, 0)
    assert "not before its first moment" in check_plan(plan).problem


def test_a_day_under_way_without_its_token_is_counted_for_the_alert(tsa, make_contest):
    today = timezone.now().date()
    contest = make_contest(start=today - dt.timedelta(days=2), end=today + dt.timedelta(days=2))
    ensure_plans(contest, contest.local_date(timezone.now()), timezone.now())
    tsa.refuse_next = 1
    with pytest.raises(jobs.JobFailed):
        jobs.run("stamp_timestamps")
    assert REGISTRY.get_sample_value("portal_plans_unstamped") == 1
    jobs.run("stamp_timestamps")
    assert REGISTRY.get_sample_value("portal_plans_unstamped") == 0


def test_the_ca_certificate_may_be_given_as_pem_text(tsa, tomorrow_planned):
    jobs.run("stamp_timestamps")
    pem = tsa.ca_certificate.read_text().replace("\n", "\\n")  # as an env file writes it
    with override_settings(TSA_CA_CERTIFICATE=pem):
        assert check_plan(tomorrow_planned) is None
    with override_settings(TSA_CA_CERTIFICATE="-----BEGIN CERTIFICATE-----\\nnope"):
        assert "cannot be read" in check_plan(tomorrow_planned).problem


def test_a_finished_days_document_is_stored_only_with_its_tokens(tsa, make_contest, client):
    contest = make_contest()  # February 2020: over
    with time_machine.travel(dt.datetime(2020, 2, 9, 12, tzinfo=dt.UTC), tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), timezone.now())
    plan = DayPlan.objects.get()
    timestamps.request_timestamp(timestamps.PLAN, str(plan.pk), plan.commitment)
    url = "/contests/C0001/plans/2020-02-10/"
    waiting = client.get(url).json()["data"]
    assert waiting["revealed"] and waiting["plans"][0]["timestamp_token"] is None
    assert not PlanDocument.objects.exists()

    timestamps.stamp_pending()
    stored = json.loads(b"".join(client.get(url).streaming_content))["data"]
    assert PlanDocument.objects.exists()
    token = base64.b64decode(stored["plans"][0]["timestamp_token"])
    assert token == bytes(Timestamp.objects.get().token)


def test_the_job_seals_the_closing_record_of_a_contest_just_over(tsa, make_contest):
    today = timezone.now().date()
    make_contest(start=today - dt.timedelta(days=4), end=today - dt.timedelta(days=2))
    make_contest("OLD1", start=dt.date(2020, 2, 1), end=dt.date(2020, 2, 29))
    assert jobs.run("stamp_timestamps") == "success"
    [sealed] = TimestampRequest.objects.filter(kind=timestamps.CLOSING_RECORD)
    assert sealed.reference == "C0001" and sealed.timestamp.token
    jobs.run("stamp_timestamps")
    assert TimestampRequest.objects.filter(kind=timestamps.CLOSING_RECORD).count() == 1


def test_a_tsa_without_a_usable_ca_stops_a_deployment(tsa):
    assert check_timestamping(None) == []
    with override_settings(TSA_CA_CERTIFICATE=""):
        [error] = check_timestamping(None)
    assert error.id == "contests.E101"
    with override_settings(TSA_URL=""):
        assert check_timestamping(None) == []


def test_a_plan_rewritten_and_stamped_again_still_shows_its_first_token(tsa, tomorrow_planned):
    """The owner rewrites a plan before its day and lets the job stamp the new commitment:
    the first token, of the commitment published before, still says it was rewritten."""
    plan = tomorrow_planned
    jobs.run("stamp_timestamps")
    moment = plan.moments.order_by("at").last()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contests_winningmoment SET at = %s WHERE id = %s",
            [moment.at - dt.timedelta(seconds=1), moment.pk],
        )
        cursor.execute(
            "UPDATE contests_dayplan SET commitment = %s WHERE id = %s",
            [recompute_commitment(plan), plan.pk],
        )
    jobs.run("stamp_timestamps")
    assert Timestamp.objects.count() == 2
    plan.refresh_from_db()
    assert "the token stamps" in check_plan(plan).problem
