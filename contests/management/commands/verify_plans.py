from django.core.management.base import BaseCommand, CommandError

from contests.management.arguments import iso_date
from contests.models import Contest, DayPlan
from contests.moments.audit import check_plan


class Command(BaseCommand):
    help = (
        "Recompute the commitment of every stored day plan from its moments and salt, and "
        "report each plan that no longer matches its seal. Exits non-zero if any does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contest", metavar="CODE", help="only this contest's plans")
        parser.add_argument("--date", type=iso_date, help="only plans of this local day")

    def handle(self, *args, contest=None, date=None, **options):
        plans = DayPlan.objects.select_related("prize__contest").order_by(
            "day", "prize__contest__code", "prize__code"
        )
        if contest is not None:
            if not Contest.objects.filter(code=contest).exists():
                raise CommandError(f"Contest {contest} not found.")
            plans = plans.filter(prize__contest__code=contest)
        if date is not None:
            plans = plans.filter(day=date)
        checked = 0
        problems = []
        for plan in plans.iterator():
            checked += 1
            if (mismatch := check_plan(plan)) is not None:
                problems.append(mismatch)
                self.stderr.write(
                    f"MISMATCH {plan.prize.contest.code}/{plan.prize.code} {plan.day}: "
                    f"{mismatch.problem} (commitment {plan.commitment or '-'})"
                )
        if problems:
            raise CommandError(f"{len(problems)} of {checked} plan(s) do not match their seal.")
        self.stdout.write(f"Checked {checked} plan(s): every one matches its seal.")
