import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from contests.models import Contest, RecoveryDraw
from contests.operators import command_actor
from contests.recovery import service


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "The recovery draw of an ended contest (docs/auditing.md): --freeze fixes the "
            "eligible list and commits to a seed, --draw reveals the seed and picks the "
            "winners and reserves, --show prints the record (--json: as one JSON object)."
        )

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("contest code"))
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--freeze", action="store_true", help=_("freeze the eligible list"))
        action.add_argument("--draw", action="store_true", help=_("draw the winners"))
        action.add_argument("--show", action="store_true", help=_("print the record"))
        parser.add_argument("--json", action="store_true", help=_("with --show: print JSON"))

    def handle(self, *args, code, freeze, draw, show, json: bool, **options):
        contest = Contest.objects.filter(code=code).first()
        if contest is None:
            raise CommandError(_("Contest %(code)s does not exist.") % {"code": code})
        actor = service.Actor(command_actor("recovery_draw"))
        try:
            if freeze:
                record = service.freeze(contest, actor)
            elif draw:
                record = service.draw(contest, actor)
            else:
                record = RecoveryDraw.objects.filter(contest=contest).first()
                if record is None:
                    raise CommandError(
                        _("Contest %(code)s has no frozen recovery draw.") % {"code": code}
                    )
        except service.RecoveryRefused as refusal:
            raise CommandError(str(refusal)) from None
        if json:
            self.stdout.write(_dumps(service.record_json(record)))
        else:
            self.stdout.write(_described(record))


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _described(record: RecoveryDraw) -> str:
    lines = [
        _("Recovery draw of %(code)s: %(state)s")
        % {"code": record.contest.code, "state": record.get_state_display()},
        _("Eligible participants: %(count)s (excluded: %(excluded)s)")
        % {"count": record.participants_count, "excluded": record.excluded_count},
        _("Participants SHA-256: %(digest)s") % {"digest": record.participants_sha256},
        _("Seed SHA-256: %(digest)s") % {"digest": record.seed_sha256},
        _("Seed: %(seed)s") % {"seed": record.revealed_seed() or _("(revealed at the draw)")},
    ]
    for line in service.record_json(record)["prizes"]:
        lines.append(
            _("Prize %(prize)s: %(count)s to draw; winners: %(winners)s; reserves: %(reserves)s")
            % {
                "prize": line["prize"],
                "count": line["to_draw"],
                "winners": ", ".join(line["winners"]) or "-",
                "reserves": ", ".join(line["reserves"]) or "-",
            }
        )
    return "\n".join(lines)
