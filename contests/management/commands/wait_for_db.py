import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils.translation import gettext as _

from contests.management.arguments import positive_int


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a number of seconds") % {"value": repr(value)}
        ) from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(_("%(value)s must be more than 0") % {"value": value})
    return seconds


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Wait until the database accepts connections, trying a bounded number of times; "
            "exit non-zero, saying why, if it never does. Containers run it before migrating."
        )

    # The checks may need the database this command is waiting for.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--tries", type=positive_int, default=30, help=_("default 30"))
        parser.add_argument(
            "--delay", type=positive_seconds, default=1.0, help=_("seconds between tries")
        )

    def handle(self, *args, tries, delay, **options):
        settings = connection.settings_dict
        where = _("%(vendor)s database %(name)s") % {
            "vendor": connection.vendor,
            "name": settings["NAME"],
        }
        if settings.get("HOST"):
            where = _("%(database)s at %(host)s:%(port)s") % {
                "database": where,
                "host": settings["HOST"],
                "port": settings.get("PORT") or _("default port"),
            }
        for attempt in range(1, tries + 1):
            try:
                connection.ensure_connection()
            except DatabaseError as exc:
                # The driver's first line says it all ("Connection refused", a bad password).
                last_error = (str(exc).strip() or repr(exc)).splitlines()[0]
                self.stderr.write(
                    _("Waiting for the %(database)s (%(attempt)s/%(tries)s): %(error)s")
                    % {"database": where, "attempt": attempt, "tries": tries, "error": last_error}
                )
                connection.close()
                if attempt < tries:
                    time.sleep(delay)
                continue
            self.stdout.write(_("The %(database)s is ready.") % {"database": where})
            return
        raise CommandError(
            _(
                "The %(database)s did not answer after %(tries)s tries, %(delay)s s apart "
                "(last error: %(error)s). Is DATABASE_URL right, and is the database up?"
            )
            % {"database": where, "tries": tries, "delay": f"{delay:g}", "error": last_error}
        )
