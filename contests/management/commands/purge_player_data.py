import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from contests.management.arguments import positive_int
from contests.models import Win


class Command(BaseCommand):
    help = (
        "Blank the player ids of wins older than DAYS days, for personal-data retention. The "
        "wins themselves, their counts, clients, reviews and the sealed plans stay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=positive_int, required=True, metavar="DAYS",
            help="purge wins whose local day is more than DAYS days ago",
        )  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged, change nothing"
        )

    def handle(self, *args, older_than, dry_run, **options):
        cutoff = timezone.localdate() - dt.timedelta(days=older_than)
        old = Win.objects.filter(day__lt=cutoff).exclude(player="")
        if dry_run:
            self.stdout.write(f"Would blank the player id of {old.count()} win(s) before {cutoff}.")
            return
        purged = old.update(player="")
        self.stdout.write(f"Blanked the player id of {purged} win(s) before {cutoff}.")
