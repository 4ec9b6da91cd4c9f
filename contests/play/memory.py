"""What each process remembers for plays, so that a losing play does no network I/O.

- Contests by code (a small snapshot, or None for a code nobody has), and the bounds of
  each contest's current local day, so a play does no zone arithmetic.
- Callers by token digest (None for a digest no token has).
- Each contest's next unclaimed moment of a day. Once a day's plans exist, moments only
  ever leave the unclaimed set, so a remembered time is a safe lower bound even if nobody
  ever updates it: a play before it cannot win. Only a plan added later in the day (a new
  prize) can bring an earlier moment, and adding a prize is a change like any other.
- Players who reached a contest's daily cap: "capped" holds for the rest of the day; and
  those who reached its cap over the whole contest (day None): that holds for good.
- Capped contests' wins per player, with the version of the wins they were read at
  (contests/play/caps.py checks it at every play).

Changes reach every process within PLAY_MEMORY_MAX_AGE seconds: whatever changes a
contest, prize, client or token bumps PlayStateVersion in its own transaction
(contests/signals.py), and each process reads that number at most twice per max age,
forgetting everything when it has moved. The process that made a change forgets at once.
"""

import datetime as dt
import threading
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection
from django.utils import timezone

from ..models import ApiToken, Contest, PlayStateVersion
from ..moments.claiming import next_unclaimed_moment
from ..moments.hours import open_intervals, parse_hours
from ..moments.planning import HOUR, day_bounds

# Bounds the memory an attacker can fill with made-up codes, tokens or players.
MEMORY_MAX_ENTRIES = 100_000
# How long a play waits for a sibling thread's version check (seconds): one query's time.
SIBLING_CHECK_WAIT = 0.1
# What the judge of awards' clock may be ahead of this process's beyond what was measured
# (seconds): the play's own milliseconds, and drift between two measurements.
CLOCK_MARGIN = 0.05


class ContestSnapshot:
    """The few fields of a contest that every play needs, and its current local day."""

    __slots__ = (
        *("_open", "_today", "client_ids", "code", "end", "hours", "id", "play_interval"),
        *("start", "time_zone", "wmax", "wmax_total", "zone"),
    )

    def __init__(self, contest: Contest, client_ids: frozenset[int] | None = None) -> None:
        self.id = contest.pk
        self.code = contest.code
        self.time_zone = contest.time_zone
        self.zone = zoneinfo.ZoneInfo(contest.time_zone)
        self.start = contest.start
        self.end = contest.end
        self.wmax = contest.wmax
        self.wmax_total = contest.wmax_total
        self.play_interval = contest.play_interval
        # Opening hours, parsed once; None (all day) costs a play nothing more.
        self.hours = parse_hours(contest.opening_hours)
        self._open: tuple[dt.date, list[tuple[dt.datetime, dt.datetime]]] | None = None
        if client_ids is None:
            client_ids = frozenset(contest.api_clients.values_list("pk", flat=True))
        self.client_ids = client_ids
        self._today: tuple[dt.datetime, dt.datetime, dt.date] | None = None

    @property
    def is_private(self) -> bool:
        """Once any client is enabled for a contest, only its enabled clients may play."""
        return bool(self.client_ids)

    def local_day(self, now: dt.datetime) -> tuple[dt.date, int]:
        """Return the local date at `now` and the hours since its local midnight."""
        today = self._today
        if today is None or not today[0] <= now < today[1]:
            day = now.astimezone(self.zone).date()
            today = self._today = (*day_bounds(day, self.zone), day)
        return today[2], int((now - today[0]) / HOUR)

    def local_date(self, now: dt.datetime) -> dt.date:
        return self.local_day(now)[0]

    def is_active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def needs_player(self) -> bool:
        """Caps and the play interval are per player: plays must name one (?user=)."""
        return (
            self.wmax is not None or self.wmax_total is not None or self.play_interval is not None
        )

    def is_open(self, now: dt.datetime) -> bool:
        """Is `now` in the contest's opening hours? Always, without hours."""
        if self.hours is None:
            return True
        day = self.local_date(now)
        if self._open is None or self._open[0] != day:
            self._open = (day, open_intervals(self.hours, day, self.zone))
        return any(opens <= now < closes for opens, closes in self._open[1])


@dataclass(frozen=True)
class Caller:
    """The API client behind a bearer token."""

    token_id: int
    client_id: int
    usable: bool  # the token is not revoked and its client is active


@dataclass(frozen=True)
class NextMoment:
    """When the next unclaimed moment of `day` falls due; `at` is None if none is left."""

    day: dt.date
    at: dt.datetime | None

    def rules_out_win(self, day: dt.date, now: dt.datetime) -> bool:
        return self.day == day and (self.at is None or now < self.at)


# A player of a contest on a local day: contest id, day (None: every day of the contest),
# API client id (or None), player id.
PlayerDay = tuple[int, dt.date | None, int | None, str]


Players = Counter[tuple[int | None, str]]  # wins by (API client id, player id)


@dataclass(frozen=True)
class ContestWins:
    """A contest's wins per player as this process read them, at one version of its wins."""

    version: str
    day: dt.date
    today: Players
    # With a cap over the contest only: the wins of yesterday and today; the earlier days'
    # wins, which no claim adds to any more, are read once a day (PlayMemory.earlier_wins).
    recent: Players | None
    # The contest's next moment as this process knew it before reading the wins: while it
    # is not due for the judge of awards, no claim anywhere can have won since.
    bound: NextMoment | None


class PlayMemory:
    """This process's memory of contests, callers, next moments and capped players."""

    def __init__(self) -> None:
        self.contests: dict[str, ContestSnapshot | None] = {}
        self.callers: dict[str, Caller | None] = {}
        self.next_moments: dict[int, NextMoment] = {}
        self.capped: set[PlayerDay] = set()
        self.contest_wins: dict[int, ContestWins] = {}
        self.earlier_wins: dict[tuple[int, dt.date], Players] = {}
        self._version: int | None = None
        # How far the clock that judges awards may be ahead of this process's (seconds):
        # measured with each version check when the database judges, 0 when this clock does.
        self.clock_ahead: float | None = None
        self._check_after = 0.0
        self._lock = threading.Lock()

    def forget(self) -> None:
        for remembered in (
            *(self.contests, self.callers, self.next_moments, self.capped),
            *(self.contest_wins, self.earlier_wins),
        ):
            remembered.clear()

    def _check_version(self) -> None:
        """Forget everything once PlayStateVersion has moved; ask at most twice per max age.

        A play that comes while a sibling thread is asking waits for its answer (one query),
        or it could answer from the memory that answer is about to discard, past the bound;
        but not for long: a database that stopped answering holds up the asking thread only.
        """
        now = time.monotonic()
        if now < self._check_after:
            return
        if not self._lock.acquire(timeout=SIBLING_CHECK_WAIT):
            # The sibling's query hangs: answer from memory, and wait again only when the
            # next check is due.
            self._check_after = now + settings.PLAY_MEMORY_MAX_AGE / 2
            return
        try:
            if time.monotonic() < self._check_after:
                return  # the sibling has just asked
            try:
                version = self._read_version()
            except (DatabaseError, InterfaceError):
                return  # nothing can change while the database is away
            finally:
                self._check_after = now + settings.PLAY_MEMORY_MAX_AGE / 2
            if version != self._version:
                self.forget()
                self._version = version
                self._preload()
        finally:
            self._lock.release()

    def _read_version(self) -> int:
        if not judged_by_database():
            self.clock_ahead = 0.0
            return PlayStateVersion.current()
        asked = time.time()
        version, clock = PlayStateVersion.current_and_clock()
        # The database read its clock after `asked`: it is at most this much ahead.
        self.clock_ahead = clock.timestamp() - asked
        return version

    def nothing_due_since(self, bound: NextMoment | None, day: dt.date, now: dt.datetime) -> bool:
        """Is `bound`, a next moment of `day` this process knew, still not due for the judge
        of awards? Then no claim anywhere can have won a moment of `day` since it was read."""
        if bound is None or bound.day != day or self.clock_ahead is None:
            return False
        if bound.at is None:
            return True  # no moment of the day is left
        return now.timestamp() + self.clock_ahead + CLOCK_MARGIN < bound.at.timestamp()

    def _preload(self) -> None:
        from .preload import running_contests

        try:
            snapshots, next_moments = running_contests(timezone.now())
        except (DatabaseError, InterfaceError):
            return  # each play learns its contest instead
        for snapshot in snapshots:
            _remember(self.contests, snapshot.code, snapshot)
        self.next_moments.update(next_moments)

    def contest(self, code: str) -> ContestSnapshot | None:
        """Return the contest with this code, or None if there is none."""
        self._check_version()
        try:
            return self.contests[code]
        except KeyError:
            contest = Contest.objects.filter(code=code).first()
            snapshot = ContestSnapshot(contest) if contest else None
            _remember(self.contests, code, snapshot)
            return snapshot

    def caller(self, digest: str) -> Caller | None:
        """Return who the token with this digest belongs to, or None if no token has it."""
        self._check_version()
        try:
            return self.callers[digest]
        except KeyError:
            token = ApiToken.objects.select_related("client").filter(digest=digest).first()
            caller = None
            if token is not None:
                usable = not token.is_revoked and token.client.is_active
                caller = Caller(token.pk, token.client_id, usable)
            _remember(self.callers, digest, caller)
            return caller

    def next_moment(self, contest_id: int) -> NextMoment | None:
        return self.next_moments.get(contest_id)

    def learn_next_moment(
        self, contest_id: int, day: dt.date, now: dt.datetime | None = None
    ) -> None:
        """Read the contest's next unclaimed moment of `day` (not expired by `now`)."""
        at = next_unclaimed_moment(contest_id, day, now)
        _remember(self.next_moments, contest_id, NextMoment(day, at))

    def remember_contest_wins(self, contest_id: int, wins: ContestWins) -> None:
        _remember(self.contest_wins, contest_id, wins)

    def remember_earlier_wins(self, contest_day: tuple[int, dt.date], wins: Players) -> None:
        _remember(self.earlier_wins, contest_day, wins)

    def note_capped(self, player_day: PlayerDay) -> None:
        if len(self.capped) >= MEMORY_MAX_ENTRIES:
            self.capped.clear()
        self.capped.add(player_day)


def _remember(memory: dict, key, value) -> None:
    if len(memory) >= MEMORY_MAX_ENTRIES:
        memory.clear()
    memory[key] = value


def judged_by_database() -> bool:
    """Does the database's clock judge whether a moment is due (docs/scaling.md)?"""
    return settings.AWARD_CLOCK == "database" and connection.vendor == "postgresql"


# One per process: gunicorn's workers are separate processes, each with its own.
memory = PlayMemory()
