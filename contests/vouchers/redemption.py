"""Redeeming a voucher: once, by the brand's API client or by staff, with its event."""

import datetime as dt
from enum import Enum

from django.db import transaction

from ..models import RedeemedVia, Voucher
from ..webhooks.events import record_voucher_redeemed


class Redemption(Enum):
    REDEEMED = "redeemed"
    ALREADY = "already"
    UNKNOWN = "unknown"
    FORBIDDEN = "forbidden"


def given_vouchers(code: str):
    """The vouchers with this code that a win took; a code not given yet is unknown."""
    return Voucher.objects.filter(code=code, win__isnull=False)


def redeem_for_client(
    code: str, client_id: int, now: dt.datetime
) -> tuple[Redemption, Voucher | None]:
    """Redeem the code for an API client, if it is a code of a contest the client plays."""
    given = list(given_vouchers(code).select_related("prize__contest", "win").order_by("id"))
    if not given:
        return Redemption.UNKNOWN, None
    # The same code may be in the pools of two prizes: the client's own contests decide.
    enabled = set(
        Voucher.objects.filter(
            pk__in=[voucher.pk for voucher in given],
            prize__contest__api_clients=client_id,
        ).values_list("pk", flat=True)
    )
    mine = [voucher for voucher in given if voucher.pk in enabled]
    if not mine:
        return Redemption.FORBIDDEN, None
    for voucher in mine:
        if redeem(voucher, now, RedeemedVia.API):
            return Redemption.REDEEMED, voucher
    mine[0].refresh_from_db(fields=["redeemed_at"])
    return Redemption.ALREADY, mine[0]


def redeem(voucher: Voucher, now: dt.datetime, via: str) -> bool:
    """Mark the voucher redeemed, with its voucher.redeemed event; False if it already was.

    One conditional UPDATE: of two redemptions at once, exactly one changes the row.
    """
    with transaction.atomic():
        changed = Voucher.objects.filter(
            pk=voucher.pk, win__isnull=False, redeemed_at__isnull=True
        ).update(redeemed_at=now, redeemed_via=via)
        if not changed:
            return False
        voucher.redeemed_at, voucher.redeemed_via = now, via
        record_voucher_redeemed(voucher)
    return True
