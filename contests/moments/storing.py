"""Drawing, sealing and writing a plan's moments: COPY on PostgreSQL, batched INSERTs elsewhere.

The moments are drawn once, as 8-byte offsets (8 MB for a million), and sealed before the
plan's row exists, so the row is inserted with its commitment. On PostgreSQL a binary COPY
sends each moment as the integer its sealed text was made of (the window's start plus the
offset, in microseconds), so the commitment covers exactly the moments stored without a
second formatting of a million timestamps, or their parsing; and a failed COPY stores
nothing, so a plan is never left with part of its moments.
"""

import datetime as dt
import io
import itertools
import random
import struct
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
    rows = _CopyRows(_binary_rows(plan, offsets))
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # psycopg2 cursor: Django's wrapper passes copy_expert through unwrapped.
        cursor.copy_expert(_copy_statement(), rows, COPY_READ_SIZE)


def _copy_statement() -> str:
    quote = connection.ops.quote_name
    meta = WinningMoment._meta
    columns = (meta.get_field(name).column for name in ("plan", "contest", "day", "at", "claimed"))
    return (
        f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        "FROM STDIN WITH (FORMAT binary)"
    )


# PostgreSQL's binary COPY format: a signature, 32 bits of flags and 32 of header extension
# length; then per row its field count and each field as a 32-bit length and its bytes, in
# network order; -1 as the field count ends the data.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = struct.pack(">h", -1)
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # of binary dates and timestamps
# plan_id (int8), contest_id (int8), day (date: days since the epoch), then the length of at.
_ROW_START = struct.Struct(">hiqiqiii")
_AT = struct.Struct(">q")  # timestamptz: microseconds since the epoch
_CLAIMED_FALSE = struct.pack(">ib", 1, 0)


def _binary_rows(plan: DayPlan, offsets: array) -> Iterator[bytes]:
    """The plan's moments as binary COPY data, a batch of rows at a time."""
    start = (plan.window_start - _PG_EPOCH) // dt.timedelta(microseconds=1)
    day = (plan.day - _PG_EPOCH.date()).days
    prefix = _ROW_START.pack(5, 8, plan.pk, 8, plan.prize.contest_id, 4, day, 8)
    at = _AT.pack
    yield _COPY_HEADER
    for first in range(0, len(offsets), MOMENT_BATCH):
        batch = offsets[first : first + MOMENT_BATCH]
        yield b"".join(prefix + at(start + offset) + _CLAIMED_FALSE for offset in batch)
    yield _COPY_TRAILER


class _CopyRows(io.RawIOBase):
    """A stream of COPY's data, made a chunk at a time as COPY reads it."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
