"""Voucher codes in the engine: a win takes its code inside the claim's transaction, and a
prize with a pool never plans more moments than it has codes left.

A prize without a pool (Prize.has_voucher_pool false) costs nothing here: no query.
"""

import datetime as dt

from django.db.models import Count, Q

from ..models import Prize, Voucher, Win, WinningMoment
from ..webhooks.events import record_win_created


class _NoCodeLeft:
    """The prize has a pool, and no code of it is free: the moment goes to no one."""

    def __repr__(self) -> str:
        return "NO_CODE_LEFT"


NO_CODE_LEFT = _NoCodeLeft()


def free_voucher(prize: Prize) -> Voucher | _NoCodeLeft | None:
    """Lock the prize's first free code for this claim; None when the prize has no pool.

    SKIP LOCKED on PostgreSQL, as for moments: claims running side by side each take a
    different code and none waits for another. SQLite runs claims one at a time.
    """
    if not prize.has_voucher_pool:
        return None
    voucher = (
        Voucher.objects.select_for_update(skip_locked=True)
        .filter(prize=prize, win__isnull=True)
        .order_by("id")
        .only("id", "code")
        .first()
    )
    return NO_CODE_LEFT if voucher is None else voucher


def announce_win(win: Win, voucher: Voucher | None) -> None:
    """Give the win its code, and write its win.created event: both in the claim's transaction."""
    if voucher is not None:
        Voucher.objects.filter(pk=voucher.pk).update(win=win)
        voucher.win = win  # and win.voucher, for the winning answer: no query
    record_win_created(win, voucher.code if voucher is not None else None)


def moments_for_vouchers(prize: Prize, now: dt.datetime, wanted: int) -> int:
    """How many of `wanted` moments the prize may plan now: its codes left, at most.

    The planner calls it with what it would plan otherwise (perday, or the stock rules');
    0 means no plan. Codes left are the free ones less one for each unclaimed moment of
    today or later, which may still take one; moments of past days no longer can.
    """
    if not prize.has_voucher_pool:
        return wanted
    free = Voucher.objects.filter(prize=prize, win__isnull=True).count()
    today = prize.contest.local_date(now)
    awaiting = WinningMoment.objects.filter(
        plan__prize=prize, claimed=False, day__gte=today
    ).count()
    return max(0, min(wanted, free - awaiting))


def voucher_counts(contest_id: int) -> dict[int, dict[str, int]]:
    """Per prize of the contest (by id): codes imported, given to wins, and redeemed."""
    rows = (
        Voucher.objects.filter(prize__contest_id=contest_id)
        .values("prize_id")
        .annotate(
            imported=Count("id"),
            given=Count("id", filter=Q(win__isnull=False)),
            redeemed=Count("id", filter=Q(redeemed_at__isnull=False)),
        )
    )
    return {
        row["prize_id"]: {key: row[key] for key in ("imported", "given", "redeemed")}
        for row in rows
    }
