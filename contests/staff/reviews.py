"""Reviewing winners: each verdict is kept with its reason, author and time."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import ReviewStatus, Win, WinReview
from ..webhooks.events import record_win_reviewed


def review_win(
    win: Win, status: str, reason: str, by: AbstractBaseUser, now: dt.datetime
) -> WinReview:
    """Record a verdict on a win. A disqualified prize is not awarded again to anyone."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: the reason is part of the audit record.")})
    if status not in (ReviewStatus.VALIDATED, ReviewStatus.DISQUALIFIED):
        raise ValidationError(
            {"status": _("%(status)s is not a verdict.") % {"status": repr(status)}}
        )
    with transaction.atomic():
        # Lock the win so that two reviewers' verdicts are recorded one after the other.
        locked = Win.objects.select_for_update().get(pk=win.pk)
        review = WinReview.objects.create(
            win=locked, status=status, reason=reason, reviewed_by=by, reviewed_at=now
        )
        Win.objects.filter(pk=win.pk).update(review_status=status)
        record_win_reviewed(review)  # in the verdict's transaction: never one without the other
    win.review_status = status
    return review
