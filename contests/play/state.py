"""What the play path keeps in the cache, so that a losing play costs one cache round trip.

For each play, in one round trip:
- the contest (a small snapshot, or a marker that the code is unknown);
- when its next unclaimed moment of a given day falls due, or that none is left;
- the caller behind the bearer token, when one is sent.
On Redis the same round trip also counts the play, notes the token's use and reads the
player's wins today (a Lua script, see RedisPlayLookup); on other caches those are
separate calls.

The database stays the source of truth. An entry that is missing, or that belongs to
another day, sends the play to the database. A remembered "next moment" can only be
early, never late: once a day's plans exist, moments only ever leave the unclaimed set,
so a play before the remembered time cannot have won anything. Changes to contests,
prizes, clients and tokens drop the entries they affect when they commit.
"""

import datetime as dt
import hashlib
import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from .. import play_counts
from ..models import ApiToken, Contest, Win

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

    def record_play(self, contest: ContestSnapshot, now: dt.datetime) -> None:
        play_counts.record_play(contest, now)

    def note_token_use(self, caller: Caller, now: dt.datetime) -> None:
        note_token_use(caller.token_id, now)

    def player_wins(
        self, contest: ContestSnapshot, day: dt.date, caller: Caller | None, player: str
    ) -> int:
        return player_wins(contest.id, day, caller.client_id if caller else None, player)


# Admits(contest, caller): would a play of this contest by this caller be counted?
Admits = Callable[[ContestSnapshot | None, Caller | None], bool]


def play_lookup(
    code: str | None,
    token_digest: str | None,
    *,
    now: dt.datetime,
    player: str = "",
    admits: Admits,
) -> PlayLookup:
    """Fetch what a play needs: in one Redis round trip when the cache is Redis."""
    if isinstance(caches["default"], RedisCache):
        return RedisPlayLookup(code, token_digest, now=now, player=player, admits=admits)
    return PlayLookup(code, token_digest)


# What this process last read of each contest and token: the raw cache value and what it
# decodes to. Only a guess of what the cache holds now: the script below acts on it only
# when the cache still holds exactly these bytes.
_seen_contests: dict[str, tuple[bytes, ContestSnapshot]] = {}
_seen_tokens: dict[str, tuple[bytes, Caller]] = {}
_SEEN_MAX = 10_000

_PLAY_SCRIPT = """
local contest = redis.call('GET', KEYS[1])
local next_moment = redis.call('GET', KEYS[2])
local token = false
if ARGV[5] == '1' then token = redis.call('GET', KEYS[3]) end
local plays, first_use, wins, guessed = false, 0, false, 0
if ARGV[1] ~= '' and contest == ARGV[1] and (ARGV[5] == '0' or token == ARGV[2]) then
  guessed = 1
  plays = redis.call('INCR', KEYS[4])
  if plays == 1 then redis.call('EXPIRE', KEYS[4], ARGV[3]) end
  if ARGV[6] == '1' and redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[4]) then
    first_use = 1
  end
  if ARGV[7] == '1' then wins = redis.call('GET', KEYS[6]) end
end
return {contest, next_moment, token, guessed, plays, first_use, wins}
"""


class RedisPlayLookup(PlayLookup):
    """One Redis round trip per play: the entries, and the writes a counted play makes.

    A play is counted (and its token's use noted, and its player's wins read) only when
    it passes the checks before the draw: the contest exists, the caller may play it, it
    is active today, a capped contest names its player. This process guesses the outcome
    of those checks from the contest and token it last read; the script makes the writes
    only if the cache still holds exactly the bytes the guess was made from, so the
    checks, run again on what comes back, cannot disagree with it. When the guess is
    missing or stale, the writes go the usual way, one call each.
    """

    def __init__(self, code, token_digest, *, now, player, admits: Admits):
        self.code = code
        self.token_digest = token_digest
        self._counted: int | None = None
        self._first_use: bool | None = None
        self._wins: int | bool | None = False  # False: not read by the script
        self._entries = {}
        guess = _seen_contests.get(code) if code else None
        token_guess = _seen_tokens.get(token_digest) if token_digest else None
        guessed_contest = guess[1] if guess else None
        guessed_caller = token_guess[1] if token_guess else None
        guessing = (
            guess is not None
            and (token_digest is None or token_guess is not None)
            and admits(guessed_contest, guessed_caller)
        )
        client = cache.client
        contest_key = client.make_key(_contest_key(code)) if code else client.make_key("play:-")
        keys = [contest_key, client.make_key(_next_key(code)) if code else contest_key]
        keys.append(client.make_key(_token_key(token_digest)) if token_digest else contest_key)
        args = [guess[0] if guessing else b"", token_guess[0] if token_guess else b""]
        args += [play_counts.COUNTER_TTL, TOKEN_USE_INTERVAL, "1" if token_digest else "0"]
        if guessing:
            keys.append(client.make_key(play_counts.counter_key(guessed_contest, now)))
            keys.append(
                client.make_key(f"play:token-used:{guessed_caller.token_id}")
                if guessed_caller
                else contest_key
            )
            capped = guessed_contest.wmax is not None
            client_id = guessed_caller.client_id if guessed_caller else None
            day = guessed_contest.local_date(now)
            keys.append(
                client.make_key(_player_key(guessed_contest.id, day, client_id, player))
                if capped
                else contest_key
            )
            args += ["1" if guessed_caller else "0", "1" if capped else "0"]
        else:
            keys += [contest_key] * 3
            args += ["0", "0"]
        try:
            raw = _script(get_redis_connection("default"))(keys=keys, args=args)
        except (redis.RedisError, OSError) as exc:
            # As IGNORE_EXCEPTIONS does: the database answers what the cache cannot.
            if getattr(settings, "DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS", False):
                logging.getLogger(settings.DJANGO_REDIS_LOGGER).warning(
                    "cache unavailable: %s", exc
                )
            return
        contest_raw, next_raw, token_raw, guessed, plays, first_use, wins = raw
        if contest_raw is not None:
            snapshot = client.decode(contest_raw)
            self._entries[_contest_key(code)] = snapshot
            if isinstance(snapshot, ContestSnapshot):
                _remember(_seen_contests, code, (contest_raw, snapshot))
        if next_raw is not None:
            self._entries[_next_key(code)] = client.decode(next_raw)
        if token_raw is not None:
            caller = client.decode(token_raw)
            self._entries[_token_key(token_digest)] = caller
            if isinstance(caller, Caller):
                _remember(_seen_tokens, token_digest, (token_raw, caller))
        if guessed:
            self._counted = plays
            self._first_use = bool(first_use)
            self._wins = None if wins is None else client.decode(wins)

    def record_play(self, contest, now):
        if self._counted is None:
            super().record_play(contest, now)
            return
        key = cache.client.make_key(play_counts.counter_key(contest, now))

        def add(stored: int) -> int:
            try:
                return get_redis_connection("default").incrby(key, stored)
            except (redis.RedisError, OSError):
                return self._counted  # as with the cache away: the earlier count is not added

        play_counts.counted(contest, now, self._counted, add)

    def note_token_use(self, caller, now):
        if self._first_use is None:
            super().note_token_use(caller, now)
        elif self._first_use:
            ApiToken.objects.filter(pk=caller.token_id).update(last_used_at=now)

    def player_wins(self, contest, day, caller, player):
        if self._wins is False or self._wins is None:
            # Not read, or not in the cache: the database counts, and the cache remembers.
            return super().player_wins(contest, day, caller, player)
        return self._wins


def _remember(seen: dict, key: str, value: tuple) -> None:
    if len(seen) >= _SEEN_MAX:
        seen.clear()
    seen[key] = value


_scripts: dict[int, Callable] = {}


def _script(connection: redis.Redis):
    """The play script, registered once per connection (it runs by its SHA1 digest)."""
    script = _scripts.get(id(connection))
    if script is None:
        script = _scripts[id(connection)] = connection.register_script(_PLAY_SCRIPT)
    return script


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
