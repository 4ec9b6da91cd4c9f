"""Signals: every process's play memory hears of changes; client enablings go into history.

The version moves in the changing transaction itself, so no process can see the change
without the new version (contests/play/memory.py); this process also forgets at once.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .models import (
    ApiClient,
    ApiToken,
    AuditEvent,
    AuditEventKind,
    Contest,
    PlayStateVersion,
    Prize,
)
from .play.memory import memory


@receiver(post_save, sender=Contest)
@receiver(post_delete, sender=Contest)
@receiver(post_save, sender=Prize)
@receiver(post_delete, sender=Prize)
@receiver(post_save, sender=ApiClient)
@receiver(post_delete, sender=ApiClient)
@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def play_state_changed(sender, **kwargs) -> None:
    PlayStateVersion.bump()
    # After commit: forgetting earlier could let a concurrent play remember the old row.
    transaction.on_commit(memory.forget)


@receiver(m2m_changed, sender=ApiClient.contests.through)
def clients_of_a_contest_changed(sender, action: str, **kwargs) -> None:
    """Enabling or disabling a client for a contest can make the contest private or public."""
    if action in ("post_add", "post_remove", "post_clear"):
        play_state_changed(sender)


def _current_user():
    """The signed-in user of the request being served, if any (simple-history's middleware)."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


@receiver(m2m_changed, sender=ApiClient.contests.through, dispatch_uid="contests.client_history")
def record_enabled_contests(
    sender, instance, action: str, reverse: bool, pk_set: set[int] | None, **kwargs
) -> None:
    """Enabling a client for a contest, or no longer, goes into the contest's history."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # contest.api_clients changed
        others = instance.api_clients.all() if action == "pre_clear" else pk_set
        pairs = [(client, instance) for client in ApiClient.objects.filter(pk__in=others)]
    else:
        others = instance.contests.all() if action == "pre_clear" else pk_set
        pairs = [(instance, contest) for contest in Contest.objects.filter(pk__in=others)]
    kind = AuditEventKind.CLIENT_ENABLED if action == "post_add" else AuditEventKind.CLIENT_DISABLED
    user = _current_user()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=timezone.now(),
            kind=kind,
            user=user,
            username=user.get_username() if user else "",
            contest=contest,
            detail=f"API client {client.name}",
        )
        for client, contest in pairs
    )
