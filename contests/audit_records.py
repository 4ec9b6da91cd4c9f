"""The audit trail beside the history: events (sign-ins, lockouts, plans made by commands)
and the published plan documents of finished days. Written once, never changed."""

from django.conf import settings
from django.db import models

from .models import Contest


class AuditEventKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    TWO_FACTOR_FAILED = "two_factor_failed", "Two-factor code refused"
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", "Two-factor device enrolled"
    PLAN_MADE_BY_COMMAND = "plan_made_by_command", "Plans made by a command"
    CLIENT_ENABLED = "client_enabled", "API client enabled"
    CLIENT_DISABLED = "client_disabled", "API client no longer enabled"
    USER_DEACTIVATED = "user_deactivated", "User deactivated"
    RECOVERY_FROZEN = "recovery_frozen", "Recovery draw frozen"
    RECOVERY_DRAWN = "recovery_drawn", "Recovery draw drawn"
    RECOVERY_REFUSED = "recovery_refused", "Recovery draw action refused"
    RECOVERY_REPLACED = "recovery_replaced", "Recovery winner replaced"


class AuditEvent(models.Model):
    """Something that happened rather than a row that changed: sign-ins, lockouts, plans
    made by commands. Append-only: written once, never changed or deleted."""

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=32, choices=AuditEventKind.choices)
    # The account, when there is one; `username` is what was typed, which may be nobody's.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    contest = models.ForeignKey(
        Contest, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    detail = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit event"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username or ''} at {self.at.isoformat()}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("An audit event is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("An audit event is never deleted.")


class PlanDocument(models.Model):
    """The published plans of a contest's finished day, built once and served as stored.

    GET /contests/CODE/plans/DAY/ streams its parts in order; the day's plans can no
    longer change (no plan is made for a day that is over, and plans never change).
    Written once, parts after the document in the same transaction, never updated."""

    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contest", "day"], name="one_plan_document_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id} plans of {self.day}"


class PlanDocumentPart(models.Model):
    document = models.ForeignKey(PlanDocument, on_delete=models.PROTECT, related_name="parts")
    number = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="one_part_per_number"),
        ]

    def __str__(self) -> str:
        return f"part {self.number} of {self.document}"
