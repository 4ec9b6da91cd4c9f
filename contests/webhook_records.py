"""The brands' webhook endpoints, the outbox of events and their deliveries: defined here,
imported into contests.models with the other models.

An event is written in the same transaction as what it reports (a win, a review, a
redemption); the job worker fans it out to the endpoints that want it and delivers each
at least once (contests/webhooks/delivery.py).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """Where an API client wants its events: a URL, the kinds it wants, and a secret."""

    client = models.ForeignKey(
        "contests.ApiClient",
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("client"),
    )
    url = models.URLField(_("URL"), max_length=500)
    # Event kinds, e.g. ["win.created", "win.reviewed"] (contests/webhooks/events.py).
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    # The signing secret (whsec_…): shown once when made, never displayed again.
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["client", "id"]

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"


class WebhookEvent(models.Model):
    """One event of the outbox, written with what it reports; its id never changes."""

    # Standard Webhooks' webhook-id: the same on every attempt and every endpoint.
    event_id = models.CharField(_("event id"), max_length=40, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    contest = models.ForeignKey(
        "contests.Contest",
        on_delete=models.PROTECT,
        related_name="webhook_events",
        verbose_name=_("contest"),
    )
    # Only this client's endpoints get it (a win's players are the client's own), if set.
    client = models.ForeignKey(
        "contests.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_events",
        verbose_name=_("client"),
    )
    # The JSON body, exactly as sent ({"type", "timestamp", "data"}).
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"))
    # Set once the worker has made its deliveries.
    fanned_out = models.BooleanField(_("fanned out"), default=False)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(fanned_out=False), name="event_unsent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead")


class WebhookDelivery(models.Model):
    """One event to one endpoint: retried with a growing wait until delivered or dead."""

    event = models.ForeignKey(
        WebhookEvent, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event")
    )
    # PROTECT: deliveries are the record of what was sent; deactivate an endpoint instead.
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When it is next tried; while an attempt runs, when that attempt is given up for lost.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    retry_until = models.DateTimeField(_("retried until"))
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return gettext("%(event)s to %(endpoint)s") % {
            "event": self.event.event_id,
            "endpoint": self.endpoint.url,
        }


class WebhookAttempt(models.Model):
    """One try of a delivery: when, what the receiver answered, or what went wrong."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.PROTECT,
        related_name="attempt_records",
        verbose_name=_("delivery"),
    )
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.attempted_at.isoformat()} {self.status_code or self.error}"
