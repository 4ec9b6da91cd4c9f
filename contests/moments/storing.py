"""Writing a plan's moments: COPY on PostgreSQL, batched INSERTs elsewhere, sealed as they go.

Memory stays flat whatever perday: the moments are drawn, hashed into the seal and sent
one batch at a time. On PostgreSQL the text that COPY parses is the very text the seal
hashes (sealing.moment_line), so the commitment covers exactly the moments stored; and a
failed COPY stores nothing, so a plan is never left with part of its moments.
"""

import datetime as dt
import io
import itertools
import random
from collections.abc import Iterator

from django.db import connection

from ..models import DayPlan, WinningMoment
from .planning import plan_moments, plan_offsets
from .sealing import Seal, moment_lines

# Moments drawn, hashed and written per batch: bounds memory for huge perday.
MOMENT_BATCH = 5000
# Bytes that psycopg2 asks of the stream per read while it feeds COPY.
COPY_READ_SIZE = 256 * 1024


def write_moments(plan: DayPlan, seal: Seal, rng: random.Random | None = None) -> None:
    """Draw the plan's moments over its window, add them to `seal` and store them."""
    if connection.vendor == "postgresql":
        _copy_moments(plan, seal, rng)
    else:
        _insert_moments(plan, seal, rng)


def _insert_moments(plan: DayPlan, seal: Seal, rng: random.Random | None) -> None:
    moments = plan_moments(plan.window_start, plan.window_end, plan.moment_count, rng)
    while batch := list(itertools.islice(moments, MOMENT_BATCH)):
        seal.add(batch)
        WinningMoment.objects.bulk_create(
            WinningMoment(plan=plan, contest_id=plan.prize.contest_id, day=plan.day, at=at)
            for at in batch
        )


def _copy_moments(plan: DayPlan, seal: Seal, rng: random.Random | None) -> None:
    span = (plan.window_end - plan.window_start) // dt.timedelta(microseconds=1)
    lines = moment_lines(plan.window_start, plan_offsets(span, plan.moment_count, rng))
    prefix = f"{plan.pk}\t{plan.prize.contest_id}\t{plan.day.isoformat()}\t"
    rows = _CopyRows(_sealed_batches(lines, seal), prefix, suffix="\tf\n")
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


def _sealed_batches(lines: Iterator[str], seal: Seal) -> Iterator[list[str]]:
    """Yield the lines a batch at a time, each batch hashed into the seal as it goes out."""
    while batch := list(itertools.islice(lines, MOMENT_BATCH)):
        seal.add_lines(batch)
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
