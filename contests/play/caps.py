"""Has a player reached a contest's daily cap (WMAX), or its cap over the whole contest
(wmax_total)? Exact from any process (docs/design.md, "Caps without a round trip per player").

"Capped" holds until the day ends (for good, over the contest), so this process remembers
it. "Not capped" changes only through a win, and wins are rare: each process keeps a
capped contest's wins per player as it last read them, with the version of the contest's
wins that every win sets in the cache after its commit, read before the wins. A play asks
the cache for the version (one Redis round trip) and reads the wins again only when it has
moved. While the contest's next moment, learned before the wins were read, is not due for
the clock that judges awards, no claim can have won since: the daily cap then asks nothing.

The race of two plays for the last allowed win is closed in the claim itself
(contests/moments/claiming.py takes a lock per player and day, or per player over the
contest when it has a contest-wide cap).
"""

import datetime as dt
import secrets
from collections import Counter

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count

from ..models import Win
from .memory import ContestWins, PlayerDay, Players, memory

# A new version at least once a day costs each process one more read of the wins.
VERSION_TTL = 24 * 3600


def is_capped(contest, now: dt.datetime, day: dt.date, client_id: int | None, player: str) -> bool:
    """Has the player the most wins today that the contest allows (WMAX)?"""
    player_day = (contest.id, day, client_id, player)
    if player_day in memory.capped:
        return True
    return _reached(player_day, _wins(contest, now, day).today[client_id, player], contest.wmax)


def is_capped_overall(
    contest, now: dt.datetime, day: dt.date, client_id: int | None, player: str
) -> bool:
    """Has the player the most wins the contest allows over all its days (wmax_total)?"""
    player_day = (contest.id, None, client_id, player)
    if player_day in memory.capped:
        return True
    wins = _wins(contest, now, day).recent[client_id, player]
    wins += _earlier_wins(contest.id, day)[client_id, player]
    return _reached(player_day, wins, contest.wmax_total)


def note_capped(contest, day: dt.date | None, client_id: int | None, player: str) -> None:
    """The claim found the player at a cap (day None: the cap over the whole contest)."""
    memory.note_capped((contest.id, day, client_id, player))


def note_win(contest) -> None:
    """A win of this capped contest is being committed: every process must read wins again."""
    memory.contest_wins.pop(contest.id, None)  # this one at its next play
    key = _version_key(contest.id)
    # After the commit: a process reading the wins before it would keep the new version.
    transaction.on_commit(lambda: cache.set(key, secrets.token_hex(8), VERSION_TTL))


def _reached(player_day: PlayerDay, wins: int, cap: int) -> bool:
    if wins >= cap:
        memory.note_capped(player_day)
        return True
    return False


def _version_key(contest_id: int) -> str:
    return f"play:wins:{contest_id}"


def _wins(contest, now: dt.datetime, day: dt.date) -> ContestWins:
    """The contest's wins per player, read again if they may have changed."""
    known = memory.contest_wins.get(contest.id)
    bound = memory.next_moment(contest.id)
    # A win needs a moment due. Only for the daily cap: a replica whose clock is behind may
    # still win one of yesterday's moments after midnight, which the cap over the contest counts.
    quiet = contest.wmax_total is None and memory.nothing_due_since(bound, day, now)
    if quiet and known is not None and (known.bound, known.day) == (bound, day):
        return known  # read since `bound` was learned, and no win since: no I/O
    version = cache.get(key := _version_key(contest.id))
    if version is None:
        cache.add(key, secrets.token_hex(8), VERSION_TTL)
        version = cache.get(key)
    if (
        not quiet  # a new read would not spare the next play's round trip
        and version is not None
        and known is not None
        and (known.version, known.day) == (version, day)
    ):
        return known
    won = Win.objects.filter(contest_id=contest.id)
    if contest.wmax_total is None:
        today, recent = _by_player(won.filter(day=day)), None
    else:
        today, recent = Counter(), Counter()
        for day_won, player_wins in _by_day(won.filter(day__gte=_yesterday(day))).items():
            recent.update(player_wins)
            if day_won == day:
                today = player_wins
    known = ContestWins(version or "", day, today, recent, bound)
    if version is not None:
        memory.remember_contest_wins(contest.id, known)
    return known


def _earlier_wins(contest_id: int, day: dt.date) -> Players:
    """Wins per player of the contest's days before yesterday, once per process and day."""
    earlier = memory.earlier_wins.get((contest_id, day))
    if earlier is None:
        earlier = _by_player(Win.objects.filter(contest_id=contest_id, day__lt=_yesterday(day)))
        memory.remember_earlier_wins((contest_id, day), earlier)
    return earlier


def _by_day(won) -> dict[dt.date, Players]:
    """The wins per player of each day among `won`: one GROUP BY, only players with wins."""
    days: dict[dt.date, Players] = {}
    rows = won.order_by().values("day", "client_id", "player").annotate(wins=Count("pk"))
    for day, client_id, player, wins in rows.values_list("day", "client_id", "player", "wins"):
        days.setdefault(day, Counter())[client_id, player] = wins
    return days


def _by_player(won) -> Players:
    rows = won.order_by().values("client_id", "player").annotate(wins=Count("pk"))
    return Counter({(c, p): n for c, p, n in rows.values_list("client_id", "player", "wins")})


def _yesterday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=1)
