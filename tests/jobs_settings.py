"""Settings for the job processes the tests start: the portal's, with a schedule of their own.

TEST_JOB_SCHEDULE is JSON ({"plan_days": 1} runs plan_days every second); TEST_JOBS_KEY
isolates one test's queue, scheduler lock and schedule state in the shared Redis.
"""

import json
import os

from portal.settings import *  # noqa: F403

JOB_SCHEDULE = json.loads(os.environ.get("TEST_JOB_SCHEDULE", "{}"))
_key = os.environ.get("TEST_JOBS_KEY", "test")
CELERY_TASK_DEFAULT_QUEUE = f"portal-test-{_key}"
CELERY_REDBEAT_KEY_PREFIX = f"portal-test-{_key}:beat:"
# Failing over in seconds, not half a minute, so the test of it stays short.
CELERY_REDBEAT_LOCK_TIMEOUT = 4
CELERY_BEAT_MAX_LOOP_INTERVAL = 1
