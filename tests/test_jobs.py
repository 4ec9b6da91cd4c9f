"""The jobs, run here (`manage.py run_job`, and the in-process schedule of bin/dev).

The real worker and scheduler on the Redis broker: tests/test_job_processes.py.
"""

import datetime as dt
import io
import json
import time

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from contests import jobs
from contests.models import DayPlan, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from portal.celery_app import RUN_JOB, beat_schedule
from tests.plans import contest_with_plan

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def run_job(*args) -> str:
    out = io.StringIO()
    call_command("run_job", *args, stdout=out)
    return out.getvalue()


def log_records(stdout_log) -> list[str]:
    return stdout_log.getvalue().splitlines()


def running_contest(make_contest, code="C0001", **options):
    today = timezone.localdate()
    return make_contest(
        code, start=today - dt.timedelta(days=3), end=today + dt.timedelta(days=3), **options
    )


def test_every_scheduled_job_is_a_job_and_every_job_is_scheduled(settings):
    assert set(settings.JOB_SCHEDULE) == set(jobs.JOBS)
    entries = beat_schedule(settings.JOB_SCHEDULE)
    for name, entry in entries.items():
        assert entry["task"] == RUN_JOB
        assert entry["args"] == (name,)
    # Hourly planning, nightly checks.
    assert str(entries["plan_days"]["schedule"]).startswith("<crontab: 7 * * * *")
    assert str(entries["verify_plans"]["schedule"]).startswith("<crontab: 17 3 * * *")


def test_a_schedule_may_say_seconds():
    [entry] = beat_schedule({"plan_days": 2}).values()
    assert entry["schedule"].run_every == dt.timedelta(seconds=2)


def test_run_job_lists_the_jobs():
    listed = run_job("--list")
    for name in jobs.JOBS:
        assert name in listed


def test_run_job_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="No job 'nope'"):
        run_job("nope")


def test_the_plan_job_makes_todays_and_tomorrows_plans_in_the_contests_zone(make_contest):
    contest = running_contest(make_contest, time_zone="Pacific/Kiritimati")  # UTC+14
    before = sample("portal_job_runs_total", job="plan_days", outcome="success")
    assert "Job plan_days succeeded." in run_job("plan_days")
    today = contest.local_date(timezone.now())
    days = set(DayPlan.objects.filter(prize__contest=contest).values_list("day", flat=True))
    assert days == {today, today + dt.timedelta(days=1)}
    assert all(plan.commitment for plan in DayPlan.objects.all())
    assert sample("portal_job_runs_total", job="plan_days", outcome="success") == before + 1
    last = sample("portal_job_last_success_timestamp_seconds", job="plan_days")
    assert time.time() - 60 < last <= time.time()
    # Again: nothing new, the plans stay as they were.
    commitments = list(DayPlan.objects.order_by("pk").values_list("commitment", flat=True))
    run_job("plan_days")
    assert list(DayPlan.objects.order_by("pk").values_list("commitment", flat=True)) == commitments


def test_a_failing_verify_plans_is_an_error_line_a_metric_and_a_failed_job(
    make_contest, stdout_log
):
    contest = running_contest(make_contest)
    now = timezone.now()
    ensure_plans(contest, contest.local_date(now) + dt.timedelta(days=1), now)
    assert "succeeded" in run_job("verify_plans")
    assert sample("portal_plans_mismatched") == 0
    failures = sample("portal_job_runs_total", job="verify_plans", outcome="failure")

    moment = WinningMoment.objects.first()
    WinningMoment.objects.filter(pk=moment.pk).update(at=moment.at + dt.timedelta(seconds=1))
    with pytest.raises(CommandError, match="Job verify_plans failed: 1 of 1 plan"):
        run_job("verify_plans")
    assert sample("portal_plans_mismatched") == 1
    assert sample("portal_job_runs_total", job="verify_plans", outcome="failure") == failures + 1
    errors = [line for line in log_records(stdout_log) if " ERROR contests.jobs " in line]
    assert any("verify_plans: MISMATCH C0001/five-percent-discount" in line for line in errors)
    assert any("job verify_plans failed" in line for line in errors)


def test_a_job_whose_lock_is_held_is_skipped(make_contest, stdout_log):
    running_contest(make_contest)
    cache.set(jobs._lock_key("plan_days"), "another run", 60)
    assert "skipped" in run_job("plan_days")
    assert not DayPlan.objects.exists()
    assert "job plan_days skipped: another run holds its lock" in stdout_log.getvalue()
    # The lock was someone else's: it stays until they release it.
    assert cache.get(jobs._lock_key("plan_days")) == "another run"
    cache.delete(jobs._lock_key("plan_days"))
    assert "succeeded" in run_job("plan_days")
    assert cache.get(jobs._lock_key("plan_days")) is None


def test_a_failed_job_releases_its_lock(monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(jobs.JOBS, "refresh_metrics", jobs.Job("refresh_metrics", broken, 60))
    with pytest.raises(CommandError, match="boom"):
        run_job("refresh_metrics")
    assert cache.get(jobs._lock_key("refresh_metrics")) is None


def test_job_lines_carry_an_id_of_their_run(make_contest, stdout_log):
    running_contest(make_contest)
    run_job("plan_days")
    [line] = [line for line in log_records(stdout_log) if "job plan_days succeeded" in line]
    assert " [job-plan_days-" in line


def test_purge_waits_for_the_retention_after_the_contests_last_day(make_contest, make_win):
    today = timezone.localdate()
    closed = make_contest(
        "OLD", start=today - dt.timedelta(days=40), end=today - dt.timedelta(days=31)
    )
    recent = make_contest(
        "RECENT", start=today - dt.timedelta(days=40), end=today - dt.timedelta(days=29)
    )
    long_ago = timezone.now() - dt.timedelta(days=35)
    make_win(closed, long_ago, player="alice", request_id="r1")
    make_win(recent, long_ago, player="bob", request_id="r2")
    with override_settings(PLAYER_DATA_RETENTION_DAYS=30):
        run_job("purge_player_data")
    assert dict(Win.objects.values_list("contest__code", "player")) == {
        "OLD": "",
        "RECENT": "bob",
    }


def test_refresh_metrics_counts_todays_due_unclaimed_moments(make_contest):
    contest_with_plan(make_contest, "DUE", due=3, later=2)
    run_job("refresh_metrics")
    assert sample("portal_moments_unclaimed", contest="DUE") == 3
    hour = sample("portal_contest_local_hour", contest="DUE")
    assert hour in (12, 13)  # the contest's zone is at about noon


def test_a_job_reads_the_clock_of_its_run(make_contest):
    contest = running_contest(make_contest)
    with time_machine.travel(timezone.now() + dt.timedelta(days=1), tick=False):
        run_job("plan_days")
    assert DayPlan.objects.filter(
        prize__contest=contest, day=timezone.localdate() + dt.timedelta(days=2)
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_bin_dev_runs_the_schedule_in_its_own_process(make_contest, monkeypatch):
    """JOBS_IN_PROCESS: Celery's scheduler in a thread, the jobs run eagerly in it."""
    import portal.celery_app as celery_app

    contest = running_contest(make_contest)
    monkeypatch.setattr(celery_app, "_in_process", None)
    with override_settings(JOBS_IN_PROCESS=True, JOB_SCHEDULE={"plan_days": 0.2}):
        thread = celery_app.start_in_process_scheduler()
        try:
            assert thread is not None
            assert celery_app.start_in_process_scheduler() is thread  # one per process
            tomorrow = contest.local_date(timezone.now()) + dt.timedelta(days=1)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if DayPlan.objects.filter(prize__contest=contest, day=tomorrow).exists():
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the in-process schedule made no plan within 20 s")
        finally:
            thread.stop()
            thread.join(10)
    assert not thread.is_alive()


def test_without_jobs_in_process_nothing_is_started(settings):
    from portal.celery_app import start_in_process_scheduler

    settings.JOBS_IN_PROCESS = False
    assert start_in_process_scheduler() is None


def test_the_json_schedule_of_the_test_processes_is_valid():
    # tests/jobs_settings.py reads TEST_JOB_SCHEDULE as JSON: seconds per job.
    assert beat_schedule(json.loads('{"plan_days": 1, "verify_plans": 1}'))


@pytest.mark.django_db(transaction=True)
def test_the_development_server_runs_the_schedule_with_nothing_else(make_contest, tmp_path):
    """What bin/dev starts: runserver with JOBS_IN_PROCESS, no broker, no worker."""
    import subprocess
    import sys

    from tests.servers import ROOT, app_environment, free_port

    contest = running_contest(make_contest)
    env = app_environment(
        DJANGO_SETTINGS_MODULE="tests.jobs_settings",
        TEST_JOB_SCHEDULE=json.dumps({"plan_days": 1}),
        JOBS_IN_PROCESS="true",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{free_port()}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            tomorrow = contest.local_date(timezone.now()) + dt.timedelta(days=1)
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and server.poll() is None:
                if DayPlan.objects.filter(prize__contest=contest, day=tomorrow).exists():
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"no plan from the development server:\n{log.read_text()[-3000:]}")
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert "job plan_days succeeded" in log.read_text()
