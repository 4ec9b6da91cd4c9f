"""Keep the play path's cache in step with contest and prize changes."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import cache
from .models import Contest, Prize


def _forget_after_commit(*codes: str) -> None:
    # After commit: forgetting earlier could let a concurrent play cache the old row again.
    for code in set(codes):
        transaction.on_commit(lambda code=code: cache.forget(code))


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
