"""The draw: does a play at `now` win? Time is a parameter; only views ask the clock."""

import contextlib
import datetime as dt

from django.db import DatabaseError, InterfaceError

from .. import metrics
from ..models import Contest, Win
from ..moments.claiming import DailyCapReached, claim_moment, ensure_plans, next_unclaimed_moment
from . import state
from .state import ContestSnapshot


def draw(
    contest: ContestSnapshot,
    now: dt.datetime,
    *,
    request_id: str,
    player: str = "",
    client_id: int | None = None,
    remembered: state.NextMoment | None = None,
) -> Win | None:
    """Play once in an active contest: return the win, or None if nothing is due.

    `remembered` is the next moment the cache knew of; when it rules out a win, the
    play costs nothing more. Otherwise the database decides: today's plans are made if
    missing, the earliest due moment is claimed, and the next one is remembered.
    Raises DailyCapReached when a moment is due but the player may not win it.
    """
    day = contest.local_date(now)
    if remembered is not None and remembered.rules_out_win(day, now):
        return None
    if remembered is None or remembered.day != day:
        # Nothing is known of today yet: its plans may still have to be made.
        ensure_plans(Contest.objects.get(pk=contest.id), day, now)
    try:
        win = claim_moment(
            contest.id,
            day,
            now,
            request_id=request_id,
            player=player,
            client_id=client_id,
            wmax=contest.wmax,
        )
    except DailyCapReached:
        state.remember_player_wins(contest.id, day, client_id, player, contest.wmax)
        state.remember_next_moment(contest.code, day, next_unclaimed_moment(contest.id, day))
        raise
    if win is not None:
        metrics.count_win(contest.code, win.prize.code)
    # Not after a database error: the connection may be gone, and a second error would
    # hide the first one. And once a win is committed, what follows only helps the cache:
    # a database error here must not turn the win into an error answer. Skipping it is
    # safe, since what the cache holds is a lower bound that costs a database trip at most.
    with contextlib.suppress(DatabaseError, InterfaceError):
        state.remember_next_moment(contest.code, day, next_unclaimed_moment(contest.id, day))
        if win is not None and contest.wmax is not None:
            won = Win.objects.filter(
                contest_id=contest.id, day=day, client_id=client_id, player=player
            )
            state.remember_player_wins(contest.id, day, client_id, player, won.count())
    return win
