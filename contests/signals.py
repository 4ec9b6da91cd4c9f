"""Keep the play path's cache in step with contest and prize changes."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .models import ApiClient, ApiToken, AuditEvent, AuditEventKind, Contest, Prize
from .play import state


def _forget_after_commit(*codes: str) -> None:
    # After commit: forgetting earlier could let a concurrent play cache the old row again.
    for code in set(codes):
        transaction.on_commit(lambda code=code: state.forget(code))


def _forget_tokens_after_commit(*digests: str) -> None:
    for digest in set(digests):
        transaction.on_commit(lambda digest=digest: state.forget_token(digest))


@receiver(pre_save, sender=Contest)
def remember_previous_code(sender, instance: Contest, **kwargs) -> None:
    instance._previous_code = (
        Contest.objects.filter(pk=instance.pk).values_list("code", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=Contest)
@receiver(post_delete, sender=Contest)
def forget_contest(sender, instance: Contest, **kwargs) -> None:
    previous = getattr(instance, "_previous_code", None)
    _forget_after_commit(instance.code, *([previous] if previous else []))


@receiver(post_save, sender=Prize)
@receiver(post_delete, sender=Prize)
def forget_prize_contest(sender, instance: Prize, **kwargs) -> None:
    code = Contest.objects.filter(pk=instance.contest_id).values_list("code", flat=True).first()
    if code:
        _forget_after_commit(code)


@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def forget_token(sender, instance: ApiToken, **kwargs) -> None:
    _forget_tokens_after_commit(instance.digest)


@receiver(post_save, sender=ApiClient)
def forget_client_tokens(sender, instance: ApiClient, **kwargs) -> None:
    """Activating or deactivating a client changes what its tokens may do."""
    _forget_tokens_after_commit(*instance.tokens.values_list("digest", flat=True))


@receiver(pre_delete, sender=ApiClient)
def forget_client_contests(sender, instance: ApiClient, **kwargs) -> None:
    # Deleting a client removes it from its contests without an m2m_changed signal.
    _forget_after_commit(*instance.contests.values_list("code", flat=True))
    _forget_tokens_after_commit(*instance.tokens.values_list("digest", flat=True))


@receiver(m2m_changed, sender=ApiClient.contests.through)
def forget_contests_whose_clients_changed(
    sender, instance, action: str, reverse: bool, pk_set: set[int] | None, **kwargs
) -> None:
    """Enabling or disabling a client for a contest can make the contest private or public."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # contest.api_clients changed
        _forget_after_commit(instance.code)
    elif action == "pre_clear":
        _forget_after_commit(*instance.contests.values_list("code", flat=True))
    else:
        _forget_after_commit(*Contest.objects.filter(pk__in=pk_set).values_list("code", flat=True))


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
