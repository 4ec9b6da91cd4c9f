"""Background jobs: what the worker runs on the schedule, and `manage.py run_job NAME`.

Each job is a function registered here under its name. `run(name)` runs one once: it takes
the job's lock (so two runs of one job never overlap, whoever started them), logs a line
when it ends, and counts it (portal_job_runs_total, portal_job_last_success_timestamp_seconds).
A job that finds something wrong raises, so its run fails where everyone looks: the log,
the metrics, Celery's own record of the task.

The schedule is JOB_SCHEDULE in portal/settings.py; the scheduler (`celery beat`, one at a
time behind RedBeat's lock) sends `contests.jobs.run_job(NAME)` to the worker. Everything
is in docs/jobs.md.
"""

import datetime as dt
import io
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from celery import signals
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections, connections
from django.db.models import Count
from django.utils import timezone

from portal import metrics as exposition
from portal.celery_app import RUN_JOB, app
from portal.request_id import current_request_id

from . import metrics
from .evidence import timestamps
from .models import Contest, WinningMoment
from .staff.closing_seal import seal_closed_contests

log = logging.getLogger("contests.jobs")


class JobFailed(Exception):
    """The job ran and found something wrong (a plan that does not match its seal)."""


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[], str]
    # Longest a run may hold the job's lock: past it, a crashed run no longer blocks.
    lock_seconds: int


JOBS: dict[str, Job] = {}


def job(name: str, *, lock_seconds: int):
    def register(function: Callable[[], str]) -> Callable[[], str]:
        JOBS[name] = Job(name, function, lock_seconds)
        return function

    return register


def _lock_key(name: str) -> str:
    return f"jobs:running:{name}"


def _last_success_key(name: str) -> str:
    return f"jobs:last-success:{name}"


def run(name: str) -> str:
    """Run job `name` once, here: "success" or "skipped" (its lock is held); raise if it fails."""
    job = JOBS[name]
    token = uuid.uuid4().hex
    # SET NX on Redis (cache.add): None means the cache is unreachable, and then the job
    # runs unlocked rather than not at all.
    held = cache.add(_lock_key(name), token, timeout=job.lock_seconds)
    fields = {"job": name}
    if held is False:
        metrics.JOB_RUNS.labels(name, "skipped").inc()
        log.info("job %s skipped: another run holds its lock", name, extra=fields)
        return "skipped"
    # Every line the job logs carries this id, as a request's lines carry the request's.
    context = current_request_id.set(f"job-{name}-{token[:12]}")
    started = time.monotonic()
    try:
        summary = job.function()
    except Exception as exc:
        seconds = time.monotonic() - started
        metrics.JOB_RUNS.labels(name, "failure").inc()
        metrics.JOB_DURATION.labels(name).set(seconds)
        log.error(
            "job %s failed after %.2f s: %s",
            name,
            seconds,
            exc,
            exc_info=not isinstance(exc, JobFailed),
            extra={**fields, "outcome": "failure", "duration_s": round(seconds, 3)},
        )
        raise
    else:
        seconds = time.monotonic() - started
        ended = time.time()
        metrics.JOB_RUNS.labels(name, "success").inc()
        metrics.JOB_DURATION.labels(name).set(seconds)
        metrics.JOB_LAST_SUCCESS.labels(name).set(ended)
        # Kept in the cache too, so a restarted worker still knows (see _worker_ready).
        cache.set(_last_success_key(name), ended, timeout=None)
        log.info(
            "job %s succeeded in %.2f s: %s",
            name,
            seconds,
            summary,
            extra={**fields, "outcome": "success", "duration_s": round(seconds, 3)},
        )
        return "success"
    finally:
        if held and cache.get(_lock_key(name)) == token:
            cache.delete(_lock_key(name))
        current_request_id.reset(context)


@app.task(name=RUN_JOB)
def run_job(name: str) -> str:
    """The Celery task every scheduled job is: run it on this worker."""
    # As around any request: no connection the database has dropped, or kept too long.
    # (On the worker Celery's Django fix-up does it too; in bin/dev's thread only this does.)
    close_old_connections()
    try:
        return run(name)
    finally:
        if app.conf.task_always_eager:
            # bin/dev's scheduler thread: nothing left open between its runs.
            connections.close_all()
        else:
            close_old_connections()


def _command(name: str, *args: str) -> list[str]:
    """Run a management command here and return what it printed, line by line."""
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().splitlines()


# The jobs ----------------------------------------------------------------------------------


@job("plan_days", lock_seconds=30 * 60)
def plan_days() -> str:
    """Plan today and the next day(s) of every active contest, in each contest's zone."""
    lines = _command("plan_days", "--days", str(settings.JOB_PLAN_DAYS))
    return lines[-1] if lines else "nothing to plan"


@job("verify_plans", lock_seconds=3 * 60 * 60)
def verify_plans() -> str:
    """Check every stored plan against its seal: a mismatch fails the job."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_plans", stdout=out, stderr=err)
    except CommandError as exc:
        mismatches = [line for line in err.getvalue().splitlines() if "MISMATCH" in line]
        metrics.PLANS_MISMATCHED.set(len(mismatches))
        for line in mismatches:
            log.error("verify_plans: %s", line.strip(), extra={"job": "verify_plans"})
        raise JobFailed(str(exc)) from None
    metrics.PLANS_MISMATCHED.set(0)
    lines = out.getvalue().splitlines()
    return lines[-1] if lines else "no plans"


@job("stamp_timestamps", lock_seconds=10 * 60)
def stamp_timestamps() -> str:
    """Request a trusted timestamp for every plan not over yet that has none, and ask the
    TSA for every pending one: a failure is retried at the next run (every minute)."""
    if not timestamps.enabled():
        metrics.PLANS_UNSTAMPED.set(0)
        metrics.TIMESTAMPS_PENDING.set(0)
        return "TSA_URL is not set: nothing is timestamped"
    now = timezone.now()
    requested = timestamps.request_plan_timestamps(now) + seal_closed_contests(now)
    stamped, failed = timestamps.stamp_pending()
    metrics.TIMESTAMPS_PENDING.set(timestamps.pending().count())
    metrics.PLANS_UNSTAMPED.set(timestamps.unstamped_plans(timezone.now()))
    summary = f"{requested} requested, {stamped} stamped, {failed} failed"
    if failed:
        raise JobFailed(f"{summary}: the TSA did not stamp (retried at the next run)")
    return summary


@job("purge_player_data", lock_seconds=60 * 60)
def purge_player_data() -> str:
    """Blank the player ids of contests closed more than the retention setting ago."""
    days = settings.PLAYER_DATA_RETENTION_DAYS
    lines = _command("purge_player_data", "--closed-for", str(days))
    return lines[-1] if lines else "nothing to purge"


@job("refresh_metrics", lock_seconds=5 * 60)
def refresh_metrics() -> str:
    """Today's due, unclaimed moments and the local hour of every contest running about now."""
    now = timezone.now()
    utc_today = now.date()
    margin = dt.timedelta(days=1)
    # Contests that ended a day or two ago get their last 0, then drop out.
    contests = Contest.objects.filter(
        start__lte=utc_today + margin, end__gte=utc_today - 2 * margin
    ).only("code", "start", "end", "time_zone")
    due = {
        (row["contest_id"], row["day"]): row["count"]
        for row in WinningMoment.objects.filter(
            claimed=False, at__lte=now, day__gte=utc_today - margin, day__lte=utc_today + margin
        )
        .values("contest_id", "day")
        .annotate(count=Count("id"))
    }
    refreshed = 0
    for contest in contests:
        local = now.astimezone(contest.zone)
        metrics.CONTEST_LOCAL_HOUR.labels(contest.code).set(local.hour)
        metrics.MOMENTS_UNCLAIMED.labels(contest.code).set(due.get((contest.id, local.date()), 0))
        refreshed += 1
    return f"{refreshed} contest(s) refreshed"


@job("deliver_webhooks", lock_seconds=10 * 60)
def deliver_webhooks() -> str:
    """Deliver the webhook events that are due (contests/webhooks/delivery.py)."""
    from .webhooks.delivery import deliver_due

    return str(deliver_due())


# The worker process ------------------------------------------------------------------------


@signals.worker_init.connect
def _worker_starting(**kwargs) -> None:
    # Before the pool forks: files of the last run would be counted again.
    exposition.prepare_directory()


@signals.worker_ready.connect
def _worker_ready(**kwargs) -> None:
    if settings.JOB_METRICS_PORT:
        exposition.serve_on(settings.JOB_METRICS_PORT)
        log.info("job metrics served on port %s", settings.JOB_METRICS_PORT)
    # A job that last succeeded before this worker started is not "never".
    for name in JOBS:
        ended = cache.get(_last_success_key(name))
        if ended:
            metrics.JOB_LAST_SUCCESS.labels(name).set(ended)
