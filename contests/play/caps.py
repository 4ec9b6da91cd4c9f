"""Has a player reached a contest's daily cap (WMAX), or its cap over the whole contest
(wmax_total)? Exact from any process.

"Capped" holds until the day ends, so this process remembers it; "not capped" can change
in another process at any moment, so the count of a player's wins today is read from the
cache (one Redis round trip, which only capped contests pay), and from the database when
the cache does not have it. The race of two plays for the last allowed win is closed in
the claim itself (contests/moments/claiming.py takes a lock per player and day, or per
player over the contest when it has a contest-wide cap). The contest-wide count is kept
the same way under its own key, with day None: only contests with that cap read it.
"""

import datetime as dt
import hashlib

from django.core.cache import cache

from ..models import Win
from .memory import PlayerDay, memory

PLAYER_WINS_TTL = 600


def _key(player_day: PlayerDay) -> str:
    contest_id, day, client_id, player = player_day
    # Hashed: player ids are the clients' own strings, of any shape.
    player_hash = hashlib.sha256(f"{client_id}:{player}".encode()).hexdigest()[:32]
    return f"play:player:{contest_id}:{day.isoformat() if day else 'all'}:{player_hash}"


def is_capped_overall(contest, client_id: int | None, player: str) -> bool:
    """Has the player the most wins the contest allows over all its days?"""
    return _reached((contest.id, None, client_id, player), contest.wmax_total)


def note_wins_overall(contest, client_id: int | None, player: str, wins: int) -> None:
    """Remember the player's wins over the contest, after a win or a refused claim."""
    player_day = (contest.id, None, client_id, player)
    cache.set(_key(player_day), wins, PLAYER_WINS_TTL)
    if wins >= contest.wmax_total:
        memory.note_capped(player_day)


def is_capped(contest, day: dt.date, client_id: int | None, player: str) -> bool:
    return _reached((contest.id, day, client_id, player), contest.wmax)


def _reached(player_day: PlayerDay, cap: int) -> bool:
    if player_day in memory.capped:
        return True
    key = _key(player_day)
    wins = cache.get(key)
    if wins is None:
        contest_id, day, client_id, player = player_day
        won = Win.objects.filter(contest_id=contest_id, client_id=client_id, player=player)
        wins = (won if day is None else won.filter(day=day)).count()
        # add, not set: a count read here must not overwrite a newer one set after a win.
        cache.add(key, wins, PLAYER_WINS_TTL)
    if wins >= cap:
        memory.note_capped(player_day)
        return True
    return False


def note_wins(contest, day: dt.date, client_id: int | None, player: str, wins: int) -> None:
    """Remember the player's wins today, after a win or a claim refused at the cap."""
    player_day = (contest.id, day, client_id, player)
    cache.set(_key(player_day), wins, PLAYER_WINS_TTL)
    if wins >= contest.wmax:
        memory.note_capped(player_day)
