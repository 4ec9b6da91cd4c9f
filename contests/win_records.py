"""The wins that claim moments, and their reviews: defined here, imported into
contests.models with the other models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .models import PLAYER_MAX_LENGTH


class ReviewStatus(models.TextChoices):
    # Feminine in Italian: the word they describe is "vincita".
    PENDING = "pending", pgettext_lazy("win", "Not reviewed")
    VALIDATED = "validated", pgettext_lazy("win", "Validated")
    DISQUALIFIED = "disqualified", pgettext_lazy("win", "Disqualified")


class Win(models.Model):
    """A play that claimed a moment: written and committed before the winning answer."""

    # One-to-one: the database itself refuses a second award of the same moment.
    moment = models.OneToOneField(
        "contests.WinningMoment",
        on_delete=models.PROTECT,
        related_name="win",
        verbose_name=_("moment"),
    )
    contest = models.ForeignKey(
        "contests.Contest", on_delete=models.PROTECT, related_name="wins", verbose_name=_("contest")
    )
    prize = models.ForeignKey(
        "contests.Prize", on_delete=models.PROTECT, related_name="wins", verbose_name=_("prize")
    )
    day = models.DateField(_("day"), help_text=_("The contest's local day of the win."))
    won_at = models.DateTimeField(_("won at"))
    request_id = models.CharField(_("request id"), max_length=64)
    # PROTECT: a client with wins stays in the record; deactivate it instead.
    client = models.ForeignKey(
        "ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wins",
        verbose_name=_("client"),
    )
    # Player ids are the client's own: the same id from two clients is two players.
    player = models.CharField(_("player"), max_length=PLAYER_MAX_LENGTH, blank=True)
    # The latest review's verdict, kept here for lists and reports; WinReview has the history.
    review_status = models.CharField(
        _("review"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )

    class Meta:
        verbose_name = _("win")
        verbose_name_plural = _("wins")
        ordering = ["-won_at"]
        indexes = [
            models.Index(fields=["contest", "day"], name="win_contest_day_idx"),
            models.Index(fields=["contest", "day", "client", "player"], name="win_player_day_idx"),
            models.Index(fields=["won_at"], name="win_won_at_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(prize)s won at %(at)s") % {
            "prize": self.prize.code,
            "at": self.won_at.isoformat(),
        }


class WinReview(models.Model):
    """One verdict on a win, with its reason, author and time; the latest one stands."""

    win = models.ForeignKey(
        Win, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("win")
    )
    status = models.CharField(
        _("verdict"),
        max_length=12,
        choices=[(s.value, s.label) for s in (ReviewStatus.VALIDATED, ReviewStatus.DISQUALIFIED)],
    )
    reason = models.TextField(_("reason"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="win_reviews",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("win review")
        verbose_name_plural = _("win reviews")
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return gettext("%(status)s by %(user)s at %(at)s") % {
            "status": self.get_status_display(),
            "user": self.reviewed_by,
            "at": self.reviewed_at,
        }
