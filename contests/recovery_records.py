"""The closing of a contest: the promoter, the participant register and the recovery draw.
Defined here, imported into contests.models with the other models. The procedure and the
services that write these are in contests/recovery/; docs/auditing.md explains them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import PLAYER_MAX_LENGTH, RecoveryEntries


class Promoter(models.Model):
    """Who runs the contests (the "promotore"): one row, shown on every closing record."""

    company = models.CharField(_("company"), max_length=200, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)

    class Meta:
        verbose_name = _("promoter")
        verbose_name_plural = _("promoter")

    def __str__(self) -> str:
        return self.company or gettext("Promoter")

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # site-wide settings: one row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "Promoter":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Participant(models.Model):
    """A player's plays of a contest on one local day, through one client (or none).

    Written in batches by contests/participants.py, never one row per play. Two partial
    unique constraints instead of one: a NULL client is distinct from every other NULL."""

    contest = models.ForeignKey(
        "contests.Contest",
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name=_("contest"),
    )
    client = models.ForeignKey(
        "contests.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    player = models.CharField(_("player"), max_length=PLAYER_MAX_LENGTH)
    day = models.DateField(_("day"))
    plays = models.PositiveIntegerField(_("plays"), default=0)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participant register")
        ordering = ["contest", "day", "client", "player"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "client", "player", "day"],
                condition=Q(client__isnull=False),
                name="one_participant_day_per_client",
            ),
            models.UniqueConstraint(
                fields=["contest", "player", "day"],
                condition=Q(client__isnull=True),
                name="one_participant_day_without_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id or ''}:{self.player} {self.day} ({self.plays})"


class RecoveryState(models.TextChoices):
    FROZEN = "frozen", _("Frozen")
    DRAWN = "drawn", _("Drawn")


class RecoveryDraw(models.Model):
    """A contest's recovery draw: frozen once (the list, its digest, the seed's commitment),
    then drawn once (the seed revealed, the picks written). Only `state`, `drawn_at` and
    `drawn_by` ever change, once; the seed is kept from the freeze and shown after the draw."""

    contest = models.OneToOneField(
        "contests.Contest",
        on_delete=models.PROTECT,
        related_name="recovery",
        verbose_name=_("contest"),
    )
    state = models.CharField(_("state"), max_length=8, choices=RecoveryState.choices)
    entries = models.CharField(_("entries"), max_length=10, choices=RecoveryEntries.choices)
    reserves = models.PositiveSmallIntegerField(_("reserves per prize"))
    # The canonical text of the eligible list (contests/recovery/procedure.py).
    participants_text = models.TextField(_("eligible participants"), editable=False)
    participants_count = models.PositiveIntegerField(_("eligible participants"))
    excluded_count = models.PositiveIntegerField(_("excluded participants"))
    participants_sha256 = models.CharField(_("participants SHA-256"), max_length=64)
    seed_sha256 = models.CharField(_("seed SHA-256"), max_length=64)
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_by = models.CharField(_("frozen by"), max_length=150)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    drawn_by = models.CharField(_("drawn by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("recovery draw")
        verbose_name_plural = _("recovery draws")
        permissions = [("hold_recovery_draw", _("Can freeze and draw a recovery draw"))]

    def __str__(self) -> str:
        return gettext("Recovery draw of %(contest)s") % {"contest": self.contest.code}

    @property
    def is_drawn(self) -> bool:
        return self.state == RecoveryState.DRAWN

    def revealed_seed(self) -> str | None:
        return self.seed if self.is_drawn else None


class RecoveryPrize(models.Model):
    """What the draw gives out of one prize: its moments nobody claimed and its wins
    disqualified, counted at the freeze."""

    draw = models.ForeignKey(
        RecoveryDraw, on_delete=models.PROTECT, related_name="prizes", verbose_name=_("draw")
    )
    prize = models.ForeignKey(
        "contests.Prize", on_delete=models.PROTECT, related_name="+", verbose_name=_("prize")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    unclaimed = models.PositiveIntegerField(_("moments not claimed"))
    disqualified = models.PositiveIntegerField(_("wins disqualified"))
    to_draw = models.PositiveIntegerField(_("to draw"))

    class Meta:
        verbose_name = _("recovery prize")
        verbose_name_plural = _("recovery prizes")
        ordering = ["draw", "position"]

    def __str__(self) -> str:
        return f"{self.prize.code}: {self.to_draw}"


class RecoveryExclusion(models.Model):
    """A registered participant left out of the eligible list, and why."""

    draw = models.ForeignKey(
        RecoveryDraw, on_delete=models.PROTECT, related_name="exclusions", verbose_name=_("draw")
    )
    entrant = models.CharField(_("participant"), max_length=PLAYER_MAX_LENGTH + 21)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("recovery exclusion")
        verbose_name_plural = _("recovery exclusions")
        ordering = ["draw", "entrant"]

    def __str__(self) -> str:
        return f"{self.entrant}: {self.reason}"


class PickRole(models.TextChoices):
    WINNER = "winner", _("Winner")
    RESERVE = "reserve", _("Reserve")


class RecoveryPick(models.Model):
    """One person the draw picked for a prize, in the order drawn: winners, then reserves."""

    draw = models.ForeignKey(
        RecoveryDraw, on_delete=models.PROTECT, related_name="picks", verbose_name=_("draw")
    )
    prize = models.ForeignKey(
        "contests.Prize", on_delete=models.PROTECT, related_name="+", verbose_name=_("prize")
    )
    role = models.CharField(_("role"), max_length=8, choices=PickRole.choices)
    rank = models.PositiveIntegerField(_("rank"), help_text=_("Order drawn, from 1, per prize."))
    # "client:player", client empty without one: the form the canonical list uses.
    entrant = models.CharField(_("participant"), max_length=PLAYER_MAX_LENGTH + 21)

    class Meta:
        verbose_name = _("recovery pick")
        verbose_name_plural = _("recovery picks")
        ordering = ["draw", "prize", "role", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "entrant"], name="one_pick_per_entrant"),
        ]

    def __str__(self) -> str:
        return f"{self.prize.code} {self.get_role_display()} {self.rank}: {self.entrant}"


class RecoveryReplacement(models.Model):
    """A recovery winner disqualified in review, and the reserve who took the prize (none
    when the prize's reserves had run out: it then goes to the beneficiary)."""

    disqualified = models.OneToOneField(
        RecoveryPick,
        on_delete=models.PROTECT,
        related_name="disqualification",
        verbose_name=_("disqualified winner"),
    )
    replacement = models.OneToOneField(
        RecoveryPick,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced",
        verbose_name=_("replacement"),
    )
    reason = models.TextField(_("reason"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_by_name = models.CharField(_("reviewed by"), max_length=150)
    reviewed_at = models.DateTimeField(_("reviewed at"))

    class Meta:
        verbose_name = _("recovery replacement")
        verbose_name_plural = _("recovery replacements")
        ordering = ["reviewed_at", "id"]

    def __str__(self) -> str:
        taker = self.replacement.entrant if self.replacement else "-"
        return f"{self.disqualified.entrant} → {taker}"
