import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contests.management.arguments import positive_int
from contests.models import AuditEvent, AuditEventKind, Contest
from contests.moments.claiming import ensure_plans
from contests.operators import command_actor


class Command(BaseCommand):
    help = (
        "Make the day plans of today and the next days ahead of time, so that no play "
        "waits for planning. Days already planned are left exactly as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contest", metavar="CODE", help="only this contest")
        parser.add_argument(
            "--days", type=positive_int, default=2, help="days to plan from today (default 2)"
        )

    def handle(self, *args, contest=None, days, **options):
        now = timezone.now()
        contests = Contest.objects.prefetch_related("prizes")
        if contest is not None:
            contests = contests.filter(code=contest)
            if not contests:
                raise CommandError(f"Contest {contest} not found.")
        made = 0
        for item in contests:
            today = item.local_date(now)
            for offset in range(days):
                day = today + dt.timedelta(days=offset)
                if item.is_active_on(day):
                    count = ensure_plans(item, day, now)
                    made += count
                    if count:
                        # The contest's history says who planned ahead, and when.
                        AuditEvent.objects.create(
                            at=now,
                            kind=AuditEventKind.PLAN_MADE_BY_COMMAND,
                            contest=item,
                            username=command_actor("plan_days"),
                            detail=f"{day}: planned {count} prize(s) by manage.py plan_days",
                        )
                        self.stdout.write(f"{item.code} {day}: planned {count} prize(s)")
        self.stdout.write(f"Made {made} plan(s); every other day asked for was already planned.")
