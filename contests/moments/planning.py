"""Planning winning moments: plain Python, no database, no clock.

A day (local midnight to local midnight, its true length; or only its opening hours,
open_offsets) is cut into `count` equal slots and one moment is drawn inside each. The
moment is kept in the early part of its slot so that the day's last moment still has
plenty of plays after it before midnight, and so the cumulative wins never stray a whole
prize from the straight line.
"""

import datetime as dt
import random
import secrets
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

HOUR = dt.timedelta(hours=1)

# The share of each slot in which its moment may fall.
EARLY_PART = 0.5

_system_random = secrets.SystemRandom()

# Slots whose random words are drawn at once: bounds memory, amortises the system call.
DRAW_BATCH = 4096
_WORD_RANGE = 2**64
_WORD_MASK = _WORD_RANGE - 1


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
    span = _span_microseconds(window_start, window_end)
    for offset in plan_offsets(span, count, rng):
        yield window_start + dt.timedelta(microseconds=offset)


def plan_offsets(span: int, count: int, rng: random.Random | None = None) -> Iterator[int]:
    """Yield the moments of a window `span` microseconds long as ascending offsets into it.

    The random words are drawn a batch at a time (one system call per batch with the
    operating system's generator, not one per moment) and mapped onto each slot's early
    part by multiply-and-shift, redrawn in the rare case that would favour some offsets:
    every offset of the early part stays exactly as likely.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if span < 1:
        raise ValueError("the window must end after it starts")
    rng = rng or _system_random
    for first in range(0, count, DRAW_BATCH):
        slots = range(first, min(count, first + DRAW_BATCH))
        words = memoryview(rng.randbytes(8 * len(slots))).cast("Q")
        for slot, word in zip(slots, words, strict=True):
            slot_start = span * slot // count
            slot_width = span * (slot + 1) // count - slot_start
            early_width = max(1, int(slot_width * EARLY_PART))
            product = word * early_width
            if product & _WORD_MASK < early_width and (
                product & _WORD_MASK < (_WORD_RANGE - early_width) % early_width
            ):
                yield slot_start + rng.randrange(early_width)
            else:
                yield slot_start + (product >> 64)


def _span_microseconds(window_start: dt.datetime, window_end: dt.datetime) -> int:
    if window_end <= window_start:
        raise ValueError("the window must end after it starts")
    return (window_end - window_start) // dt.timedelta(microseconds=1)


def open_offsets(
    ranges: Sequence[tuple[int, int]], count: int, rng: random.Random | None = None
) -> Iterator[int]:
    """Yield `count` ascending offsets that fall only inside `ranges` (opening hours).

    `ranges` are (start, end) offsets in microseconds into a window, in order and not
    overlapping. Their total open time is cut into `count` equal slots, one moment early
    in each, as plan_offsets() does for a whole window; each is then placed at the same
    share of open time on the real clock, skipping the closed time between ranges.
    """
    ranges = [(start, end) for start, end in ranges if end > start]
    total = sum(end - start for start, end in ranges)
    position = 0  # the open time before the current range
    current = 0
    for offset in plan_offsets(total, count, rng):
        while offset >= position + ranges[current][1] - ranges[current][0]:
            position += ranges[current][1] - ranges[current][0]
            current += 1
        yield ranges[current][0] + offset - position
