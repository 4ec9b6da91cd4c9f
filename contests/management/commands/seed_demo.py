import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contests.models import Contest, Prize

DEMO_CODE = "C0001"
EXPIRED_CODE = "C0000"


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Create the demo contests: the spec's C0001 (Vinci uno sconto, 45 discounts a day) "
            "running from today for a month, and C0000, which has ended. Safe to run again: "
            "when C0001 is not running, it starts today (if it had not begun) or runs on for "
            "another month (if it had ended: a played contest's start cannot move)."
        )

    @transaction.atomic
    def handle(self, *args, **options):
        today = timezone.localdate()
        demo, _created = Contest.objects.get_or_create(
            code=DEMO_CODE,
            defaults={
                "name": "Vinci uno sconto",
                "start": today,
                "end": today + dt.timedelta(days=30),
            },
        )
        if not demo.is_active_on(demo.local_date(timezone.now())):
            # Only ever earlier starts and later ends: its planned days stay inside it.
            demo.start = min(demo.start, today)
            demo.end = max(demo.end, today + dt.timedelta(days=30))
            demo.save(update_fields=["start", "end", "updated_at"])
        Prize.objects.get_or_create(
            contest=demo,
            code="five-percent-discount",
            defaults={"name": "Sconto del 5%", "perday": 45},
        )

        last_month = today - dt.timedelta(days=31)
        expired, _created = Contest.objects.get_or_create(
            code=EXPIRED_CODE,
            defaults={
                "name": "Concorso concluso",
                "start": last_month - dt.timedelta(days=30),
                "end": last_month,
            },
        )
        Prize.objects.get_or_create(
            contest=expired, code="gadget", defaults={"name": "Gadget", "perday": 10}
        )
        for contest in (demo, expired):
            self.stdout.write(
                _('%(code)s "%(name)s": %(start)s to %(end)s')
                % {
                    "code": contest.code,
                    "name": contest.name,
                    "start": contest.start,
                    "end": contest.end,
                }
            )
