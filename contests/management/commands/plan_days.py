import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.management.arguments import positive_int
from contests.models import AuditEvent, AuditEventKind, Contest
from contests.moments.claiming import ensure_many_plans
from contests.operators import command_actor


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
        else:
            # Run hourly by the scheduler: contests over for more than a day (in any zone)
            # have nothing left to plan.
            contests = contests.filter(end__gte=now.date() - dt.timedelta(days=1))
        # Two queries for the contests and their prizes, one for the plans already made.
        wanted = [
            (item, day)
            for item in contests
            for day in self.days_from(item.local_date(now), days)
            if item.is_active_on(day)
        ]
        counts = ensure_many_plans(wanted, now)
        planned = [
            (item, day, count) for (item, day), count in zip(wanted, counts, strict=True) if count
        ]
        # The contest's history says who planned ahead, and when (one INSERT for them all).
        AuditEvent.objects.bulk_create(
            AuditEvent(
                at=now,
                kind=AuditEventKind.PLAN_MADE_BY_COMMAND,
                contest=item,
                username=command_actor("plan_days"),
                detail=f"{day}: planned {count} prize(s) by manage.py plan_days",
            )
            for item, day, count in planned
        )
        for item, day, count in planned:
            self.stdout.write(
                ngettext(
                    "%(contest)s %(day)s: planned %(count)s prize",
                    "%(contest)s %(day)s: planned %(count)s prizes",
                    count,
                )
                % {"contest": item.code, "day": day, "count": count}
            )
        made = sum(counts)
        self.stdout.write(
            ngettext(
                "Made %(count)s plan; every other day asked for was already planned.",
                "Made %(count)s plans; every other day asked for was already planned.",
                made,
            )
            % {"count": made}
        )

    @staticmethod
    def days_from(today: dt.date, days: int) -> list[dt.date]:
        return [today + dt.timedelta(days=offset) for offset in range(days)]
