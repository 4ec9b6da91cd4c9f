"""The least time between two plays of a player (a contest's play_interval): 429 sooner.

One cache key per player and contest, added with `cache.add` — on Redis a single
`SET key value NX EX interval` — so of plays racing in any number of processes exactly one
is let through per interval. On the embedded default's local-memory cache the key lives in
each process: exact per process. Only contests with an interval pay this round trip. The
key's value is when it expires, so a refused play can say how long to wait.
"""

import hashlib
import math
import time

from django.core.cache import cache


def _key(contest_id: int, client_id: int | None, player: str) -> str:
    # Hashed: player ids are the clients' own strings, of any shape.
    player_hash = hashlib.sha256(f"{client_id}:{player}".encode()).hexdigest()[:32]
    return f"play:interval:{contest_id}:{player_hash}"


def wait_before_play(contest, client_id: int | None, player: str) -> int | None:
    """Admit this play and return None, or return the whole seconds left to wait.

    A play refused here does not restart the interval. When the cache is unreachable
    (django-redis answers None), the play is let through: the interval is a courtesy
    limit, and plays go on with Redis down.
    """
    key = _key(contest.id, client_id, player)
    interval = contest.play_interval
    ends = time.time() + interval
    admitted = cache.add(key, ends, interval)
    if admitted or admitted is None:
        return None
    remembered = cache.get(key)
    left = (remembered - time.time()) if isinstance(remembered, int | float) else interval
    return min(interval, max(1, math.ceil(left)))
