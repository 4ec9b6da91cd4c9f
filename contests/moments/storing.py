"""Drawing, sealing and writing a plan's moments: COPY on PostgreSQL, batched INSERTs elsewhere.

The moments are drawn once, as 8-byte offsets (8 MB for a million), and sealed before the
plan's row exists, so the row is inserted with its commitment. On PostgreSQL the text that
COPY parses is the very text the seal hashed (sealing.moment_lines of the same offsets), so
the commitment covers exactly the moments stored; and a failed COPY stores nothing, so a
plan is never left with part of its moments.
"""

import datetime as dt
import io
import itertools
import random
from array import array
from collections.abc import Iterator

from django.db import connection

from ..models import DayPlan, WinningMoment
from .planning import open_offsets, plan_offsets
from .sealing import Seal, moment_lines

# Moments drawn, hashed and written per batch: bounds memory for huge perday.
MOMENT_BATCH = 5000
# Bytes that psycopg2 asks of the stream per read while it feeds COPY.
COPY_READ_SIZE = 256 * 1024


def draw_sealed(
    window_start: dt.datetime,
    window_end: dt.datetime,
    count: int,
    seal: Seal,
    rng: random.Random | None = None,
    open_ranges: list[tuple[int, int]] | None = None,
) -> array:
    """Draw a plan's moments as offsets in microseconds into its window, and seal them.

    Drawn before anything is written, so that the plan's row is inserted with its
    commitment and never updated: on PostgreSQL the portal's database role may not update
    plans (contests/database_roles.py). 8 bytes a moment: 8 MB for a million. With
    `open_ranges` (opening hours, as offsets into the window) moments fall only in them.
    """
    if open_ranges is None:
        offsets = array("q", plan_offsets(_span(window_start, window_end), count, rng))
    else:
        offsets = array("q", open_offsets(open_ranges, count, rng))
    lines = moment_lines(window_start, offsets)
    while batch := list(itertools.islice(lines, MOMENT_BATCH)):
        seal.add_lines(batch)
    return offsets


def write_moments(plan: DayPlan, offsets: array) -> None:
    """Store the plan's moments, drawn by draw_sealed() for the plan's window."""
    if connection.vendor == "postgresql":
        _copy_moments(plan, offsets)
    else:
        _insert_moments(plan, offsets)


def _span(window_start: dt.datetime, window_end: dt.datetime) -> int:
    return (window_end - window_start) // dt.timedelta(microseconds=1)


def _insert_moments(plan: DayPlan, offsets: array) -> None:
    for first in range(0, len(offsets), MOMENT_BATCH):
        WinningMoment.objects.bulk_create(
            WinningMoment(
                plan=plan,
                contest_id=plan.prize.contest_id,
                day=plan.day,
                at=plan.window_start + dt.timedelta(microseconds=offset),
            )
            for offset in offsets[first : first + MOMENT_BATCH]
        )


def _copy_moments(plan: DayPlan, offsets: array) -> None:
    # The very lines that were sealed: moment_lines() of the same offsets.
    lines = moment_lines(plan.window_start, offsets)
    prefix = f"{plan.pk}\t{plan.prize.contest_id}\t{plan.day.isoformat()}\t"
    rows = _CopyRows(_batches(lines), prefix, suffix="\tf\n")
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # psycopg2 cursor: Django's wrapper passes copy_expert through unwrapped.
        cursor.copy_expert(_copy_statement(), rows, COPY_READ_SIZE)


def _copy_statement() -> str:
    quote = connection.ops.quote_name
    meta = WinningMoment._meta
    columns = (meta.get_field(name).column for name in ("plan", "contest", "day", "at", "claimed"))
    return (
        f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        "FROM STDIN WITH (FORMAT text)"
    )


def _batches(lines: Iterator[str]) -> Iterator[list[str]]:
    while batch := list(itertools.islice(lines, MOMENT_BATCH)):
        yield batch


class _CopyRows(io.RawIOBase):
    """The rows of COPY's text format, made a batch at a time as COPY reads them."""

    def __init__(self, batches: Iterator[list[str]], prefix: str, suffix: str):
        self._batches = batches
        self._prefix = prefix
        self._suffix = suffix
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            batch = next(self._batches, None)
            if batch is None:
                return 0
            text = "".join(f"{self._prefix}{line}{self._suffix}" for line in batch)
            self._pending = memoryview(text.encode())
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
