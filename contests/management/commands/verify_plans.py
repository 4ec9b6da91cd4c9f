from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.management.arguments import iso_date
from contests.models import Contest, DayPlan
from contests.moments.audit import check_plan


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Recompute the commitment of every stored day plan from its moments and salt, and "
            "report each plan that no longer matches its seal. Exits non-zero if any does."
        )

    def add_arguments(self, parser):
        parser.add_argument("--contest", metavar="CODE", help=_("only this contest's plans"))
        parser.add_argument("--date", type=iso_date, help=_("only plans of this local day"))

    def handle(self, *args, contest=None, date=None, **options):
        plans = DayPlan.objects.select_related("prize__contest").order_by(
            "day", "prize__contest__code", "prize__code"
        )
        if contest is not None:
            if not Contest.objects.filter(code=contest).exists():
                raise CommandError(_("Contest %(code)s not found.") % {"code": contest})
            plans = plans.filter(prize__contest__code=contest)
        if date is not None:
            plans = plans.filter(day=date)
        checked = 0
        problems = []
        for plan in plans.iterator():
            checked += 1
            if (mismatch := check_plan(plan)) is not None:
                problems.append(mismatch)
                # MISMATCH stays in English whatever the language, for those who grep logs.
                self.stderr.write(
                    _("MISMATCH %(plan)s %(day)s: %(problem)s (commitment %(commitment)s)")
                    % {
                        "plan": f"{plan.prize.contest.code}/{plan.prize.code}",
                        "day": plan.day,
                        "problem": mismatch.problem,
                        "commitment": plan.commitment or "-",
                    }
                )
        if problems:
            raise CommandError(
                ngettext(
                    "%(problems)s of %(count)s plan does not match its seal.",
                    "%(problems)s of %(count)s plans do not match their seal.",
                    checked,
                )
                % {"problems": len(problems), "count": checked}
            )
        self.stdout.write(
            ngettext(
                "Checked %(count)s plan: it matches its seal.",
                "Checked %(count)s plans: every one matches its seal.",
                checked,
            )
            % {"count": checked}
        )
