"""Writes batched per process instead of one round trip per play.

Play counts, tokens' last use and the play log lines are kept in this process's memory and
written out together: by a background thread at least every BUFFER_FLUSH_INTERVAL seconds,
when the process exits normally (a graceful gunicorn stop, a management command), and
whenever a reader in this process asks for the figures. A SIGKILLed process loses at most
what it gathered since its last write, one interval. Wins, claims and plans are never
buffered: they commit before the answer.

BUFFER_FLUSH_INTERVAL = 0 starts no thread: what is buffered is written only on demand and
at exit. The test suite runs so, because its database transactions are invisible to
another thread.
"""

import atexit
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from psycopg2.extras import execute_values

log = logging.getLogger("contests.buffered")

# Rows per INSERT statement of a batch on PostgreSQL.
BATCH_ROWS = 1000

_writers: list[Callable[[], None]] = []
_started_in: int | None = None  # the pid whose thread runs: a forked child starts its own
_lock = threading.Lock()


def register(write: Callable[[], None]) -> None:
    """Have `write` called with every batch (it must take what it writes atomically)."""
    _writers.append(write)


def write_all() -> None:
    """Write every buffer now; a failing writer keeps its data for the next batch."""
    for write in _writers:
        try:
            write()
        except Exception:
            log.exception("buffered write failed; kept for the next batch")


def ensure_started() -> None:
    """Start this process's writer thread, once; called on the first buffered write."""
    global _started_in
    if _started_in == os.getpid():
        return
    with _lock:
        if _started_in == os.getpid():
            return
        _started_in = os.getpid()
        interval = settings.BUFFER_FLUSH_INTERVAL
        if interval > 0:
            threading.Thread(
                target=_run, args=(interval,), name="buffered-writes", daemon=True
            ).start()


def _run(interval: float) -> None:
    stop = threading.Event()
    while not stop.wait(interval):
        write_all()
        # This thread's own connection: closed between batches, so it never goes stale.
        connection.close()


atexit.register(write_all)


def row_values(columns: int) -> str:
    """The VALUES placeholder of a batched upsert (see upsert_rows) of `columns` columns."""
    return "%s" if connection.vendor == "postgresql" else f"({', '.join(['%s'] * columns)})"


def upsert_rows(cursor, sql: str, rows: list[tuple]) -> None:
    """Run `sql` (written with row_values()) for every row: on PostgreSQL as multi-row
    statements (psycopg2's execute_values: executemany would be a round trip per row).

    Callers pass the rows sorted by their key: two processes' batches then lock the same
    rows in the same order, and never deadlock.
    """
    if connection.vendor == "postgresql":
        execute_values(cursor.cursor, sql, rows, page_size=BATCH_ROWS)  # psycopg2's cursor
    else:
        cursor.executemany(sql, rows)


def write_pending(pending: Counter, lock: threading.Lock, add: Callable[[dict], None]) -> None:
    """Take what `pending` holds (under `lock`) and `add` it to the database as one batch;
    when the batch fails, put it back for the next one and raise."""
    with lock:
        batch = dict(pending)
        pending.clear()
    if not batch:
        return
    try:
        add(batch)
    except DatabaseError:
        with lock:
            pending.update(batch)  # nothing was added: try again with the next batch
        raise
