"""Sign-in lockouts (django-axes) and the record of every sign-in, failure and lockout.

Axes counts failures per (username, address, user agent) row; a username is locked out
after SIGN_IN_FAILURES_PER_USERNAME failures and an address after
SIGN_IN_FAILURES_PER_ADDRESS, each counted over the rows that share it, until
AXES_COOLOFF_TIME passes without a new failure. Axes compares one number with one limit,
so PortalAxesHandler reports the username's count scaled to the address limit: either
reaching its own limit reaches AXES_FAILURE_LIMIT.

Every sign-in, failure and lockout is a line on the `portal.security` logger, with the
client's address (portal/client_address.py), and an AuditEvent row (contests/models.py).
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.client_address import client_address

log = logging.getLogger("portal.security")


def failure_limit(request: HttpRequest, credentials: dict | None) -> int:
    """AXES_FAILURE_LIMIT: what PortalAxesHandler.get_failures counts up to."""
    return settings.SIGN_IN_FAILURES_PER_ADDRESS


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the 429 page that says sign-in is refused, and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class PortalAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per username and another per address."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        by_username = _failures(recent.filter(username=username)) if username else 0
        address = getattr(request, "axes_ip_address", None)
        by_address = _failures(recent.filter(ip_address=address)) if address else 0
        per_username = settings.SIGN_IN_FAILURES_PER_USERNAME
        per_address = settings.SIGN_IN_FAILURES_PER_ADDRESS
        # by_username reaches per_username exactly when this reaches per_address.
        return max(by_username * per_address // per_username, by_address)


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or client_address(request)


def _record(kind: str, request: HttpRequest | None, *, username: str, user=None, detail=""):
    from contests.models import AuditEvent

    AuditEvent.objects.create(
        at=timezone.now(),
        kind=kind,
        user=user,
        username=(username or "")[:150],
        address=_address(request),
        detail=detail,
        request_id=getattr(request, "id", "") or "",
    )


@receiver(user_logged_in, dispatch_uid="portal.security.signed_in")
def signed_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    log.info("sign-in user=%s address=%s", user.get_username(), _address(request))
    _record("signed_in", request, username=user.get_username(), user=user)


@receiver(user_login_failed, dispatch_uid="portal.security.sign_in_failed")
def sign_in_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    username = credentials.get("username") or ""
    locked = bool(getattr(request, "axes_locked_out", False))
    log.warning(
        "sign-in failed username=%r address=%s%s",
        username,
        _address(request),
        " (locked out)" if locked else "",
    )
    _record(
        "sign_in_failed",
        request,
        username=username,
        detail="refused: locked out" if locked else "wrong username or password",
    )


@receiver(user_locked_out, dispatch_uid="portal.security.locked_out")
def locked_out(sender, request: HttpRequest, username: str | None, ip_address: str, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    log.warning(
        "sign-in locked out username=%r address=%s for %d minutes",
        username or "",
        ip_address,
        minutes,
    )
    _record(
        "locked_out",
        request,
        username=username or "",
        detail=f"sign-in refused for {minutes} minutes after repeated failures",
    )
