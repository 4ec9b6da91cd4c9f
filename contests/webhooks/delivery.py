"""Delivering the outbox: at least once, signed as Standard Webhooks, retried for 24 hours.

Run by the job worker (`deliver_webhooks`, every few seconds) and by `manage.py
deliver_webhooks --once`; never by a play. Each run
1. fans out new events: one delivery per endpoint that wants the event's kind;
2. leases the due deliveries (FOR UPDATE SKIP LOCKED, so runs side by side never take the
   same one) by moving their next attempt past the batch's longest time, and counts the
   attempt; a worker killed mid-attempt thus leaves the delivery due again soon after;
3. posts each one and records the answer: delivered on a 2xx; otherwise tried again after
   WEBHOOK_RETRY_SECONDS, doubled each time (at most WEBHOOK_RETRY_MAX_SECONDS), until
   WEBHOOK_RETRY_FOR_SECONDS after the event; then dead (the admin can replay it).
"""

import base64
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

import httpx
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from standardwebhooks.webhooks import Webhook

from .. import metrics
from ..models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .addresses import check_url
from .defaults import setting

# httpx logs a line per request at INFO, with the brand's URL: the admin lists attempts.
logging.getLogger("httpx").setLevel(logging.WARNING)

SECRET_PREFIX = "whsec_"  # noqa: S105 (marks the secrets, as Standard Webhooks does)
FAN_OUT_BATCH = 500
# Deliveries leased at once: each run attempts them one after the other, so their lease
# lasts as long as all their timeouts, and a margin, before they are due again.
DELIVERY_BATCH = 10
LEASE_MARGIN = dt.timedelta(seconds=30)


def new_secret() -> str:
    """A signing secret: 24 random bytes, base64, with Standard Webhooks' prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(secret: str, event_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256>)."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
        "content-type": "application/json",
        "user-agent": "contest-portal-webhooks",
    }


@dataclass
class RunSummary:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def __str__(self) -> str:
        return (
            f"{self.fanned_out} event(s) fanned out; {self.delivered} delivered, "
            f"{self.failed} to retry, {self.dead} dead"
        )


def deliver_due(now: dt.datetime | None = None) -> RunSummary:
    """Fan out new events and attempt once every delivery due by `now`; say what happened."""
    summary = RunSummary()
    summary.fanned_out = fan_out()
    # Due by the run's start: a delivery that fails now is due later, so each is tried once.
    due_by = now or timezone.now()
    with httpx.Client(timeout=setting("WEBHOOK_TIMEOUT_SECONDS"), follow_redirects=False) as client:
        while ids := lease_due(due_by):
            leased = WebhookDelivery.objects.filter(pk__in=ids).select_related("event", "endpoint")
            for delivery in leased.order_by("next_attempt_at", "id"):
                outcome = attempt(client, delivery)
                setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def fan_out() -> int:
    """Make the deliveries of the events not fanned out yet; return how many events."""
    endpoints = list(
        WebhookEndpoint.objects.filter(is_active=True, client__is_active=True).prefetch_related(
            "client__contests"
        )
    )
    done = 0
    while True:
        with transaction.atomic():
            events = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(fanned_out=False)
                .order_by("id")[:FAN_OUT_BATCH]
            )
            if not events:
                return done
            WebhookDelivery.objects.bulk_create(
                (
                    WebhookDelivery(
                        event=event,
                        endpoint=endpoint,
                        next_attempt_at=event.created_at,
                        retry_until=event.created_at
                        + dt.timedelta(seconds=setting("WEBHOOK_RETRY_FOR_SECONDS")),
                    )
                    for event in events
                    for endpoint in endpoints
                    if _wants(endpoint, event)
                ),
                ignore_conflicts=True,
            )
            WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(
                fanned_out=True
            )
            done += len(events)


def _wants(endpoint: WebhookEndpoint, event: WebhookEvent) -> bool:
    """An endpoint gets the kinds it asked for: its client's own, or its contests' events."""
    if event.kind not in endpoint.events:
        return False
    if event.client_id is not None:
        return endpoint.client_id == event.client_id
    return any(contest.pk == event.contest_id for contest in endpoint.client.contests.all())


def lease_due(now: dt.datetime) -> list[int]:
    """Take up to a batch of due deliveries for this run, and count their attempt."""
    lease = DELIVERY_BATCH * dt.timedelta(seconds=setting("WEBHOOK_TIMEOUT_SECONDS")) + LEASE_MARGIN
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:DELIVERY_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            next_attempt_at=now + lease, attempts=F("attempts") + 1
        )
    return ids


def attempt(client: httpx.Client, delivery: WebhookDelivery) -> str:
    """Post the delivery's event once; record it; return "delivered", "failed" or "dead"."""
    event, endpoint = delivery.event, delivery.endpoint
    started = time.monotonic()
    now = timezone.now()
    status_code, problem = None, ""
    try:
        if not endpoint.is_active:
            raise ValidationError(gettext("The endpoint is inactive."))
        check_url(endpoint.url)
        headers = signed_headers(endpoint.secret, event.event_id, event.body, now)
        response = client.post(endpoint.url, content=event.body.encode(), headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            problem = f"HTTP {status_code}"
    except ValidationError as exc:
        problem = " ".join(exc.messages)
    except httpx.HTTPError as exc:
        problem = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status_code,
        error=problem[:300],
        duration_ms=duration_ms,
    )
    changes = {"last_status_code": status_code}
    if not problem:
        outcome = "delivered"
        changes |= {"status": DeliveryStatus.DELIVERED, "delivered_at": finished}
    else:
        attempts = WebhookDelivery.objects.get(pk=delivery.pk).attempts
        wait = min(
            setting("WEBHOOK_RETRY_SECONDS") * 2 ** (attempts - 1),
            setting("WEBHOOK_RETRY_MAX_SECONDS"),
        )
        retry_at = finished + dt.timedelta(seconds=wait)
        if retry_at > delivery.retry_until or not endpoint.is_active:
            outcome = "dead"
            changes["status"] = DeliveryStatus.DEAD
        else:
            outcome = "failed"
            changes["next_attempt_at"] = retry_at
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    metrics.count_webhook_delivery(outcome)
    return outcome


def replay(delivery: WebhookDelivery, now: dt.datetime) -> None:
    """Deliver again from now, for another retry period: a dead one, or one delivered."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        retry_until=now + dt.timedelta(seconds=setting("WEBHOOK_RETRY_FOR_SECONDS")),
        attempts=0,
    )
