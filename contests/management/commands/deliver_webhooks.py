import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from contests.webhooks.delivery import deliver_due


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _(
            "Deliver the webhook events that are due. With --once, deliver what is due now and "
            "exit; otherwise keep delivering every few seconds (the job worker does it too)."
        )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help=_("deliver what is due, then exit"))
        parser.add_argument(
            "--every", type=float, default=5.0, help=_("seconds between runs, without --once")
        )

    def handle(self, *args, once, every, **options):
        while True:
            self.stdout.write(str(deliver_due()))
            if once:
                return
            time.sleep(every)
