"""Opening hours: the local times of each weekday in which a contest's moments may fall.

Plain Python, no database, no clock. Written as operators write them on a contest's rules,
e.g. ``mon-fri 08:00-22:00; sat 09:00-13:00`` or ``mon-fri 08:00-12:30 14:00-19:00``:
entries separated by ``;``, each a set of weekdays (``mon``, ``mon-fri``, ``mon,wed``,
ranges may wrap as ``fri-mon``) and one or more local ranges ``HH:MM-HH:MM`` (``24:00``
ends a range at midnight). Weekdays not named are closed. The empty text means all day,
every day: the portal's behaviour without opening hours.

A range is turned into instants on the contest's own clock: on DST change days a range
that spans the skipped or repeated hour is as long as the clock says (01:00-04:00 lasts
two hours when clocks go forward, four when they go back).
"""

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = "00:00-24:00"

_RANGE = re.compile(r"\A([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)\Z")

# A local time range as minutes since midnight: (start, end), end after start, end ≤ 1440.
Minutes = tuple[int, int]


class HoursError(ValueError):
    """The opening hours text cannot be read; the message says why (in the active language)."""


@dataclass(frozen=True)
class OpeningHours:
    """Each weekday's open ranges (Monday first), sorted and never overlapping."""

    days: tuple[tuple[Minutes, ...], ...]

    def ranges_on(self, day: dt.date) -> tuple[Minutes, ...]:
        return self.days[day.weekday()]

    def is_open_on(self, day: dt.date) -> bool:
        return bool(self.ranges_on(day))

    def text(self) -> str:
        """The canonical text: weekdays with the same ranges grouped, in week order."""
        entries: list[str] = []
        weekday = 0
        while weekday < 7:
            ranges = self.days[weekday]
            last = weekday
            while last + 1 < 7 and self.days[last + 1] == ranges:
                last += 1
            if ranges:
                names = WEEKDAYS[weekday] if last == weekday else f"{WEEKDAYS[weekday]}-"
                names += "" if last == weekday else WEEKDAYS[last]
                entries.append(f"{names} {ranges_text(ranges)}")
            weekday = last + 1
        return "; ".join(entries)


def ranges_text(ranges: tuple[Minutes, ...]) -> str:
    """E.g. "08:00-12:30 14:00-19:00"; "closed" for a day without open time."""
    if not ranges:
        return "closed"
    return " ".join(f"{_clock(start)}-{_clock(end)}" for start, end in ranges)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(text: str) -> OpeningHours | None:
    """Read opening hours; None for the empty text (all day, every day)."""
    if not text.strip():
        return None
    days: list[list[Minutes]] = [[] for weekday in WEEKDAYS]
    for entry in text.split(";"):
        if not entry.strip():
            continue
        words = entry.split()
        if len(words) < 2:
            raise HoursError(
                gettext("%(entry)s needs weekdays and at least one HH:MM-HH:MM range")
                % {"entry": repr(entry.strip())}
            )
        weekdays = _weekdays(words[0])
        ranges = [_range(word) for part in words[1:] for word in part.split(",") if word]
        for weekday in weekdays:
            days[weekday].extend(ranges)
    for weekday, ranges in enumerate(days):
        ranges.sort()
        for earlier, later in itertools.pairwise(ranges):
            if later[0] < earlier[1]:
                raise HoursError(gettext("ranges overlap on %(day)s") % {"day": WEEKDAYS[weekday]})
    return OpeningHours(tuple(tuple(ranges) for ranges in days))


def _weekdays(word: str) -> list[int]:
    found: list[int] = []
    for part in word.lower().split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise HoursError(
                gettext("%(part)s is not a weekday (mon, tue, … sun) or a span like mon-fri")
                % {"part": repr(part)}
            )
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if last else start
        found.extend((start + step) % 7 for step in range((end - start) % 7 + 1))
    return found


def _range(word: str) -> Minutes:
    match = _RANGE.match(word)
    if match is None:
        raise HoursError(gettext("%(word)s is not a range HH:MM-HH:MM") % {"word": repr(word)})
    start_hour, start_minute, end_hour, end_minute = (int(group) for group in match.groups())
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if start >= 24 * 60 or end > 24 * 60 or end <= start:
        raise HoursError(
            gettext("%(word)s must end after it starts, by 24:00") % {"word": repr(word)}
        )
    return start, end


def open_intervals(
    hours: OpeningHours | None, day: dt.date, zone: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The UTC instants of `day`'s open time, in order; the whole day without hours."""
    return range_intervals(((0, 24 * 60),) if hours is None else hours.ranges_on(day), day, zone)


def range_intervals(
    ranges: tuple[Minutes, ...], day: dt.date, zone: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The UTC instants of local ranges of `day`, in order."""
    intervals = []
    for start, end in ranges:
        opens, closes = _instant(day, start, zone), _instant(day, end, zone)
        if closes > opens:  # a range inside the skipped hour has no time at all
            intervals.append((opens, closes))
    return intervals


def parse_ranges(text: str) -> tuple[Minutes, ...]:
    """Read ranges_text() back: "08:00-12:30 14:00-19:00", or "closed"."""
    return () if text == "closed" else tuple(_range(word) for word in text.split())


def _instant(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time of `day` (24:00: the next midnight).

    A time that the clock skips is read with the offset before the change, and a time
    it shows twice is its first occurrence (fold 0), so every range keeps its true length.
    """
    if minutes == 24 * 60:
        local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    else:
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)
