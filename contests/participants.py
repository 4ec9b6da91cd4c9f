"""The participant register: who played a contest, per client, player and local day.

Plays that name a player (?user=…) register them, without a database write per play: as
with the play counts (contests/play_counts.py) each process adds its plays up in memory
and writes the sums in one batch (contests/buffered.py) at least every
BUFFER_FLUSH_INTERVAL, at a graceful exit, and before any reader in this process looks.
A batch adds to the stored rows, so processes never overwrite one another; a batch that
fails is kept for the next one. A SIGKILL loses at most that process's last interval.

The recovery draw (contests/recovery/) reads the register after the contest's last day.
"""

import datetime as dt
import threading
from collections import Counter

from django.db import IntegrityError, connection, transaction

from . import buffered
from .models import Participant

Entry = tuple[int, int | None, str, dt.date]  # contest id, client id or None, player, day

_pending: Counter[Entry] = Counter()
_lock = threading.Lock()


def register_play(contest_id: int, client_id: int | None, player: str, day: dt.date) -> None:
    """Register one play of `player` (through `client_id`, or none) on the contest's `day`."""
    with _lock:
        _pending[contest_id, client_id, player, day] += 1
    buffered.ensure_started()


def write_register() -> None:
    """Add what this process registered to the database, in one batch."""
    buffered.write_pending(_pending, _lock, _add)


def _statements(values: str = "(%s, %s, %s, %s, %s)") -> tuple[str, str]:
    """Additive upserts, one per partial unique constraint (with a client, without one);
    `values` is one row's placeholders, or buffered.row_values() for a whole batch."""
    table = Participant._meta.db_table
    add = f"DO UPDATE SET plays = {table}.plays + EXCLUDED.plays"
    columns = "(contest_id, client_id, player, day, plays)"
    insert = f"INSERT INTO {table} {columns} VALUES {values} "  # noqa: S608
    with_client = (
        f"{insert}ON CONFLICT (contest_id, client_id, player, day) "
        f"WHERE client_id IS NOT NULL {add}"
    )
    without_client = f"{insert}ON CONFLICT (contest_id, player, day) WHERE client_id IS NULL {add}"
    return with_client, without_client


def _order(item: tuple[Entry, int]) -> tuple:
    (contest, client, player, day), _ = item
    return contest, client or 0, player, day


def _add(batch: dict[Entry, int]) -> None:
    # In key order: two processes' batches lock the same rows in the same order. Rows
    # without a client carry NULL for it, and go to the other constraint's statement.
    rows = [
        (contest, client, player, day, plays)
        for (contest, client, player, day), plays in sorted(batch.items(), key=_order)
    ]
    with_client = [row for row in rows if row[1] is not None]
    without_client = [row for row in rows if row[1] is None]
    try:
        statements = _statements(buffered.row_values(5))
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in zip(statements, (with_client, without_client), strict=True):
                if params:
                    buffered.upsert_rows(cursor, sql, params)
    except IntegrityError:
        # A contest or client deleted meanwhile: those plays have nowhere to go; others do.
        for sql, params in zip(_statements(), (with_client, without_client), strict=True):
            for row in params:
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(sql, row)
                except IntegrityError:
                    pass


buffered.register(write_register)
