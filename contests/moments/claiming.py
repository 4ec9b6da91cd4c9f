"""Making day plans and claiming moments: the only code that knows about locks.

Two guarantees rest on the database, not on luck:
- one plan per prize and day: a unique row, created in the same transaction as its
  moments, so a process that loses the race simply reads the winner's plan;
- one win per moment: claims lock the earliest due moment with FOR UPDATE SKIP LOCKED
  (PostgreSQL) or inside an IMMEDIATE transaction (SQLite), and the win's one-to-one
  link to its moment makes a second award impossible.
"""

import datetime as dt
import hashlib
import itertools
import random
from array import array

from django.db import IntegrityError, connection, transaction

from ..models import Contest, DayPlan, Prize, Win, WinningMoment
from .planning import day_bounds, plan_moments
from .sealing import Seal, new_salt

# Rows per INSERT when a plan's moments are written; bounds memory for huge perday.
MOMENT_BATCH = 5000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def make_plan(
    prize: Prize, day: dt.date, now: dt.datetime, rng: random.Random | None = None
) -> DayPlan | None:
    """Return the prize's plan for `day`, making it if there is none yet.

    A plan made during its day covers only what is left of it. Returns None when the
    day is already over and has no plan: there is nothing left to plan.
    """
    day_start, day_end = day_bounds(day, prize.contest.zone)
    window_start = max(day_start, now)
    try:
        return DayPlan.objects.get(prize=prize, day=day)
    except DayPlan.DoesNotExist:
        if window_start >= day_end:
            return None
    salt = new_salt()
    seal = Seal(prize.contest.code, prize.code, day, salt)
    # Drawn and sealed before anything is written, so that the plan's row is inserted
    # with its commitment and never updated: on PostgreSQL the portal's database role may
    # not update plans (contests/database_roles.py). Kept as integer microseconds, 8 bytes
    # a moment (8 MB for a million), rather than as a list of datetimes (~56 MB).
    drawn = array("q")
    moments = plan_moments(window_start, day_end, prize.perday, rng)
    while batch := list(itertools.islice(moments, MOMENT_BATCH)):
        seal.add(batch)
        drawn.extend((at - EPOCH) // MICROSECOND for at in batch)
    try:
        with transaction.atomic():
            plan = DayPlan(
                prize=prize,
                day=day,
                window_start=window_start,
                window_end=day_end,
                moment_count=prize.perday,
                made_at=now,
                salt=salt,
                commitment=seal.hexdigest(),
            )
            plan.save()
            for first in range(0, len(drawn), MOMENT_BATCH):
                WinningMoment.objects.bulk_create(
                    WinningMoment(
                        plan=plan,
                        contest_id=prize.contest_id,
                        day=day,
                        at=EPOCH + dt.timedelta(microseconds=offset),
                    )
                    for offset in drawn[first : first + MOMENT_BATCH]
                )
            return plan
    except IntegrityError:
        # Another process made it first; its transaction has committed by now.
        return DayPlan.objects.get(prize=prize, day=day)


def ensure_plans(
    contest: Contest, day: dt.date, now: dt.datetime, rng: random.Random | None = None
) -> int:
    """Make the missing plans of every prize of the contest for `day`; return how many."""
    planned = set(
        DayPlan.objects.filter(prize__contest=contest, day=day).values_list("prize_id", flat=True)
    )
    made = 0
    for prize in contest.prizes.exclude(pk__in=planned):
        prize.contest = contest
        if make_plan(prize, day, now, rng) is not None:
            made += 1
    return made


class DailyCapReached(Exception):
    """The player already has the contest's most wins for the day."""


def claim_moment(
    contest_id: int,
    day: dt.date,
    now: dt.datetime,
    *,
    request_id: str,
    player: str = "",
    client_id: int | None = None,
    wmax: int | None = None,
) -> Win | None:
    """Award the contest's earliest due, unclaimed moment of `day` to this play, if any.

    The win is committed when this returns, so a winning answer always has its row.
    With a cap (`wmax`), raise DailyCapReached instead when the player has reached it;
    the due moment then stays for the next player.
    """
    with transaction.atomic():
        if wmax is not None:
            _lock_player_day(contest_id, day, client_id, player)
            won = Win.objects.filter(
                contest_id=contest_id, day=day, client_id=client_id, player=player
            ).count()
            if won >= wmax:
                raise DailyCapReached
        moment = (
            WinningMoment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("plan__prize")
            .filter(contest_id=contest_id, day=day, claimed=False, at__lte=now)
            .order_by("at", "id")
            .first()
        )
        if moment is None:
            return None
        WinningMoment.objects.filter(pk=moment.pk).update(claimed=True)
        return Win.objects.create(
            moment=moment,
            contest_id=contest_id,
            prize=moment.plan.prize,
            day=day,
            won_at=now,
            request_id=request_id,
            client_id=client_id,
            player=player,
        )


def _lock_player_day(contest_id: int, day: dt.date, client_id: int | None, player: str) -> None:
    """Serialize the claims of one player in one contest and day until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on a hash of the four; an unrelated
    player that shares the hash only waits a moment. SQLite: IMMEDIATE transactions
    already run one at a time.
    """
    if connection.vendor != "postgresql":
        return
    name = f"{contest_id}:{day.isoformat()}:{client_id}:{player}".encode()
    key = int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def next_unclaimed_moment(contest_id: int, day: dt.date) -> dt.datetime | None:
    """Return when the contest's next moment of `day` falls due, or None if none is left.

    A plain read that waits for no lock: a moment that a claim in flight holds still
    counts as unclaimed, so the answer can only be early, never late.
    """
    return (
        WinningMoment.objects.filter(contest_id=contest_id, day=day, claimed=False)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
