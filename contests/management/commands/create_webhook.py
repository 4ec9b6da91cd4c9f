from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from contests.models import ApiClient
from contests.webhooks.endpoints import create_endpoint
from contests.webhooks.events import EVENT_KINDS


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _(
            "Add a webhook endpoint to an API client and print its signing secret, once, "
            "alone on the last line. Events: %(kinds)s."
        ) % {"kinds": ", ".join(EVENT_KINDS)}

    def add_arguments(self, parser):
        parser.add_argument("client", metavar="CLIENT_NAME", help=_("the API client's name"))
        parser.add_argument("url", metavar="URL", help=_("where the events are posted (https)"))
        parser.add_argument(
            "--events",
            required=True,
            help=_("the event kinds it receives, separated by commas"),
        )

    def handle(self, *args, client, url, events, **options):
        found = ApiClient.objects.filter(name=client).first()
        if found is None:
            raise CommandError(_("API client %(name)s not found.") % {"name": repr(client)})
        kinds = [kind.strip() for kind in events.split(",") if kind.strip()]
        try:
            endpoint = create_endpoint(found, url, kinds)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Created webhook endpoint %(number)s of %(client)s for: %(events)s.")
            % {
                "number": endpoint.pk,
                "client": repr(found.name),
                "events": ", ".join(endpoint.events),
            }
        )
        self.stdout.write(_("Its signing secret (shown only now):"))
        # Alone on the last line, for scripts: never translated.
        self.stdout.write(endpoint.secret)
