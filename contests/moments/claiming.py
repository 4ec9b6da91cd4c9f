"""Making day plans and claiming moments: the only code that knows about locks.

Two guarantees rest on the database, not on luck:
- one plan per prize and day: a unique row, created in the same transaction as its
  moments (written by storing.py: COPY on PostgreSQL), so a process that loses the race
  simply reads the winner's plan;
- one win per moment: claims lock the earliest due moment with FOR UPDATE SKIP LOCKED
  (PostgreSQL) or inside an IMMEDIATE transaction (SQLite), and the win's one-to-one
  link to its moment makes a second award impossible.
"""

import datetime as dt
import hashlib
import random
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Func, Q, Value
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from ..models import Contest, DayPlan, Prize, Win, WinningMoment
from . import stock
from .rules import PlanWindow, expire_after_of, plan_rules, plan_window, rule_lines_of
from .sealing import Seal, new_salt
from .storing import draw_sealed, write_moments
from .vouchers import NO_CODE_LEFT, announce_win, free_voucher, moments_for_vouchers

# Plans made in one transaction by ensure_many_plans: a commit waits for the disk
# (~20 ms here), a thousand of them were a third of the time of planning 1 000 contests.
PLANS_PER_TRANSACTION = 100


def make_plan(
    prize: Prize, day: dt.date, now: dt.datetime, rng: random.Random | None = None
) -> DayPlan | None:
    """Return the prize's plan for `day`, making it if there is none yet.

    A plan made during its day covers only what is left of it. Returns None when the
    day is already over and has no plan: there is nothing left to plan.
    """
    try:
        return DayPlan.objects.get(prize=prize, day=day)
    except DayPlan.DoesNotExist:
        return _make_missing_plan(prize, day, now, rng)


def _make_missing_plan(
    prize: Prize, day: dt.date, now: dt.datetime, rng: random.Random | None
) -> DayPlan | None:
    """Make the plan that was missing a moment ago, or read the one a racing process made.

    None when no open time is left in the day, or the prize's stock has none left for it.
    """
    window = plan_window(prize.contest, day, now)
    if window is None:
        return None
    if prize.stock is not None:
        return _make_stock_plan(prize, day, now, rng, window)
    # A voucher prize never plans more moments than it has codes left (vouchers.py).
    count = moments_for_vouchers(prize, now, prize.perday)
    if count == 0:
        return None  # a voucher prize whose codes are all given or awaited
    return _write_plan(prize, day, now, rng, window, count, None)


def _make_stock_plan(
    prize: Prize, day: dt.date, now: dt.datetime, rng: random.Random | None, window: PlanWindow
) -> DayPlan | None:
    """A stock prize's plans are made one at a time: its row is locked while one is counted."""
    with transaction.atomic():
        Prize.objects.select_for_update().filter(pk=prize.pk).exists()
        if (made := DayPlan.objects.filter(prize=prize, day=day).first()) is not None:
            return made
        allotment = stock.allot(prize, day, now)
        count = moments_for_vouchers(prize, now, allotment.count)
        if count == 0:
            return None
        plan = _write_plan(prize, day, now, rng, window, count, allotment)
        if allotment.becomes_low:
            # Announced to the brands through the outbox, in the plan's own transaction.
            stock.announce_stock_low(prize, allotment.left - count, now)
    return plan


def _write_plan(
    prize: Prize,
    day: dt.date,
    now: dt.datetime,
    rng: random.Random | None,
    window: PlanWindow,
    count: int,
    allotment: stock.Allotment | None,
) -> DayPlan:
    salt = new_salt()
    rules = plan_rules(prize.contest, prize, window, allotment)
    seal = Seal(prize.contest.code, prize.code, day, salt, rules)
    offsets = draw_sealed(window.start, window.end, count, seal, rng, window.open_ranges)
    try:
        with transaction.atomic():
            plan = DayPlan(
                prize=prize,
                day=day,
                window_start=window.start,
                window_end=window.end,
                moment_count=count,
                made_at=now,
                salt=salt,
                commitment=seal.hexdigest(),
                rules=rules,
                expire_after=expire_after_of(rule_lines_of(rules)),
            )
            plan.save()
            write_moments(plan, offsets)
            return plan
    except IntegrityError:
        # Another process made it first; its transaction has committed by now.
        return DayPlan.objects.get(prize=prize, day=day)


def ensure_plans(
    contest: Contest, day: dt.date, now: dt.datetime, rng: random.Random | None = None
) -> int:
    """Make the missing plans of every prize of the contest for `day`; return how many."""
    [made] = ensure_many_plans([(contest, day)], now, rng)
    return made


def ensure_many_plans(
    contest_days: Sequence[tuple[Contest, dt.date]],
    now: dt.datetime,
    rng: random.Random | None = None,
) -> list[int]:
    """Make the missing plans of each (contest, day); return how many for each pair.

    One query finds the plans already made, whatever the number of pairs; the prizes
    come from `contest.prizes`, so a caller that prefetched them costs no more queries.
    """
    if not contest_days:
        return []
    planned = set(
        DayPlan.objects.filter(
            prize__contest__in={contest.pk for contest, _ in contest_days},
            day__in={day for _, day in contest_days},
        ).values_list("prize_id", "day")
    )
    missing = [
        (index, prize, day)
        for index, (contest, day) in enumerate(contest_days)
        for prize in contest.prizes.all()
        if (prize.pk, day) not in planned
    ]
    # In the order of the unique index: two makers of overlapping sets then wait for each
    # other in the same order, and never deadlock.
    missing.sort(key=lambda item: (item[1].pk, item[2]))
    made = [0] * len(contest_days)
    for first in range(0, len(missing), PLANS_PER_TRANSACTION):
        # One commit for many plans: each plan's own atomic() becomes a savepoint, so a
        # plan another process made first is still read back alone (_make_missing_plan).
        with transaction.atomic():
            for index, prize, day in missing[first : first + PLANS_PER_TRANSACTION]:
                prize.contest = contest_days[index][0]
                if _make_missing_plan(prize, day, now, rng) is not None:
                    made[index] += 1
    return made


class DailyCapReached(Exception):
    """The player already has the contest's most wins for the day."""


class ContestCapReached(Exception):
    """The player already has the most wins allowed over the whole contest (wmax_total)."""


class TransactionTimestamp(Func):
    """PostgreSQL's transaction_timestamp(): one instant for every statement of a transaction."""

    template = "TRANSACTION_TIMESTAMP()"
    output_field = DateTimeField()


def claim_moment(
    contest_id: int,
    day: dt.date,
    now: dt.datetime | None = None,
    *,
    request_id: str,
    player: str = "",
    client_id: int | None = None,
    wmax: int | None = None,
    wmax_total: int | None = None,
) -> Win | None:
    """Award the contest's earliest due, unclaimed moment of `day` to this play, if any.

    The win is committed when this returns, so a winning answer always has its row.
    With a cap (`wmax`), raise DailyCapReached instead when the player has reached it;
    the due moment then stays for the next player. The same for the cap over the whole
    contest (`wmax_total`, ContestCapReached), under the same lock. A moment whose plan
    says it expires is never awarded once expired.

    `now` None means the database's clock on PostgreSQL (docs/scaling.md, "One clock for
    awards"): a moment is due once the claim's transaction began at or after it, and that
    instant is the win's `won_at`, whatever the clock of the process that asks. Elsewhere
    None is the process clock. A given `now` (simulations, tests) is used as it is.
    """
    judged_by_database = now is None and connection.vendor == "postgresql"
    if now is None and not judged_by_database:
        now = timezone.now()
    with transaction.atomic():
        if wmax_total is not None:
            # One lock for the player over the contest: it also covers the daily count.
            _lock_player_day(contest_id, None, client_id, player)
            players = Win.objects.filter(contest_id=contest_id, client_id=client_id, player=player)
            if players.count() >= wmax_total:
                raise ContestCapReached
        if wmax is not None:
            if wmax_total is None:
                _lock_player_day(contest_id, day, client_id, player)
            won = Win.objects.filter(
                contest_id=contest_id, day=day, client_id=client_id, player=player
            ).count()
            if won >= wmax:
                raise DailyCapReached
        due = WinningMoment.objects.select_for_update(skip_locked=True, of=("self",))
        if judged_by_database:
            due = due.annotate(judged_at=TransactionTimestamp()).filter(at__lte=F("judged_at"))
            due = due.filter(_not_expired(F("judged_at")))
        else:
            due = due.filter(at__lte=now).filter(_not_expired(Value(now)))
        moment = (
            due.select_related("plan__prize__contest")
            .filter(contest_id=contest_id, day=day, claimed=False)
            .order_by("at", "id")
            .first()
        )
        if moment is None:
            return None
        if judged_by_database:
            now = moment.judged_at
        voucher = free_voucher(moment.plan.prize)
        WinningMoment.objects.filter(pk=moment.pk).update(claimed=True)
        if voucher is NO_CODE_LEFT:
            return None  # no win without its code: the moment goes to no one
        win = Win.objects.create(
            moment=moment,
            contest_id=contest_id,
            prize=moment.plan.prize,
            day=day,
            won_at=now,
            request_id=request_id,
            client_id=client_id,
            player=player,
        )
        announce_win(win, voucher)
        return win


def _not_expired(judged_at) -> Q:
    """The moment's plan lets it be won at `judged_at`: it carries, or has not expired yet."""
    expires = ExpressionWrapper(F("at") + F("plan__expire_after"), output_field=DateTimeField())
    return Q(plan__expire_after__isnull=True) | Q(
        GreaterThan(expires, ExpressionWrapper(judged_at, output_field=DateTimeField()))
    )


def _lock_player_day(
    contest_id: int, day: dt.date | None, client_id: int | None, player: str
) -> None:
    """Serialize the claims of one player in one contest and day until the transaction ends.

    Without a day (a cap over the whole contest), one lock for the player on every day.

    PostgreSQL: a transaction-scoped advisory lock on a hash of the four; an unrelated
    player that shares the hash only waits a moment. SQLite: IMMEDIATE transactions
    already run one at a time.
    """
    if connection.vendor != "postgresql":
        return
    name = f"{contest_id}:{day.isoformat() if day else '*'}:{client_id}:{player}".encode()
    key = int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def next_unclaimed_moment(
    contest_id: int, day: dt.date, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Return when the contest's next moment of `day` falls due, or None if none is left.

    A plain read that waits for no lock: a moment that a claim in flight holds still
    counts as unclaimed, so the answer can only be early, never late. Moments expired by
    `now` (default: this process's clock) are left out: they can never be won again.
    """
    return (
        WinningMoment.objects.filter(contest_id=contest_id, day=day, claimed=False)
        .filter(_not_expired(Value(now or timezone.now())))
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
