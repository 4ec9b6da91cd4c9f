import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.management.arguments import positive_int
from contests.models import Contest
from contests.moments.claiming import ensure_plans


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Make the day plans of today and the next days ahead of time, so that no play "
            "waits for planning. Days already planned are left exactly as they are."
        )

    def add_arguments(self, parser):
        parser.add_argument("--contest", metavar="CODE", help=_("only this contest"))
        parser.add_argument(
            "--days", type=positive_int, default=2, help=_("days to plan from today (default 2)")
        )

    def handle(self, *args, contest=None, days, **options):
        now = timezone.now()
        contests = Contest.objects.prefetch_related("prizes")
        if contest is not None:
            contests = contests.filter(code=contest)
            if not contests:
                raise CommandError(_("Contest %(code)s not found.") % {"code": contest})
        made = 0
        for item in contests:
            today = item.local_date(now)
            for offset in range(days):
                day = today + dt.timedelta(days=offset)
                if item.is_active_on(day):
                    count = ensure_plans(item, day, now)
                    made += count
                    if count:
                        self.stdout.write(
                            ngettext(
                                "%(contest)s %(day)s: planned %(count)s prize",
                                "%(contest)s %(day)s: planned %(count)s prizes",
                                count,
                            )
                            % {"contest": item.code, "day": day, "count": count}
                        )
        self.stdout.write(
            ngettext(
                "Made %(count)s plan; every other day asked for was already planned.",
                "Made %(count)s plans; every other day asked for was already planned.",
                made,
            )
            % {"count": made}
        )
