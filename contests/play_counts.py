"""Counting plays per contest, local day and hour without a database write per play.

Each play increments a counter in the cache (Redis INCR in production). A counter holds
the absolute count of its hour: when it is missing (first play of the hour, or the cache
was emptied) it starts from what the database already has. Counts move to the database
every FLUSH_EVERY plays of an hour, whenever someone reads them, and with the
`flush_play_counts` command; the database keeps the larger of the two values, so a flush
that arrives late never lowers a count.

What can be lost: only if Redis itself loses its data, the plays counted since the last
flush of that hour — fewer than FLUSH_EVERY per contest and hour not yet read or flushed.
A process that restarts loses nothing: the counters live in Redis, not in the process.
"""

import datetime as dt
from collections.abc import Callable

from django.core.cache import cache
from django.db.models import Value
from django.db.models.functions import Greatest

from .models import PlayCount
from .moments.planning import HOUR, day_bounds

FLUSH_EVERY = 100
# Long enough for yesterday's counters to be read and flushed after midnight.
COUNTER_TTL = 8 * 24 * 3600


def _key(contest_id: int, day: dt.date, hour: int) -> str:
    return f"plays:{contest_id}:{day.isoformat()}:{hour}"


def _hour_of(day_start: dt.datetime, now: dt.datetime) -> int:
    return int((now - day_start) / HOUR)


def _slot(contest, now: dt.datetime) -> tuple[dt.date, int]:
    day = contest.local_date(now)
    return day, _hour_of(day_bounds(day, contest.zone)[0], now)


def counter_key(contest, now: dt.datetime) -> str:
    """The cache key (before the cache's prefix) that counts the plays of `contest` at `now`."""
    return _key(contest.id, *_slot(contest, now))


def record_play(contest, now: dt.datetime) -> None:
    """Count one play of `contest` (anything with id, zone and local_date) at `now`."""
    day, hour = _slot(contest, now)
    key = _key(contest.id, day, hour)
    try:
        plays = cache.incr(key)
    except ValueError:
        # A new hour, or a cache that lost its data: carry on from the database's count.
        cache.add(key, _stored(contest.id, day, hour), COUNTER_TTL)
        try:
            plays = cache.incr(key)
        except ValueError:
            return  # the cache is unreachable: this play goes uncounted
    if plays is not None and plays % FLUSH_EVERY == 0:
        _store(contest.id, day, hour, plays)


def counted(contest, now: dt.datetime, plays: int, add: Callable[[int], int]) -> None:
    """Finish counting a play that a Redis INCR already counted (`plays`, its result).

    `plays == 1` means the counter was missing (a new hour, or the cache lost its data):
    `add` then raises it by the database's count, as record_play() starts from it.
    """
    day, hour = _slot(contest, now)
    if plays == 1 and (stored := _stored(contest.id, day, hour)):
        plays = add(stored)
    if plays % FLUSH_EVERY == 0:
        _store(contest.id, day, hour, plays)


def plays_per_hour(contest, day: dt.date) -> list[int]:
    """Return the plays of each hour of the contest's local `day`, flushing the cache."""
    start, end = day_bounds(day, contest.zone)
    hours = round((end - start) / HOUR)
    stored = dict(
        PlayCount.objects.filter(contest_id=contest.id, day=day).values_list("hour", "plays")
    )
    cached = cache.get_many([_key(contest.id, day, hour) for hour in range(hours)])
    counts = []
    for hour in range(hours):
        in_cache = cached.get(_key(contest.id, day, hour)) or 0
        if in_cache > stored.get(hour, 0):
            _store(contest.id, day, hour, in_cache)
        counts.append(max(in_cache, stored.get(hour, 0)))
    return counts


def forget_counts(contest, day: dt.date) -> None:
    """Drop the cached counters of a contest's day (a simulation's throwaway copy)."""
    cache.delete_many([_key(contest.id, day, hour) for hour in range(25)])


def plays_on(contest, day: dt.date) -> int:
    """Return the plays of the contest's local `day` so far."""
    return sum(plays_per_hour(contest, day))


def _stored(contest_id: int, day: dt.date, hour: int) -> int:
    row = PlayCount.objects.filter(contest_id=contest_id, day=day, hour=hour)
    return row.values_list("plays", flat=True).first() or 0


def _store(contest_id: int, day: dt.date, hour: int, plays: int) -> None:
    """Raise the stored count to `plays`; never lower it."""
    rows = PlayCount.objects.filter(contest_id=contest_id, day=day, hour=hour)
    if not rows.update(plays=Greatest("plays", Value(plays))):
        PlayCount.objects.bulk_create(
            [PlayCount(contest_id=contest_id, day=day, hour=hour, plays=plays)],
            ignore_conflicts=True,
        )
        rows.update(plays=Greatest("plays", Value(plays)))
