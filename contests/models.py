"""Contests, their prizes, the daily plans of winning moments and the wins that claim them."""

import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .moments.hours import HoursError, parse_hours

# Codes travel in URLs and query strings: letters, digits, "-" and "_" only.
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]*"
CONTEST_CODE_MAX_LENGTH = 32
PRIZE_CODE_MAX_LENGTH = 64
PLAYER_MAX_LENGTH = 128
# Planning a million moments takes seconds and a few hundred MB; more is surely a typo.
PERDAY_MAX = 1_000_000
PLAY_INTERVAL_MAX = 86_400
EXPIRE_AFTER_MAX = 1_440

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


def validate_opening_hours(value: str) -> None:
    try:
        parse_hours(value)
    except HoursError as exc:
        raise ValidationError(
            _("These are not opening hours: %(problem)s."), params={"problem": str(exc)}
        ) from exc


class ContestStatus(models.TextChoices):
    RUNNING = "running", _("Running today")
    UPCOMING = "upcoming", _("Upcoming")
    ENDED = "ended", _("Ended")


class RecoveryEntries(models.TextChoices):
    PER_PLAYER = "per_player", _("One entry per player")
    PER_PLAY = "per_play", _("One entry per play")


# An Italian codice fiscale: 11 digits for a company or non-profit, 16 characters for a person.
fiscal_code = RegexValidator(
    r"\A(?:[0-9]{11}|[A-Z0-9]{16})\Z",
    _("A fiscal code is 11 digits, or 16 capital letters and digits."),
)


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
    # The closing (docs/auditing.md, "The closing"): who receives what nobody won, and
    # whether a recovery draw among the participants comes first.
    beneficiary_name = models.CharField(
        _("beneficiary"), max_length=200, blank=True, help_text=_("The non-profit (ONLUS).")
    )
    beneficiary_fiscal_code = models.CharField(
        _("beneficiary's fiscal code"), max_length=16, blank=True, validators=[fiscal_code]
    )
    recovery_draw = models.BooleanField(_("recovery draw"), default=False)
    recovery_entries = models.CharField(
        _("recovery draw entries"),
        max_length=10,
        choices=RecoveryEntries.choices,
        default=RecoveryEntries.PER_PLAYER,
    )
    recovery_reserves = models.PositiveSmallIntegerField(
        _("reserves per prize"), default=3, validators=[MaxValueValidator(100)]
    )
    # The operators' draw rules (docs/design.md, "Draw rules"): empty keeps today's behaviour.
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=500,
        blank=True,
        default="",
        validators=[validate_opening_hours],
        help_text=_(
            "Local times in which moments fall, e.g. “mon-fri 08:00-22:00; sat 09:00-13:00”; "
            "days not named are closed. Empty: all day, every day."
        ),
    )
    wmax_total = models.PositiveIntegerField(
        _("wins per player over the contest"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Most wins a player may have over the whole contest; empty for no cap."),
    )
    play_interval = models.PositiveIntegerField(
        _("play interval (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(PLAY_INTERVAL_MAX)],
        help_text=_(
            "Least time between two plays of a player; sooner plays are refused (429). "
            "Empty for none. Plays must name the player (?user=…)."
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
        try:  # kept in canonical form: "mon-fri 08:00-22:00; sat 09:00-13:00"
            hours = parse_hours(self.opening_hours)
            self.opening_hours = "" if hours is None else hours.text()
        except HoursError:
            pass  # its field's validator says why
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
    value = models.DecimalField(
        _("value (EUR)"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Market value of one prize, VAT included."),
    )
    stock = models.PositiveIntegerField(
        _("stock"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Most moments over the whole contest, spread over its days; empty for none."),
    )
    expire_after_minutes = models.PositiveIntegerField(
        _("unclaimed moments expire after (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(EXPIRE_AFTER_MAX)],
        help_text=_(
            "Empty: a moment nobody claims goes to the next play, until midnight. Else it "
            "expires this long after it fell due and goes back to the stock, if any."
        ),
    )
    # Set by the first import of voucher codes: each win then takes one (voucher_records.py).
    has_voucher_pool = models.BooleanField(_("voucher pool"), default=False, editable=False)
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
            models.CheckConstraint(condition=Q(value__gte=0), name="prize_value_not_negative"),
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


# Defined beside this module, imported here so that Django and every import find them.
from .audit_records import AuditEvent, AuditEventKind, PlanDocument, PlanDocumentPart  # noqa: E402
from .client_records import ApiClient, ApiToken  # noqa: E402
from .evidence_records import Timestamp, TimestampRequest  # noqa: E402
from .plan_records import DayPlan, WinningMoment  # noqa: E402
from .play_records import IdempotentAnswer, PlayCount, PlayStateVersion  # noqa: E402
from .recovery_records import Participant, Promoter, RecoveryDraw, RecoveryPick  # noqa: E402
from .voucher_records import RedeemedVia, Voucher, VoucherPool  # noqa: E402
from .webhook_records import (  # noqa: E402
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .win_records import ReviewStatus, Win, WinReview  # noqa: E402

__all__ = ["ApiClient", "ApiToken", "AuditEvent", "AuditEventKind", "IdempotentAnswer"]
__all__ += ["PlanDocument", "PlanDocumentPart", "PlayCount", "PlayStateVersion"]
__all__ += ["DayPlan", "ReviewStatus", "Win", "WinReview", "WinningMoment"]
__all__ += ["Participant", "Promoter", "RecoveryDraw", "RecoveryPick"]
__all__ += ["Timestamp", "TimestampRequest"]
__all__ += ["DeliveryStatus", "RedeemedVia", "Voucher", "WebhookAttempt", "WebhookDelivery"]
__all__ += ["VoucherPool", "WebhookEndpoint", "WebhookEvent"]
