import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from contests.models import Contest
from contests.play_counts import plays_on


class Command(BaseCommand):
    help = (
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
                    self.stdout.write(f"{contest.code} {day}: {plays_on(contest, day)} plays")
