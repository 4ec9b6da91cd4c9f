from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from contests.management import rule_arguments
from contests.management.arguments import euros, iso_date, positive_int
from contests.models import Contest, Prize, RecoveryEntries
from contests.operators import command_actor


def _validated(obj, exclude=None):
    # The history names the command (and who ran it) as the author of the change.
    obj._change_reason = command_actor("create_contest")
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        lines = [f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()]
        raise CommandError(
            _("%(what)s not saved:") % {"what": str(obj._meta.verbose_name).capitalize()}
            + "\n  "
            + "\n  ".join(lines)
        ) from None
    return obj


REQUIRED_TO_CREATE = {
    "name": "--name",
    "start": "--start",
    "end": "--end",
    "prize_code": "--prize-code",
    "prize_name": "--prize-name",
    "perday": "--perday",
}


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Create a contest with its prize, or update it. When the contest exists, options "
            "left out keep their values, and a new prize code adds a prize to it. A perday "
            "change applies from the next day that has no plan yet."
        )

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("contest code: letters, digits, '-' and '_'"))
        parser.add_argument("--name", help=_("contest name shown to staff"))
        parser.add_argument("--start", type=iso_date, help=_("first day, YYYY-MM-DD (local)"))
        parser.add_argument("--end", type=iso_date, help=_("last day, YYYY-MM-DD, included"))
        parser.add_argument("--time-zone", help=_("IANA zone of the contest's days"))
        parser.add_argument("--prize-code", help=_("code of the prize sent to players"))
        parser.add_argument("--prize-name", help=_("name of the prize sent to players"))
        parser.add_argument("--perday", type=positive_int, help=_("wins of the prize per day"))
        cap = parser.add_mutually_exclusive_group()
        cap.add_argument(
            "--wmax", type=positive_int, help=_("most wins per player and day (plays need ?user=)")
        )
        cap.add_argument("--no-wmax", action="store_true", help=_("remove the per-player cap"))
        rule_arguments.add_rule_arguments(parser)
        parser.add_argument(
            "--prize-value", type=euros, metavar="EUR", help=_("value of one prize, VAT included")
        )
        parser.add_argument("--beneficiary", metavar="NAME", help=_("the non-profit (ONLUS)"))
        parser.add_argument(
            "--beneficiary-fiscal-code", metavar="CODE", help=_("the non-profit's fiscal code")
        )
        recovery = parser.add_mutually_exclusive_group()
        recovery.add_argument(
            "--recovery-draw", action="store_true", help=_("hold a recovery draw after the end")
        )
        recovery.add_argument(
            "--no-recovery-draw", action="store_true", help=_("hold no recovery draw")
        )
        parser.add_argument(
            "--recovery-entries",
            choices=RecoveryEntries.values,
            help=_("one entry per player, or per play"),
        )
        parser.add_argument(
            "--recovery-reserves", type=int, metavar="N", help=_("reserves drawn per prize")
        )

    @transaction.atomic
    def handle(self, *args, code, **options):
        contest = Contest.objects.filter(code=code).first()
        created = contest is None
        if created:
            missing = [flag for key, flag in REQUIRED_TO_CREATE.items() if options[key] is None]
            if missing:
                raise CommandError(
                    _("Contest %(code)s does not exist; to create it also give %(missing)s.")
                    % {"code": code, "missing": ", ".join(missing)}
                )
            contest = Contest(code=code)
        for field in ("name", "start", "end", "time_zone", "wmax"):
            if options[field] is not None:
                setattr(contest, field, options[field])
        if options["no_wmax"]:
            contest.wmax = None
        rule_arguments.apply_contest_rules(contest, options)
        closing = {
            "beneficiary_name": options["beneficiary"],
            "beneficiary_fiscal_code": options["beneficiary_fiscal_code"],
            "recovery_entries": options["recovery_entries"],
            "recovery_reserves": options["recovery_reserves"],
        }
        for field, value in closing.items():
            if value is not None:
                setattr(contest, field, value)
        if options["recovery_draw"] or options["no_recovery_draw"]:
            contest.recovery_draw = options["recovery_draw"]
        _validated(contest).save()

        prize_code = options["prize_code"]
        if (
            prize_code is not None
            or options["prize_name"]
            or options["perday"]
            or options["prize_value"] is not None
            or rule_arguments.gives_prize_rules(options)
        ):
            if prize_code is None:
                prizes = list(contest.prizes.all())
                if len(prizes) != 1:
                    raise CommandError(
                        _("The contest has several prizes: say which with --prize-code.")
                    )
                prize = prizes[0]
            else:
                prize = contest.prizes.filter(code=prize_code).first() or Prize(
                    contest=contest, code=prize_code
                )
            if prize.pk is None and (options["prize_name"] is None or options["perday"] is None):
                raise CommandError(
                    _("Prize %(code)s is new: give --prize-name and --perday too.")
                    % {"code": prize_code}
                )
            if options["prize_name"] is not None:
                prize.name = options["prize_name"]
            if options["perday"] is not None:
                prize.perday = options["perday"]
            rule_arguments.apply_prize_rules(prize, options)
            if options["prize_value"] is not None:
                prize.value = options["prize_value"]
            _validated(prize).save()

        prizes = ", ".join(
            _("%(code)s (%(name)s, %(perday)s/day)")
            % {"code": p.code, "name": p.name, "perday": p.perday}
            for p in contest.prizes.all()
        )
        done = (
            _(
                'Created contest %(code)s "%(name)s": %(start)s to %(end)s (%(zone)s); '
                "prizes: %(prizes)s"
            )
            if created
            else _(
                'Updated contest %(code)s "%(name)s": %(start)s to %(end)s (%(zone)s); '
                "prizes: %(prizes)s"
            )
        )
        line = done % {
            "code": contest.code,
            "name": contest.name,
            "start": contest.start,
            "end": contest.end,
            "zone": contest.time_zone,
            "prizes": prizes,
        }
        if contest.wmax:
            line += _("; at most %(wmax)s wins per player and day") % {"wmax": contest.wmax}
        if contest.recovery_draw:
            line += _("; recovery draw (%(entries)s, %(reserves)s reserves per prize)") % {
                "entries": contest.get_recovery_entries_display(),
                "reserves": contest.recovery_reserves,
            }
        self.stdout.write(line + rule_arguments.rules_summary(contest))
