"""The Celery application: the job worker and the one scheduler (docs/jobs.md).

    celery -A portal.celery_app worker   # runs jobs (scale it like web)
    celery -A portal.celery_app beat     # sends them on schedule; one at a time (a lock)

Both read Django's settings (CELERY_* and JOB_SCHEDULE in portal/settings.py). The jobs
themselves are in contests/jobs.py. Without CELERY_BROKER_URL every job runs in the
process that asks for it, and with JOBS_IN_PROCESS (bin/dev) a thread of the web process
runs the schedule: no extra service on the embedded default.
"""

import datetime as dt
import logging
import os
import threading

from celery import Celery
from celery.schedules import crontab, schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

log = logging.getLogger("contests.jobs")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

# The one task every scheduled job goes through (contests/jobs.py).
RUN_JOB = "contests.jobs.run_job"


def beat_schedule(job_schedule: dict[str, str | float]) -> dict:
    """Celery's beat_schedule from JOB_SCHEDULE: a cron line or seconds, per job name."""
    entries = {}
    for name, when in job_schedule.items():
        if isinstance(when, int | float):
            every = schedule(dt.timedelta(seconds=when))
        else:
            minute, hour, day_of_month, month_of_year, day_of_week = when.split()
            every = crontab(minute, hour, day_of_week, day_of_month, month_of_year)
        # A run that waited longer than its own period is dropped: the next one is due.
        expires = min(every.seconds if isinstance(every, schedule) else 3600, 3600)
        entries[name] = {
            "task": RUN_JOB,
            "args": (name,),
            "schedule": every,
            "options": {"expires": expires},
        }
    return entries


@app.on_after_configure.connect
def _install_schedule(sender, **kwargs):
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings.JOB_SCHEDULE)
    # RedBeat looks for its own settings by name among those set explicitly.
    for name in dir(settings):
        if name.startswith("CELERY_REDBEAT_"):
            sender.conf[name.removeprefix("CELERY_").lower()] = getattr(settings, name)


_in_process: threading.Thread | None = None
_in_process_lock = threading.Lock()


def start_in_process_scheduler() -> threading.Thread | None:
    """Run the schedule in a thread of this process, if JOBS_IN_PROCESS says so (bin/dev).

    Celery's own scheduler, on its in-memory broker with tasks run eagerly: each job runs
    in the scheduler's thread, through the same code as on the worker. Called from
    portal/wsgi.py, which only the serving process imports (runserver's reloader does not).
    """
    global _in_process
    from django.conf import settings

    if not settings.JOBS_IN_PROCESS:
        return None
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        log.warning("JOBS_IN_PROCESS is ignored: CELERY_BROKER_URL is set, run a worker and beat")
        return None
    from celery.beat import EmbeddedService

    with _in_process_lock:
        if _in_process is None:
            # The tasks, registered here: otherwise the scheduler would only send them to
            # the in-memory broker, where no worker reads.
            app.loader.import_default_modules()
            app.conf.beat_schedule = beat_schedule(settings.JOB_SCHEDULE)
            _in_process = EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler")
            _in_process.start()
            log.info("jobs run in this process on the schedule (JOBS_IN_PROCESS)")
    return _in_process
