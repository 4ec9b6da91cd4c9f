"""What the play path keeps in the cache, so that a losing play costs one cache read.

For each play, in one round trip:
- the contest (a small snapshot, or a marker that the code is unknown);
- when its next unclaimed moment of a given day falls due, or that none is left;
- the caller behind the bearer token, when one is sent.
Contests with a per-player cap add one read: the player's wins today.

The database stays the source of truth. An entry that is missing, or that belongs to
another day, sends the play to the database. A remembered "next moment" can only be
early, never late: once a day's plans exist, moments only ever leave the unclaimed set,
so a play before the remembered time cannot have won anything. Changes to contests,
prizes, clients and tokens drop the entries they affect when they commit.
"""

import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass
from functools import cached_property

from django.core.cache import cache

from .models import ApiToken, Contest, Win

CONTEST_TTL = 300
TOKEN_TTL = 300
# Bounds how long a race with a prize added mid-day can hide that prize's moments.
NEXT_MOMENT_TTL = 600
PLAYER_WINS_TTL = 600
# A token's last use is written to the database at most this often.
TOKEN_USE_INTERVAL = 60
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class ContestSnapshot:
    """The few fields of a contest that every play needs."""

    id: int
    code: str
    time_zone: str
    start: dt.date
    end: dt.date
    wmax: int | None = None
    client_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, contest: Contest) -> "ContestSnapshot":
        client_ids = frozenset(contest.api_clients.values_list("pk", flat=True))
        return cls(
            contest.pk,
            contest.code,
            contest.time_zone,
            contest.start,
            contest.end,
            contest.wmax,
            client_ids,
        )

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_private(self) -> bool:
        """Once any client is enabled for a contest, only its enabled clients may play."""
        return bool(self.client_ids)

    def local_date(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.zone).date()

    def is_active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


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


def _contest_key(code: str) -> str:
    return f"play:contest:{code}"


def _next_key(code: str) -> str:
    return f"play:next:{code}"


def _token_key(digest: str) -> str:
    return f"play:token:{digest}"


def _player_key(contest_id: int, day: dt.date, client_id: int | None, player: str) -> str:
    # Hashed: player ids are the clients' own strings, of any shape.
    player_hash = hashlib.sha256(f"{client_id}:{player}".encode()).hexdigest()[:32]
    return f"play:player:{contest_id}:{day.isoformat()}:{player_hash}"


class PlayLookup:
    """The entries one play needs, fetched together; the database fills what is missing."""

    def __init__(self, code: str | None, token_digest: str | None = None):
        """Fetch the entries of contest `code` (None: no contest to look up) and the token."""
        self.code = code
        self.token_digest = token_digest
        keys = [_contest_key(code), _next_key(code)] if code else []
        if token_digest:
            keys.append(_token_key(token_digest))
        self._entries = cache.get_many(keys)

    def caller(self) -> Caller | None:
        """Return who the token belongs to, or None if no token has this digest."""
        assert self.token_digest, "caller() needs a token digest"
        key = _token_key(self.token_digest)
        caller = self._entries.get(key)
        if caller is None:
            token = (
                ApiToken.objects.select_related("client").filter(digest=self.token_digest).first()
            )
            usable = token is not None and not token.is_revoked and token.client.is_active
            caller = Caller(token.pk, token.client_id, usable) if token else _UNKNOWN
            cache.set(key, caller, TOKEN_TTL)
        return None if caller == _UNKNOWN else caller

    def contest(self) -> ContestSnapshot | None:
        """Return the contest with this code, or None if there is none."""
        if not self.code:
            return None
        snapshot = self._entries.get(_contest_key(self.code))
        if snapshot is None:
            contest = Contest.objects.filter(code=self.code).first()
            snapshot = ContestSnapshot.of(contest) if contest else _UNKNOWN
            cache.set(_contest_key(self.code), snapshot, CONTEST_TTL)
        return None if snapshot == _UNKNOWN else snapshot

    def next_moment(self) -> NextMoment | None:
        return self._entries.get(_next_key(self.code)) if self.code else None


def load(code: str) -> tuple[ContestSnapshot | None, NextMoment | None]:
    """Return the contest with this code (None if unknown) and its remembered next moment."""
    lookup = PlayLookup(code)
    return lookup.contest(), lookup.next_moment()


def remember_next_moment(code: str, day: dt.date, at: dt.datetime | None) -> None:
    cache.set(_next_key(code), NextMoment(day, at), NEXT_MOMENT_TTL)


def player_wins(contest_id: int, day: dt.date, client_id: int | None, player: str) -> int:
    """Return how many times the player has won in the contest on `day`."""
    key = _player_key(contest_id, day, client_id, player)
    wins = cache.get(key)
    if wins is None:
        wins = Win.objects.filter(
            contest_id=contest_id, day=day, client_id=client_id, player=player
        ).count()
        # add, not set: a count read here must not overwrite a newer one set after a win.
        cache.add(key, wins, PLAYER_WINS_TTL)
    return wins


def remember_player_wins(
    contest_id: int, day: dt.date, client_id: int | None, player: str, wins: int
) -> None:
    cache.set(_player_key(contest_id, day, client_id, player), wins, PLAYER_WINS_TTL)


def note_token_use(token_id: int, now: dt.datetime) -> None:
    """Record a token's last use, at most once per TOKEN_USE_INTERVAL."""
    if cache.add(f"play:token-used:{token_id}", True, TOKEN_USE_INTERVAL):
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)


def forget(code: str) -> None:
    """Drop what is remembered of a contest; called when it, its prizes or clients change."""
    cache.delete_many([_contest_key(code), _next_key(code)])


def forget_token(digest: str) -> None:
    cache.delete(_token_key(digest))
