"""Staff accounts that appear in the record are deactivated, never deleted.

Deleting a user would blank "who" in every history row they made (django-simple-history
sets it to NULL) and delete their admin log entries. So a user with any history can only
be deactivated: the admin offers no delete for them, and a delete from code is refused
(the pre_delete receiver below). On PostgreSQL the portal's database role cannot update
history rows, so the database refuses it too (contests/database_roles.py).
"""

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .models import AuditEvent, AuditEventKind, WinReview

# The models whose history names the user who made each change.
HISTORY_OF = ["Contest", "Prize", "ApiClient", "ApiToken", "WinReview"]


def has_history(user) -> bool:
    """Does any history row, audit event, review or admin log entry name this user?"""
    if user.pk is None:
        return False
    for name in HISTORY_OF:
        model = apps.get_model("contests", name)
        if model.history.filter(history_user_id=user.pk).exists():
            return True
    return (
        AuditEvent.objects.filter(user_id=user.pk).exists()
        or WinReview.objects.filter(reviewed_by_id=user.pk).exists()
        or LogEntry.objects.filter(user_id=user.pk).exists()
    )


def deactivate(user, *, by=None) -> bool:
    """Make `user` unable to sign in, keeping the account; True if it was active."""
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    AuditEvent.objects.create(
        at=timezone.now(),
        kind=AuditEventKind.USER_DEACTIVATED,
        user=user,
        username=user.get_username(),
        detail=f"deactivated by {by.get_username()}" if by is not None else "deactivated",
    )
    return True


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="contests.accounts.keep_history")
def refuse_deleting_users_with_history(sender, instance, **kwargs) -> None:
    if has_history(instance):
        raise ProtectedError(
            f"User {instance.get_username()} has history: deactivate the account instead "
            "of deleting it, so the record keeps saying who did what.",
            {instance},
        )
