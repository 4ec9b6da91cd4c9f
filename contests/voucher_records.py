"""Voucher codes, one given to each win of a prize that has a pool: defined here, imported
into contests.models with the other models.

A code is a secret until a win takes it: nobody sees it before (docs/security.md), and it
is taken inside the claim's transaction (contests/moments/vouchers.py).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Prize

VOUCHER_CODE_MAX_LENGTH = 64


class RedeemedVia(models.TextChoices):
    API = "api", _("API")
    STAFF = "staff", _("Staff portal")


class Voucher(models.Model):
    """One single-use code of a prize's pool; given to at most one win, redeemed once."""

    # No index of its own: the free codes' index leads with it.
    prize = models.ForeignKey(
        "contests.Prize",
        on_delete=models.PROTECT,
        related_name="vouchers",
        verbose_name=_("prize"),
        db_index=False,
    )
    code = models.CharField(_("code"), max_length=VOUCHER_CODE_MAX_LENGTH)
    # One-to-one: the database itself refuses to give a code to two wins.
    win = models.OneToOneField(
        "contests.Win",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="voucher",
        verbose_name=_("win"),
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_via = models.CharField(
        _("redeemed via"), max_length=8, choices=RedeemedVia.choices, blank=True
    )

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["prize", "id"]
        constraints = [
            # Code first: the same index finds a code by itself, for redemptions.
            models.UniqueConstraint(fields=["code", "prize"], name="voucher_code_unique_in_prize"),
            models.CheckConstraint(
                condition=Q(redeemed_at__isnull=True) | Q(win__isnull=False),
                name="voucher_redeemed_only_once_given",
            ),
        ]
        indexes = [
            # The claim's lookup: the prize's first code still free.
            models.Index(
                fields=["prize", "id"], condition=Q(win__isnull=True), name="voucher_free_idx"
            ),
        ]

    def __str__(self) -> str:
        # Never the code itself: a string of a model ends up in logs and admin messages.
        return gettext("Voucher %(number)s of %(prize)s") % {
            "number": self.pk,
            "prize": self.prize.code,
        }


class VoucherPool(Prize):
    """A prize seen as its pool of codes, in the admin: where codes are imported."""

    class Meta:
        proxy = True
        verbose_name = _("voucher pool")
        verbose_name_plural = _("voucher pools")
