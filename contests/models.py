"""Contests, their prizes, the daily plans of winning moments and the wins that claim them."""

import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
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
    "Use only letters, digits, hyphens and underscores, starting with a letter or digit.",
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
        raise ValidationError(f"{value!r} is not a known time zone.") from exc


class ContestStatus(models.TextChoices):
    RUNNING = "running", "Running today"
    UPCOMING = "upcoming", "Upcoming"
    ENDED = "ended", "Ended"


class Contest(models.Model):
    code = models.CharField(
        max_length=CONTEST_CODE_MAX_LENGTH, unique=True, validators=[code_validator]
    )
    name = models.CharField(max_length=200)
    start = models.DateField(help_text="First day of the contest, in its time zone.")
    end = models.DateField(help_text="Last day of the contest (included), in its time zone.")
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="Days run from midnight to midnight in this zone.",
    )
    wmax = models.PositiveIntegerField(
        "WMAX",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Most wins a player may have per day in this contest; empty for no cap. "
        "With a cap, plays must name the player (?user=…).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what, and when (docs/security.md, "History").
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
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
            raise ValidationError({"end": "The end date cannot be before the start date."})
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
            errors["code"] = (
                "The code cannot change once the contest has been played: "
                "players' apps and the sealed plans use it."
            )
        if stored.get("time_zone") not in (None, self.time_zone):
            errors["time_zone"] = (
                "The time zone cannot change once the contest has been played: its days "
                f"were planned in {stored['time_zone']}."
            )
        if self.start and self.start > first:
            errors["start"] = (
                f"The start cannot move past {first:%Y-%m-%d}, a day that has been planned."
            )
        if self.end and self.end < last:
            errors["end"] = (
                f"The end cannot move before {last:%Y-%m-%d}, a day that has been planned."
            )
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
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="prizes")
    code = models.CharField(max_length=PRIZE_CODE_MAX_LENGTH, validators=[code_validator])
    name = models.CharField(max_length=200)
    perday = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(PERDAY_MAX)],
        help_text="Wins per day. A change applies from the next day not yet planned.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["contest", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "code"], name="prize_code_unique_in_contest"
            ),
            models.CheckConstraint(condition=Q(perday__gte=1), name="prize_perday_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.perday}/day)"

    def clean(self) -> None:
        if self.pk and self.plans.exists():
            stored = Prize.objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if stored is not None and stored != self.code:
                raise ValidationError(
                    {
                        "code": "The code cannot change once the prize has plans: "
                        "winners received it and the sealed plans use it."
                    }
                )


class DayPlan(models.Model):
    """The winning moments of one prize on one local day: made once, then never changed."""

    # PROTECT: a plan is the audit record of its day, so its prize and contest stay.
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="plans")
    day = models.DateField()
    window_start = models.DateTimeField(
        help_text="Local midnight, or the time the plan was made if that was later."
    )
    window_end = models.DateTimeField(help_text="The next local midnight.")
    moment_count = models.PositiveIntegerField(help_text="The prize's perday when planned.")
    made_at = models.DateTimeField()
    # The seal (contests/sealing.py): published at once, the salt only after the day.
    # Empty only on plans made before plans were sealed.
    salt = models.CharField(max_length=64, editable=False, default="")
    commitment = models.CharField(
        max_length=64, editable=False, default="", help_text="SHA-256 of the canonical text."
    )

    class Meta:
        ordering = ["-day", "prize"]
        constraints = [
            models.UniqueConstraint(fields=["prize", "day"], name="one_plan_per_prize_and_day"),
        ]

    def __str__(self) -> str:
        return f"{self.prize.contest.code}/{self.prize.code} on {self.day}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("A day plan is the record of its day and never changes.")
        super().save(*args, **kwargs)


class WinningMoment(models.Model):
    plan = models.ForeignKey(DayPlan, on_delete=models.PROTECT, related_name="moments")
    # Copied from the plan so that claiming reads one table through one small index.
    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    at = models.DateTimeField()
    claimed = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["contest", "day", "at"],
                condition=Q(claimed=False),
                name="moment_unclaimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} at {self.at.isoformat()}"


class ApiClient(models.Model):
    """A brand that plays through the API with its own tokens, in the contests it is enabled for.

    A contest that no client is enabled for is public; once one is, only its clients play.
    """

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(
        "active", default=True, help_text="An inactive client's tokens are refused."
    )
    contests = models.ManyToManyField(Contest, related_name="api_clients", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Enabling it for a contest, or no longer, is an AuditEvent of that contest
    # (contests/signals.py): simple-history's m2m tracking fails on contest.api_clients.
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A client's bearer token, kept only as its SHA-256 digest: shown once, when made."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, to tell tokens apart without revealing them.
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Issued ("+") and revoked ("~" setting revoked_at); its uses are not history.
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["client", "-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Not reviewed"
    VALIDATED = "validated", "Validated"
    DISQUALIFIED = "disqualified", "Disqualified"


class Win(models.Model):
    """A play that claimed a moment: written and committed before the winning answer."""

    # One-to-one: the database itself refuses a second award of the same moment.
    moment = models.OneToOneField(WinningMoment, on_delete=models.PROTECT, related_name="win")
    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="wins")
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="wins")
    day = models.DateField(help_text="The contest's local day of the win.")
    won_at = models.DateTimeField()
    request_id = models.CharField(max_length=64)
    # PROTECT: a client with wins stays in the record; deactivate it instead.
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="wins"
    )
    # Player ids are the client's own: the same id from two clients is two players.
    player = models.CharField(max_length=PLAYER_MAX_LENGTH, blank=True)
    # The latest review's verdict, kept here for lists and reports; WinReview has the history.
    review_status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )

    class Meta:
        ordering = ["-won_at"]
        indexes = [
            models.Index(fields=["contest", "day"], name="win_contest_day_idx"),
            models.Index(fields=["contest", "day", "client", "player"], name="win_player_day_idx"),
            models.Index(fields=["won_at"], name="win_won_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prize.code} won at {self.won_at.isoformat()}"


class WinReview(models.Model):
    """One verdict on a win, with its reason, author and time; the latest one stands."""

    win = models.ForeignKey(Win, on_delete=models.PROTECT, related_name="reviews")
    status = models.CharField(
        max_length=12,
        choices=[(s.value, s.label) for s in (ReviewStatus.VALIDATED, ReviewStatus.DISQUALIFIED)],
    )
    reason = models.TextField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="win_reviews"
    )
    reviewed_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} by {self.reviewed_by} at {self.reviewed_at}"


class PlayCount(models.Model):
    """Plays of a contest in one hour of its local day, moved here from the cache in batches."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="play_counts")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField(
        help_text="Hours since local midnight: 0–22 on a 23-hour day, 0–24 on a 25-hour day."
    )
    plays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["contest", "day", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "day", "hour"], name="one_play_count_per_contest_hour"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id} {self.day} hour {self.hour}: {self.plays}"


# Defined beside this module, imported here so that Django and every import find them.
from .audit_records import AuditEvent, AuditEventKind, PlanDocument, PlanDocumentPart  # noqa: E402
from .play_records import IdempotentAnswer, PlayStateVersion  # noqa: E402

__all__ = ["AuditEvent", "AuditEventKind", "IdempotentAnswer", "PlanDocument"]
__all__ += ["PlanDocumentPart", "PlayStateVersion"]
