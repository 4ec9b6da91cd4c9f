import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.management.arguments import positive_int
from contests.models import Win


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Blank the player ids of wins older than DAYS days, for personal-data retention. The "
            "wins themselves, their counts, clients, reviews and the sealed plans stay."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=positive_int, required=True, metavar="DAYS",
            help=_("purge wins whose local day is more than DAYS days ago"),
        )  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true", help=_("count what would be purged, change nothing")
        )

    def handle(self, *args, older_than, dry_run, **options):
        cutoff = timezone.localdate() - dt.timedelta(days=older_than)
        old = Win.objects.filter(day__lt=cutoff).exclude(player="")
        if dry_run:
            count = old.count()
            self.stdout.write(
                ngettext(
                    "Would blank the player id of %(count)s win before %(day)s.",
                    "Would blank the player id of %(count)s wins before %(day)s.",
                    count,
                )
                % {"count": count, "day": cutoff}
            )
            return
        purged = old.update(player="")
        self.stdout.write(
            ngettext(
                "Blanked the player id of %(count)s win before %(day)s.",
                "Blanked the player id of %(count)s wins before %(day)s.",
                purged,
            )
            % {"count": purged, "day": cutoff}
        )
