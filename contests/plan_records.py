"""The daily plans of winning moments: defined here, imported into contests.models with the
other models."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DayPlan(models.Model):
    """The winning moments of one prize on one local day: made once, then never changed."""

    # PROTECT: a plan is the audit record of its day, so its prize and contest stay.
    prize = models.ForeignKey(
        "contests.Prize", on_delete=models.PROTECT, related_name="plans", verbose_name=_("prize")
    )
    day = models.DateField(_("day"))
    window_start = models.DateTimeField(
        _("window start"),
        help_text=_("Local midnight, or the time the plan was made if that was later."),
    )
    window_end = models.DateTimeField(_("window end"), help_text=_("The next local midnight."))
    moment_count = models.PositiveIntegerField(
        _("moment count"),
        help_text=_("The prize's perday when planned, or what its stock allotted the day."),
    )
    made_at = models.DateTimeField(_("made at"))
    # The seal (contests/sealing.py): published at once, the salt only after the day.
    # Empty only on plans made before plans were sealed.
    salt = models.CharField(_("salt"), max_length=64, editable=False, default="")
    commitment = models.CharField(
        _("commitment"),
        max_length=64,
        editable=False,
        default="",
        help_text=_("SHA-256 of the canonical text."),
    )
    # The draw rules the plan was made under, as sealed (the v2 text); empty: none (v1).
    rules = models.TextField(_("rules"), editable=False, default="")
    # From the sealed "unclaimed:" rule: what the claim reads (contests/moments/claiming.py).
    expire_after = models.DurationField(
        _("unclaimed moments expire after"), null=True, editable=False
    )

    class Meta:
        verbose_name = _("day plan")
        verbose_name_plural = _("day plans")
        ordering = ["-day", "prize"]
        constraints = [
            models.UniqueConstraint(fields=["prize", "day"], name="one_plan_per_prize_and_day"),
        ]

    def __str__(self) -> str:
        return gettext("%(contest)s/%(prize)s on %(day)s") % {
            "contest": self.prize.contest.code,
            "prize": self.prize.code,
            "day": self.day.isoformat(),
        }

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("A day plan is the record of its day and never changes.")
        super().save(*args, **kwargs)


class WinningMoment(models.Model):
    # No constraint in the database: checking the key of every row of a plan's COPY (at
    # commit, the constraint being deferred) was a third of the cost of planning
    # (docs/scaling.md, "Planning at scale"). The plan is inserted in the same transaction
    # just before its moments, the portal's database role cannot delete plans, and
    # verify_plans checks every plan's moments against its seal.
    plan = models.ForeignKey(
        DayPlan,
        on_delete=models.PROTECT,
        related_name="moments",
        verbose_name=_("plan"),
        db_constraint=False,
    )
    # Copied from the plan so that claiming reads one table through one small index (the
    # partial one below). No constraint and no index of its own, for the same reason.
    contest = models.ForeignKey(
        "contests.Contest",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("contest"),
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("at"))
    claimed = models.BooleanField(_("claimed"), default=False)

    class Meta:
        verbose_name = _("winning moment")
        verbose_name_plural = _("winning moments")
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["contest", "day", "at"],
                condition=Q(claimed=False),
                name="moment_unclaimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(plan)s at %(at)s") % {"plan": self.plan, "at": self.at.isoformat()}
