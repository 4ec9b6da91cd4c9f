"""A real job worker and real schedulers (`celery beat`) on the Redis broker, on loopback.

Each test starts its processes with tests/jobs_settings.py: the portal's settings with a
schedule in seconds, and a queue, scheduler lock and schedule state of its own in Redis
(TEST_BROKER_URL, database 15 by default). Every wait is bounded; every process is stopped.
"""

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from contests.models import DayPlan, WinningMoment
from contests.moments.claiming import ensure_plans
from tests.servers import ROOT, app_environment, free_port
from tests.tools import missing

pytestmark = pytest.mark.django_db(transaction=True)

BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY = [sys.executable, "-m", "celery", "-A", "portal.celery_app"]


@pytest.fixture(scope="module", autouse=True)
def broker():
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not running for the broker at {BROKER_URL}: {exc}")


class Processes:
    """The worker and schedulers of one test, their logs, and the worker's metrics."""

    def __init__(self, tmp: Path, schedule: dict[str, float]):
        self.tmp = tmp
        self.key = secrets.token_hex(4)
        self.metrics_port = free_port()
        self.env = app_environment(
            DJANGO_SETTINGS_MODULE="tests.jobs_settings",
            CELERY_BROKER_URL=BROKER_URL,
            TEST_JOBS_KEY=self.key,
            TEST_JOB_SCHEDULE=json.dumps(schedule),
            PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
            JOB_METRICS_PORT=str(self.metrics_port),
            PYTHONUNBUFFERED="1",
        )
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        process = subprocess.Popen(
            [*CELERY, *args, "--loglevel", "INFO"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = process
        return process

    def worker(self) -> subprocess.Popen:
        return self.start("worker", "worker", "--concurrency", "2", "--without-mingle")

    def beat(self, name: str = "beat") -> subprocess.Popen:
        return self.start(name, "beat", "--schedule", str(self.tmp / f"{name}-schedule"))

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def wait_for(self, check, what: str, seconds: float = 45):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in self.running.items():
                if process.poll() is not None and name == "worker":
                    pytest.fail(f"the worker exited ({process.returncode}):\n{self.log(name)}")
            with contextlib.suppress(OSError):
                if result := check():
                    return result
            time.sleep(0.2)
        logs = "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.running)
        pytest.fail(f"no {what} within {seconds} s\n{logs}")

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()

    def metric(self, text: str, name: str, **labels) -> float | None:
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        pattern = rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? (\S+)$"
        found = re.search(pattern, text, re.M)
        return float(found.group(1)) if found else None

    def stop(self, name: str, sig=signal.SIGTERM) -> None:
        process = self.running[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def close(self) -> None:
        for name in list(self.running):
            self.stop(name)
        client = redis.Redis.from_url(BROKER_URL)
        for key in client.scan_iter(f"*portal-test-{self.key}*"):
            client.delete(key)


@pytest.fixture
def processes(tmp_path):
    made = []

    def start(schedule: dict[str, float]) -> Processes:
        made.append(Processes(tmp_path, schedule))
        return made[-1]

    yield start
    for each in made:
        each.close()


def running_contest(make_contest):
    today = timezone.localdate()
    return make_contest(start=today - dt.timedelta(days=2), end=today + dt.timedelta(days=5))


def test_the_scheduled_plan_job_makes_tomorrows_plans_on_the_worker(make_contest, processes):
    contest = running_contest(make_contest)
    tomorrow = contest.local_date(timezone.now()) + dt.timedelta(days=1)
    jobs = processes({"plan_days": 1})
    jobs.worker()
    jobs.beat()
    jobs.wait_for(
        lambda: DayPlan.objects.filter(prize__contest=contest, day=tomorrow).exists(),
        "plan for tomorrow",
    )
    assert "job plan_days succeeded" in jobs.wait_for(
        lambda: "job plan_days succeeded" in jobs.log("worker") and jobs.log("worker"),
        "success line in the worker's log",
    )
    text = jobs.wait_for(
        lambda: "portal_job_last_success_timestamp_seconds{" in jobs.metrics() and jobs.metrics(),
        "job metrics on the worker's port",
    )
    last = jobs.metric(text, "portal_job_last_success_timestamp_seconds", job="plan_days")
    assert last is not None and time.time() - 120 < last <= time.time() + 1
    assert jobs.metric(text, "portal_job_runs_total", job="plan_days", outcome="success") >= 1


def test_two_schedulers_hold_one_lock_and_only_one_sends(make_contest, processes):
    running_contest(make_contest)
    jobs = processes({"refresh_metrics": 1})
    jobs.worker()
    jobs.beat("first")
    jobs.wait_for(lambda: "beat: Acquired lock" in jobs.log("first"), "lock for the first")
    jobs.beat("second")
    jobs.wait_for(lambda: "beat: Starting..." in jobs.log("second"), "second scheduler up")
    jobs.wait_for(
        lambda: jobs.log("first").count("Sending due task refresh_metrics") >= 4,
        "four runs sent by the first scheduler",
    )
    assert "Acquired lock" not in jobs.log("second")
    assert "Sending due task" not in jobs.log("second")
    # Each second's run ran once: as many successes as the one scheduler sent, at most.
    sent = jobs.log("first").count("Sending due task refresh_metrics")
    ran = jobs.log("worker").count("job refresh_metrics succeeded")
    assert ran <= sent

    # The first one stops: the second takes the lock over and sends from then on.
    jobs.stop("first")
    assert "beat: Releasing lock" in jobs.log("first")
    jobs.wait_for(lambda: "beat: Acquired lock" in jobs.log("second"), "lock for the second", 30)
    jobs.wait_for(
        lambda: "Sending due task refresh_metrics" in jobs.log("second"), "runs sent by the second"
    )


def test_a_failing_job_shows_in_the_workers_metrics_and_log(make_contest, processes):
    contest = running_contest(make_contest)
    now = timezone.now()
    ensure_plans(contest, contest.local_date(now) + dt.timedelta(days=1), now)
    moment = WinningMoment.objects.first()
    WinningMoment.objects.filter(pk=moment.pk).update(at=moment.at + dt.timedelta(seconds=1))
    jobs = processes({"verify_plans": 2})
    jobs.worker()
    jobs.beat()
    text = jobs.wait_for(
        lambda: 'outcome="failure"' in jobs.metrics() and jobs.metrics(), "failure in metrics"
    )
    assert jobs.metric(text, "portal_job_runs_total", job="verify_plans", outcome="failure") >= 1
    assert jobs.metric(text, "portal_plans_mismatched") == 1
    never = jobs.metric(text, "portal_job_last_success_timestamp_seconds", job="verify_plans")
    assert never is None
    log = jobs.wait_for(
        lambda: "job verify_plans failed" in jobs.log("worker") and jobs.log("worker"),
        "failure in the worker's log",
    )
    assert re.search(r" ERROR contests\.jobs \[job-verify_plans-\w+\] verify_plans: MISMATCH ", log)
    assert re.search(r" ERROR contests\.jobs \[job-verify_plans-\w+\] job verify_plans failed", log)
    # Celery's own record of the task says it failed too.
    assert re.search(r"Task contests\.jobs\.run_job\[[\w-]+\] raised unexpected: JobFailed", log)


def test_the_schedulers_health_check_asks_whether_the_lock_is_held():
    prefix = f"portal-test-{secrets.token_hex(4)}:beat:"
    env = {**os.environ, "CELERY_BROKER_URL": BROKER_URL, "CELERY_REDBEAT_KEY_PREFIX": prefix}

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "deploy/jobs_healthcheck.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    unheld = check()
    assert unheld.returncode == 1
    assert "no scheduler holds the lock" in unheld.stderr
    client = redis.Redis.from_url(BROKER_URL)
    client.set(f"{prefix}:lock", "token", ex=30)
    try:
        assert check().returncode == 0
    finally:
        client.delete(f"{prefix}:lock")
