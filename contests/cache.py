"""What the play path keeps in the cache, so that a losing play costs one cache read.

Per contest code, two entries fetched together in one round trip:
- the contest itself (a small snapshot, or a marker that the code is unknown);
- when its next unclaimed moment of a given day falls due (or that none is left).

The database stays the source of truth. An entry that is missing, or that belongs to
another day, sends the play to the database. A remembered "next moment" can only be
early, never late: once a day's plans exist, moments only ever leave the unclaimed set,
so a play before the remembered time cannot have won anything.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cached_property

from django.core.cache import cache

from .models import Contest

CONTEST_TTL = 300
# Bounds how long a race with a prize added mid-day can hide that prize's moments.
NEXT_MOMENT_TTL = 600
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class ContestSnapshot:
    """The few fields of a contest that every play needs."""

    id: int
    code: str
    time_zone: str
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, contest: Contest) -> "ContestSnapshot":
        return cls(contest.pk, contest.code, contest.time_zone, contest.start, contest.end)

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.zone).date()

    def is_active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class NextMoment:
    """When the next unclaimed moment of `day` falls due; `at` is None if none is left."""

    day: dt.date
    at: dt.datetime | None

    def rules_out_win(self, day: dt.date, now: dt.datetime) -> bool:
        return self.day == day and (self.at is None or now < self.at)


def _contest_key(code: str) -> str:
    return f"play:contest:{code}"


def _next_key(code: str) -> str:
    return f"play:next:{code}"


def load(code: str) -> tuple[ContestSnapshot | None, NextMoment | None]:
    """Return the contest with this code (None if unknown) and its remembered next moment."""
    entries = cache.get_many([_contest_key(code), _next_key(code)])
    snapshot = entries.get(_contest_key(code))
    if snapshot is None:
        contest = Contest.objects.filter(code=code).first()
        snapshot = ContestSnapshot.of(contest) if contest else _UNKNOWN
        cache.set(_contest_key(code), snapshot, CONTEST_TTL)
    if snapshot == _UNKNOWN:
        return None, None
    return snapshot, entries.get(_next_key(code))


def remember_next_moment(code: str, day: dt.date, at: dt.datetime | None) -> None:
    cache.set(_next_key(code), NextMoment(day, at), NEXT_MOMENT_TTL)


def forget(code: str) -> None:
    """Drop what is remembered of a contest; called when it or its prizes change."""
    cache.delete_many([_contest_key(code), _next_key(code)])
