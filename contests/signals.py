"""Tell every process's play memory that contests, prizes, clients or tokens changed.

The version moves in the changing transaction itself, so no process can see the change
without the new version (contests/play/memory.py); this process also forgets at once.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import ApiClient, ApiToken, Contest, PlayStateVersion, Prize
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
