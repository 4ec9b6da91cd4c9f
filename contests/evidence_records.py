"""Trusted timestamps (RFC 3161) of what the portal commits to: defined here, imported into
contests.models with the other models. Both tables are evidence: written once, never
changed or deleted (contests/database_roles.py). How they are made and checked:
contests/evidence/timestamps.py."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TimestampRequest(models.Model):
    """A digest that must be timestamped: recorded when it is made, stamped by the worker.

    `kind` says what was digested (a plan's commitment, a closing record, a recovery
    draw…) and `reference` which one (the plan's id, the contest's code…). A request whose
    Timestamp does not exist yet is pending; the job `stamp_timestamps` retries it.
    """

    kind = models.CharField(_("kind"), max_length=32)
    reference = models.CharField(_("reference"), max_length=200)
    digest = models.CharField(
        _("digest"), max_length=64, help_text=_("SHA-256, lowercase hex: what the token stamps.")
    )
    requested_at = models.DateTimeField(_("requested at"))

    class Meta:
        verbose_name = _("timestamp request")
        verbose_name_plural = _("timestamp requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference", "digest"], name="one_request_per_digest"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s %(reference)s (%(digest)s)") % {
            "kind": self.kind,
            "reference": self.reference,
            "digest": self.digest[:12],
        }

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("A timestamp request is written once and never changed.")
        super().save(*args, **kwargs)


class Timestamp(models.Model):
    """The TSA's signed token for a request: RFC 3161 TimeStampToken, DER."""

    request = models.OneToOneField(
        TimestampRequest,
        on_delete=models.PROTECT,
        related_name="timestamp",
        verbose_name=_("request"),
    )
    token = models.BinaryField(_("token"))
    # The token's own genTime, copied for queries and pages; checks read the token.
    stamped_at = models.DateTimeField(_("stamped at"))
    tsa_url = models.CharField(_("TSA"), max_length=500)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("timestamp")
        verbose_name_plural = _("timestamps")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return gettext("%(request)s stamped at %(at)s") % {
            "request": self.request,
            "at": self.stamped_at.isoformat(),
        }

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("A timestamp is written once and never changed.")
        super().save(*args, **kwargs)
