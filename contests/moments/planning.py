"""Planning winning moments: plain Python, no database, no clock.

A day (local midnight to local midnight, its true length) is cut into `count` equal
slots and one moment is drawn inside each. The moment is kept in the early part of its
slot so that the day's last moment still has plenty of plays after it before midnight,
and so the cumulative wins never stray a whole prize from the straight line.
"""

import datetime as dt
import random
import secrets
from collections.abc import Iterator
from zoneinfo import ZoneInfo

HOUR = dt.timedelta(hours=1)

# The share of each slot in which its moment may fall.
EARLY_PART = 0.5

_system_random = secrets.SystemRandom()


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants of the local midnights that begin and end `day`.

    The difference is the day's true length: 23 or 25 hours on DST change days.
    """
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def plan_moments(
    window_start: dt.datetime,
    window_end: dt.datetime,
    count: int,
    rng: random.Random | None = None,
) -> Iterator[dt.datetime]:
    """Yield `count` moments in order, one early in each equal slot of the window.

    Integer microseconds keep every moment inside its own slot, whatever `count`.
    The default generator is the operating system's cryptographic one.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if window_end <= window_start:
        raise ValueError("the window must end after it starts")
    rng = rng or _system_random
    span = (window_end - window_start) // dt.timedelta(microseconds=1)
    for slot in range(count):
        slot_start = span * slot // count
        slot_width = span * (slot + 1) // count - slot_start
        early_width = max(1, int(slot_width * EARLY_PART))
        offset = slot_start + rng.randrange(early_width)
        yield window_start + dt.timedelta(microseconds=offset)
