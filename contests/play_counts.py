"""Counting plays per contest, local day and hour without a write per play.

Each process adds its plays up in memory and writes the sums in one batch (contests/buffered.py):
at least every second, at a graceful exit, and before any reader in this process looks. A
batch adds to the stored counts, so processes never overwrite one another; a batch that
fails is kept and added to the next one. What a SIGKILL can lose: that process's plays of
its last interval.
"""

import datetime as dt
import threading
from collections import Counter

from django.db import IntegrityError, connection, transaction

from . import buffered
from .models import PlayCount
from .moments.planning import HOUR, day_bounds

Slot = tuple[int, dt.date, int]  # contest id, local day, hour since local midnight

_pending: Counter[Slot] = Counter()
_lock = threading.Lock()


def count_play(contest_id: int, day: dt.date, hour: int) -> None:
    """Count one play of the contest in that hour of its local day."""
    with _lock:
        _pending[contest_id, day, hour] += 1
    buffered.ensure_started()


def record_play(contest, now: dt.datetime) -> None:
    """Count one play of `contest` (anything with id and zone) at `now`."""
    day = now.astimezone(contest.zone).date()
    start = day_bounds(day, contest.zone)[0]
    count_play(contest.id, day, int((now - start) / HOUR))


def write_counts() -> None:
    """Add what this process counted to the database, in one batch."""
    buffered.write_pending(_pending, _lock, _add)


def _statement(values: str = "(%s, %s, %s, %s)") -> str:
    table = PlayCount._meta.db_table
    return (
        f"INSERT INTO {table} (contest_id, day, hour, plays) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (contest_id, day, hour) DO UPDATE SET plays = {table}.plays + EXCLUDED.plays"
    )


def _add(batch: dict[Slot, int]) -> None:
    # In key order, so that processes writing at once never deadlock (buffered.upsert_rows).
    rows = [(*slot, plays) for slot, plays in sorted(batch.items())]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            buffered.upsert_rows(cursor, _statement(buffered.row_values(4)), rows)
    except IntegrityError:
        # A contest deleted meanwhile: its plays have nowhere to go; the others do.
        sql = _statement()
        for row in rows:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql, row)
            except IntegrityError:
                pass


buffered.register(write_counts)


def forget_counts(contest_id: int) -> None:
    """Drop what this process counted for a contest (a simulation's throwaway copy)."""
    with _lock:
        for slot in [slot for slot in _pending if slot[0] == contest_id]:
            del _pending[slot]


def plays_per_hour(contest, day: dt.date) -> list[int]:
    """Return the plays of each hour of the contest's local `day`, this process's included."""
    write_counts()
    start, end = day_bounds(day, contest.zone)
    stored = dict(
        PlayCount.objects.filter(contest_id=contest.id, day=day).values_list("hour", "plays")
    )
    return [stored.get(hour, 0) for hour in range(round((end - start) / HOUR))]


def plays_on(contest, day: dt.date) -> int:
    """Return the plays of the contest's local `day` so far."""
    return sum(plays_per_hour(contest, day))
