"""What the play path keeps in the database besides plans and wins: the plays counted per
hour, the version its memory follows, and the first answers to plays sent with an
Idempotency-Key."""

import datetime as dt

from django.db import connection, models
from django.db.models import F
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import CONTEST_CODE_MAX_LENGTH, PLAYER_MAX_LENGTH


class PlayStateVersion(models.Model):
    """A number that moves whenever something the play path remembers changes.

    One row. Contests, prizes, API clients and tokens bump it in the transaction that changes
    them (contests/signals.py); every process reads it at most twice per PLAY_MEMORY_MAX_AGE
    and forgets what it remembered when it has moved (contests/play/memory.py).
    """

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("value", flat=True).first() or 0

    @classmethod
    def current_and_clock(cls) -> tuple[int, dt.datetime]:
        """The version, and the database's clock as it read it, in one query (PostgreSQL)."""
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(cls._meta.db_table)
            cursor.execute(f"SELECT (SELECT value FROM {table} WHERE id = 1), clock_timestamp()")  # noqa: S608
            version, clock = cursor.fetchone()
        return version or 0, clock

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(value=F("value") + 1):
            cls.objects.get_or_create(pk=1, defaults={"value": 1})


class IdempotentAnswer(models.Model):
    """The first answer to a play that carried an Idempotency-Key, replayed to its retries.

    A winning answer's row is written in the claim's transaction: a client whose answer
    was lost (a worker killed between the commit and the answer) learns on retry that it
    won, and the retry can never win again.
    """

    # Who sent the key: "client:<id>" for an API client's token, "anonymous" without one.
    caller = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    contest_code = models.CharField(max_length=CONTEST_CODE_MAX_LENGTH)
    player = models.CharField(max_length=PLAYER_MAX_LENGTH, blank=True)
    status = models.PositiveSmallIntegerField()
    body = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="one_answer_per_caller_and_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.contest_code})"


class PlayCount(models.Model):
    """Plays of a contest in one hour of its local day, moved here from the cache in batches."""

    contest = models.ForeignKey(
        "contests.Contest",
        on_delete=models.CASCADE,
        related_name="play_counts",
        verbose_name=_("contest"),
    )
    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(
        _("hour"),
        help_text=_("Hours since local midnight: 0–22 on a 23-hour day, 0–24 on a 25-hour day."),
    )
    plays = models.PositiveIntegerField(_("plays"), default=0)

    class Meta:
        verbose_name = _("play count")
        verbose_name_plural = _("play counts")
        ordering = ["contest", "day", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "day", "hour"], name="one_play_count_per_contest_hour"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(contest)s %(day)s hour %(hour)s: %(plays)s") % {
            "contest": self.contest_id,
            "day": self.day,
            "hour": self.hour,
            "plays": self.plays,
        }
