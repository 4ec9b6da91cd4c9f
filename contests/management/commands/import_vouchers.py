from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from contests.models import Prize
from contests.vouchers.importing import import_vouchers, report_lines


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _(
            "Import a prize's voucher codes from a text file (one code a line) or a CSV file "
            "(codes in the first column): all of them, or none if a line is invalid. Codes "
            "already in the pool, or repeated, are skipped."
        )

    def add_arguments(self, parser):
        parser.add_argument("contest", metavar="CONTEST", help=_("the contest's code"))
        parser.add_argument("prize", metavar="PRIZE", help=_("the prize's code"))
        parser.add_argument("file", metavar="FILE", type=Path, help=_("the file of codes"))

    def handle(self, *args, contest, prize, file, **options):
        found = Prize.objects.filter(contest__code=contest, code=prize).first()
        if found is None:
            raise CommandError(
                _("Prize %(prize)s of contest %(contest)s not found.")
                % {"prize": repr(prize), "contest": repr(contest)}
            )
        try:
            with file.open(encoding="utf-8", errors="strict", newline="") as stream:
                report = import_vouchers(found, stream, is_csv=file.suffix.lower() == ".csv")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc}
            ) from None
        lines = report_lines(report)
        if not report.ok or not report.read:
            raise CommandError("\n".join(lines))
        for line in lines:
            self.stdout.write(line)
