import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.evidence import checks, sources, timestamps
from contests.management.arguments import iso_date
from contests.models import Contest


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Check a contest's evidence: every plan against its commitment and its trusted "
            "timestamp; no moment awarded twice; no day with more wins than moments; each "
            "win took the earliest unclaimed moment due at its time; the closing record "
            "against the database. From the database, or with --from-published from the "
            "documents the portal published. Exits 1 if anything fails."
        )

    def add_arguments(self, parser):
        parser.add_argument("code", metavar="CODE", help=_("the contest's code"))
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("print the result as JSON")
        )
        parser.add_argument(
            "--from-published",
            metavar="URL",
            help=_("read the published plan documents of the portal at URL instead"),
        )
        parser.add_argument(
            "--start", type=iso_date, help=_("with --from-published: the contest's first day")
        )
        parser.add_argument(
            "--end", type=iso_date, help=_("with --from-published: the contest's last day")
        )
        parser.add_argument(
            "--tsa-ca",
            metavar="FILE",
            help=_("PEM file of the TSA's CA certificate (default: TSA_CA_CERTIFICATE)"),
        )

    def handle(self, *args, code, as_json=False, from_published=None, **options):
        try:
            roots = timestamps.trusted_roots(options["tsa_ca"], required=False)
        except timestamps.TimestampInvalid as exc:
            raise CommandError(str(exc)) from None
        contest = Contest.objects.filter(code=code).first()
        if from_published:
            evidence = self._published(from_published, code, contest, roots, options)
        elif contest is None:
            raise CommandError(_("Contest %(code)s not found.") % {"code": code})
        else:
            evidence = sources.from_database(contest, roots)
        outcomes = checks.run_checks(evidence)
        failures = [failure for outcome in outcomes for failure in outcome.failures]
        if as_json:
            self._print_json(code, from_published, outcomes)
        else:
            self._print_text(outcomes)
        if failures:
            raise CommandError(
                ngettext(
                    "%(count)s check failed for %(code)s.",
                    "%(count)s checks failed for %(code)s.",
                    len(failures),
                )
                % {"count": len(failures), "code": code},
                returncode=1,
            )
        if not as_json:
            self.stdout.write(
                _("Every check holds for %(code)s (%(plans)s plans).")
                % {"code": code, "plans": len(evidence.plans)}
            )

    def _published(self, url, code, contest, roots, options) -> sources.Evidence:
        start = options["start"] or (contest.start if contest else None)
        end = options["end"] or (contest.end if contest else None)
        if start is None or end is None:
            raise CommandError(
                _("Give the contest's days with --start and --end (the database has no %(code)s).")
                % {"code": code}
            )
        if end < start:
            raise CommandError(_("--end is before --start."))
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        try:
            # Only the documents: the database's wins are not the published evidence.
            return sources.from_published(url, code, days, roots)
        except sources.SourceError as exc:
            raise CommandError(str(exc)) from None

    def _print_text(self, outcomes) -> None:
        for outcome in outcomes:
            if outcome.skipped:
                self.stdout.write(
                    _("skipped %(check)s: it needs the database") % {"check": outcome.check}
                )
                continue
            if not outcome.failures:
                self.stdout.write(_("ok %(check)s") % {"check": outcome.check})
            # FAIL stays in English whatever the language, for those who grep.
            for failure in outcome.failures:
                self.stdout.write(
                    _("FAIL %(check)s day=%(day)s prize=%(prize)s row=%(row)s: %(problem)s")
                    % {
                        "check": failure.check,
                        "day": failure.day or "-",
                        "prize": failure.prize or "-",
                        "row": failure.row or "-",
                        "problem": failure.problem,
                    }
                )

    def _print_json(self, code, url, outcomes) -> None:
        document = {
            "contest": code,
            "source": url or "database",
            "ok": not any(outcome.failures for outcome in outcomes),
            "checks": [
                {
                    "check": outcome.check,
                    "skipped": outcome.skipped,
                    "failures": [failure.as_dict() for failure in outcome.failures],
                }
                for outcome in outcomes
            ],
        }
        self.stdout.write(json.dumps(document, indent=2))
