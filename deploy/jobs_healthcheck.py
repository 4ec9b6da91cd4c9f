"""Docker's health check of the scheduler: some scheduler holds the schedule's lock.

The scheduler that runs the schedule renews RedBeat's lock in Redis every few seconds; one
that waits for it (started by mistake, or standing by) is healthy too, as long as the lock
is held. Plain redis-py, no Django: it runs every 30 s. docs/jobs.md.
"""

import os
import sys

import redis


def main() -> int:
    url = os.environ.get("CELERY_BROKER_URL", "")
    prefix = os.environ.get("CELERY_REDBEAT_KEY_PREFIX", "portal:beat:")
    if not url:
        print("unhealthy: CELERY_BROKER_URL is not set", file=sys.stderr)
        return 1
    try:
        held = redis.Redis.from_url(url, socket_timeout=4).exists(f"{prefix}:lock")
    except redis.RedisError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not held:
        print("unhealthy: no scheduler holds the lock", file=sys.stderr)
        return 1
    print("ok: the schedule's lock is held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
