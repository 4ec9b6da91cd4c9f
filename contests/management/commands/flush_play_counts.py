import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.models import Contest
from contests.play_counts import plays_on


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Move the play counters of today and yesterday from the cache into the database. "
            "Plays are also moved every 100 plays of an hour and whenever staff read them; "
            "run this every few minutes to keep what Redis alone holds small."
        )

    def handle(self, *args, **options):
        now = timezone.now()
        today = timezone.localdate(now)
        yesterday = today - dt.timedelta(days=1)
        # A day's margin on each side covers contests in other time zones.
        margin = dt.timedelta(days=1)
        running = Contest.objects.filter(start__lte=today + margin, end__gte=yesterday - margin)
        for contest in running:
            local_today = contest.local_date(now)
            for day in (local_today - dt.timedelta(days=1), local_today):
                if contest.is_active_on(day):
                    plays = plays_on(contest, day)
                    self.stdout.write(
                        ngettext(
                            "%(contest)s %(day)s: %(plays)s play",
                            "%(contest)s %(day)s: %(plays)s plays",
                            plays,
                        )
                        % {"contest": contest.code, "day": day, "plays": plays}
                    )
