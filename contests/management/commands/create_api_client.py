from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from contests.models import ApiClient, Contest
from contests.play.credentials import issue_token


class Command(BaseCommand):
    help = (
        "Create an API client enabled for the given contests and print a new bearer token for "
        "it, once, alone on the last line. For an existing client, enable the contests and "
        "print an extra token. Only the token's digest is stored: copy it now."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the client's name, e.g. the brand")
        parser.add_argument(
            "--contest",
            action="append",
            default=[],
            metavar="CODE",
            help="enable the client for this contest (repeat for several)",
        )

    @transaction.atomic
    def handle(self, *args, name, contest, **options):
        name = name.strip()
        if not name:
            raise CommandError("Give the client a name.")
        contests = list(Contest.objects.filter(code__in=contest))
        unknown = sorted(set(contest) - {c.code for c in contests})
        if unknown:
            raise CommandError(f"Contest(s) not found: {', '.join(unknown)}.")
        client, created = ApiClient.objects.get_or_create(name=name)
        client.contests.add(*contests)
        _, plain = issue_token(client)
        enabled = ", ".join(client.contests.values_list("code", flat=True)) or "none yet"
        self.stdout.write(
            f"{'Created' if created else 'Updated'} API client {client.name!r}, "
            f"enabled for: {enabled}.{'' if client.is_active else ' The client is INACTIVE.'}"
        )
        self.stdout.write("Its new token (shown only now):")
        self.stdout.write(plain)
