"""What the play path keeps in the database besides plays, plans and wins: the version its
memory follows, and the first answers to plays sent with an Idempotency-Key."""

from django.db import models
from django.db.models import F

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
