from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from contests.models import ApiClient, Contest
from contests.play.credentials import issue_token


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Create an API client enabled for the given contests and print a new bearer token for "
            "it, once, alone on the last line. For an existing client, enable the contests and "
            "print an extra token. Only the token's digest is stored: copy it now."
        )

    def add_arguments(self, parser):
        parser.add_argument("name", help=_("the client's name, e.g. the brand"))
        parser.add_argument(
            "--contest",
            action="append",
            default=[],
            metavar="CODE",
            help=_("enable the client for this contest (repeat for several)"),
        )

    @transaction.atomic
    def handle(self, *args, name, contest, **options):
        name = name.strip()
        if not name:
            raise CommandError(_("Give the client a name."))
        contests = list(Contest.objects.filter(code__in=contest))
        unknown = sorted(set(contest) - {c.code for c in contests})
        if unknown:
            raise CommandError(
                _("Contest(s) not found: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        client, created = ApiClient.objects.get_or_create(name=name)
        client.contests.add(*contests)
        plain = issue_token(client)[1]
        enabled = ", ".join(client.contests.values_list("code", flat=True)) or _("none yet")
        done = (
            _("Created API client %(name)s, enabled for: %(contests)s.")
            if created
            else _("Updated API client %(name)s, enabled for: %(contests)s.")
        )
        line = done % {"name": repr(client.name), "contests": enabled}
        if not client.is_active:
            line += " " + _("The client is INACTIVE.")
        self.stdout.write(line)
        self.stdout.write(_("Its new token (shown only now):"))
        # Alone on the last line, for scripts: never translated.
        self.stdout.write(plain)
