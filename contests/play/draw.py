"""The draw: does a play at `now` win? Time is a parameter; only views ask the clock."""

import contextlib
import datetime as dt

from django.conf import settings
from django.db import DatabaseError, InterfaceError

from .. import metrics
from ..models import Contest, Win
from ..moments.claiming import ContestCapReached, DailyCapReached, claim_moment, ensure_plans
from . import caps
from .memory import ContestSnapshot, memory


def draw(
    contest: ContestSnapshot,
    now: dt.datetime,
    *,
    request_id: str,
    player: str = "",
    client_id: int | None = None,
) -> Win | None:
    """Play once in an active contest: return the win, or None if nothing is due.

    When this process's memory of the next moment rules out a win, the play costs nothing
    more. Otherwise the database decides: today's plans are made if missing, the earliest
    due moment is claimed, and the next one is remembered.
    Raises DailyCapReached (or ContestCapReached) when a moment is due but the player may
    not win it. Outside the contest's opening hours a play never wins.
    """
    if not contest.is_open(now):
        return None
    day = contest.local_date(now)
    remembered = memory.next_moment(contest.id)
    if remembered is not None and remembered.rules_out_win(day, now):
        return None
    if remembered is None or remembered.day != day:
        # Nothing is known of today yet: its plans may still have to be made.
        ensure_plans(Contest.objects.get(pk=contest.id), day, now)
    try:
        win = claim_moment(
            contest.id,
            day,
            # This process's clock only said the claim is worth trying; on PostgreSQL the
            # database's clock judges it (docs/scaling.md, "One clock for awards").
            None if settings.AWARD_CLOCK == "database" else now,
            request_id=request_id,
            player=player,
            client_id=client_id,
            wmax=contest.wmax,
            wmax_total=contest.wmax_total,
        )
    except DailyCapReached:
        caps.note_capped(contest, day, client_id, player)
        memory.learn_next_moment(contest.id, day, now)
        raise
    except ContestCapReached:
        caps.note_capped(contest, None, client_id, player)
        memory.learn_next_moment(contest.id, day, now)
        raise
    if win is not None:
        metrics.count_win(contest.code, win.prize.code)
        if contest.wmax is not None or contest.wmax_total is not None:
            caps.note_win(contest)
    # Not after a database error: the connection may be gone, and a second error would
    # hide the first one. And once a win is committed, what follows only helps the memory:
    # a database error here must not turn the win into an error answer. Skipping it is
    # safe, since what the memory holds is a lower bound that costs a database trip at most.
    with contextlib.suppress(DatabaseError, InterfaceError):
        memory.learn_next_moment(contest.id, day, now)
    return win
