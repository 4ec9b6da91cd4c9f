"""Trusted timestamps on the real job worker: `celery beat` sends stamp_timestamps, the
worker asks the TSA (openssl on loopback, tests/tsa.py) and stores the token."""

import datetime as dt

import pytest
from django.utils import timezone

from contests.models import DayPlan, Timestamp
from contests.moments.audit import check_plan
from contests.moments.claiming import ensure_plans
from tests.test_job_processes import Processes, broker  # noqa: F401 (the broker check)
from tests.tsa import local_tsa

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_stamps_tomorrows_plan_and_retries_a_tsa_that_was_down(
    make_contest, tmp_path, settings
):
    today = timezone.localdate()
    contest = make_contest(start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=5))
    tomorrow = contest.local_date(timezone.now()) + dt.timedelta(days=1)
    ensure_plans(contest, tomorrow, timezone.now())
    plan = DayPlan.objects.get(day=tomorrow)
    with local_tsa(tmp_path / "tsa") as tsa:
        tsa.refuse_next = 2  # down for the first runs
        jobs = Processes(tmp_path, {"stamp_timestamps": 1})
        jobs.env.update(TSA_URL=tsa.url, TSA_CA_CERTIFICATE=str(tsa.ca_certificate))
        try:
            jobs.worker()
            jobs.beat()
            stamp = jobs.wait_for(lambda: Timestamp.objects.first(), "a timestamp", 60)
            assert "job stamp_timestamps failed" in jobs.log("worker")
        finally:
            jobs.close()
    assert stamp.request.reference == str(plan.pk) and tsa.refused == 2
    settings.TSA_URL, settings.TSA_CA_CERTIFICATE = tsa.url, str(tsa.ca_certificate)
    assert check_plan(plan) is None
