"""Contests, their prizes, the daily plans of winning moments and the wins that claim them."""

import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Codes travel in URLs and query strings: letters, digits, "-" and "_" only.
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]*"
CONTEST_CODE_MAX_LENGTH = 32
PRIZE_CODE_MAX_LENGTH = 64
PLAYER_MAX_LENGTH = 128
# Planning a million moments takes seconds and a few hundred MB; more is surely a typo.
PERDAY_MAX = 1_000_000

code_validator = RegexValidator(
    rf"\A{CODE_PATTERN}\Z",
    _("Use only letters, digits, hyphens and underscores, starting with a letter or digit."),
)


_CONTEST_CODE = re.compile(CODE_PATTERN)


def is_contest_code(code: str) -> bool:
    """Could a contest have this code? Codes that could never be saved are not looked up."""
    return len(code) <= CONTEST_CODE_MAX_LENGTH and _CONTEST_CODE.fullmatch(code) is not None


def default_time_zone() -> str:
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a known time zone."), params={"value": repr(value)}
        ) from exc


class ContestStatus(models.TextChoices):
    RUNNING = "running", _("Running today")
    UPCOMING = "upcoming", _("Upcoming")
    ENDED = "ended", _("Ended")


class Contest(models.Model):
    code = models.CharField(
        _("code"), max_length=CONTEST_CODE_MAX_LENGTH, unique=True, validators=[code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    start = models.DateField(_("start"), help_text=_("First day of the contest, in its time zone."))
    end = models.DateField(
        _("end"), help_text=_("Last day of the contest (included), in its time zone.")
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Days run from midnight to midnight in this zone."),
    )
    wmax = models.PositiveIntegerField(
        _("WMAX"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Most wins a player may have per day in this contest; empty for no cap. "
            "With a cap, plays must name the player (?user=…)."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Who changed what, and when (docs/security.md, "History").
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        ordering = ["-start", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")), name="contest_end_not_before_start"
            ),
            models.CheckConstraint(
                condition=Q(wmax__isnull=True) | Q(wmax__gte=1), name="contest_wmax_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})
        if self.pk:
            errors = self.played_rule_errors()
            if errors:
                raise ValidationError(errors)

    def planned_days(self) -> tuple[dt.date, dt.date] | None:
        """The first and last days this contest has plans for, or None if it has none."""
        if not self.pk:
            return None
        span = DayPlan.objects.filter(prize__contest=self.pk).aggregate(
            first=models.Min("day"), last=models.Max("day")
        )
        return None if span["first"] is None else (span["first"], span["last"])

    def played_rule_errors(self) -> dict[str, str]:
        """What this unsaved state would rewrite of a played contest's rules, by field.

        Once a contest has plans, its code and time zone are fixed, its start cannot move
        past a planned day and its end cannot move before one: the plans, the sealed
        commitments and the closing report are made in its days. The database refuses the
        same (migration 0006's trigger).
        """
        planned = self.planned_days()
        if planned is None:
            return {}
        first, last = planned
        stored = Contest.objects.filter(pk=self.pk).values("code", "time_zone").first() or {}
        errors = {}
        if stored.get("code") not in (None, self.code):
            errors["code"] = gettext(
                "The code cannot change once the contest has been played: "
                "players' apps and the sealed plans use it."
            )
        if stored.get("time_zone") not in (None, self.time_zone):
            errors["time_zone"] = gettext(
                "The time zone cannot change once the contest has been played: its days "
                "were planned in %(zone)s."
            ) % {"zone": stored["time_zone"]}
        if self.start and self.start > first:
            errors["start"] = gettext(
                "The start cannot move past %(day)s, a day that has been planned."
            ) % {"day": first.isoformat()}
        if self.end and self.end < last:
            errors["end"] = gettext(
                "The end cannot move before %(day)s, a day that has been planned."
            ) % {"day": last.isoformat()}
        return errors

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.zone).date()

    def is_active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def status_on(self, day: dt.date) -> ContestStatus:
        if day < self.start:
            return ContestStatus.UPCOMING
        if day > self.end:
            return ContestStatus.ENDED
        return ContestStatus.RUNNING


class Prize(models.Model):
    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="prizes", verbose_name=_("contest")
    )
    code = models.CharField(
        _("code"), max_length=PRIZE_CODE_MAX_LENGTH, validators=[code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    perday = models.PositiveIntegerField(
        _("perday"),
        validators=[MinValueValidator(1), MaxValueValidator(PERDAY_MAX)],
        help_text=_("Wins per day. A change applies from the next day not yet planned."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ["contest", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "code"], name="prize_code_unique_in_contest"
            ),
            models.CheckConstraint(condition=Q(perday__gte=1), name="prize_perday_at_least_one"),
        ]

    def __str__(self) -> str:
        return gettext("%(code)s (%(perday)s/day)") % {"code": self.code, "perday": self.perday}

    def clean(self) -> None:
        if self.pk and self.plans.exists():
            stored = Prize.objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if stored is not None and stored != self.code:
                raise ValidationError(
                    {
                        "code": _(
                            "The code cannot change once the prize has plans: "
                            "winners received it and the sealed plans use it."
                        )
                    }
                )


class DayPlan(models.Model):
    """The winning moments of one prize on one local day: made once, then never changed."""

    # PROTECT: a plan is the audit record of its day, so its prize and contest stay.
    prize = models.ForeignKey(
        Prize, on_delete=models.PROTECT, related_name="plans", verbose_name=_("prize")
    )
    day = models.DateField(_("day"))
    window_start = models.DateTimeField(
        _("window start"),
        help_text=_("Local midnight, or the time the plan was made if that was later."),
    )
    window_end = models.DateTimeField(_("window end"), help_text=_("The next local midnight."))
    moment_count = models.PositiveIntegerField(
        _("moment count"), help_text=_("The prize's perday when planned.")
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
    plan = models.ForeignKey(
        DayPlan, on_delete=models.PROTECT, related_name="moments", verbose_name=_("plan")
    )
    # Copied from the plan so that claiming reads one table through one small index.
    contest = models.ForeignKey(
        Contest, on_delete=models.PROTECT, related_name="+", verbose_name=_("contest")
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


class ReviewStatus(models.TextChoices):
    # Feminine in Italian: the word they describe is "vincita".
    PENDING = "pending", pgettext_lazy("win", "Not reviewed")
    VALIDATED = "validated", pgettext_lazy("win", "Validated")
    DISQUALIFIED = "disqualified", pgettext_lazy("win", "Disqualified")


class Win(models.Model):
    """A play that claimed a moment: written and committed before the winning answer."""

    # One-to-one: the database itself refuses a second award of the same moment.
    moment = models.OneToOneField(
        WinningMoment, on_delete=models.PROTECT, related_name="win", verbose_name=_("moment")
    )
    contest = models.ForeignKey(
        Contest, on_delete=models.PROTECT, related_name="wins", verbose_name=_("contest")
    )
    prize = models.ForeignKey(
        Prize, on_delete=models.PROTECT, related_name="wins", verbose_name=_("prize")
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


# Defined beside this module, imported here so that Django and every import find them.
from .audit_records import AuditEvent, AuditEventKind, PlanDocument, PlanDocumentPart  # noqa: E402
from .client_records import ApiClient, ApiToken  # noqa: E402
from .play_records import IdempotentAnswer, PlayCount, PlayStateVersion  # noqa: E402

__all__ = ["ApiClient", "ApiToken", "AuditEvent", "AuditEventKind", "IdempotentAnswer"]
__all__ += ["PlanDocument", "PlanDocumentPart", "PlayCount", "PlayStateVersion"]
