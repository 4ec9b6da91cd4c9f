import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from contests.management.arguments import positive_int


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value} must be more than 0")
    return seconds


class Command(BaseCommand):
    help = (
        "Wait until the database accepts connections, trying a bounded number of times; "
        "exit non-zero, saying why, if it never does. Containers run it before migrating."
    )
    # The checks may need the database this command is waiting for.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--tries", type=positive_int, default=30, help="default 30")
        parser.add_argument(
            "--delay", type=positive_seconds, default=1.0, help="seconds between tries"
        )

    def handle(self, *args, tries, delay, **options):
        settings = connection.settings_dict
        where = f"{connection.vendor} database {settings['NAME']!s}"
        if settings.get("HOST"):
            where += f" at {settings['HOST']}:{settings.get('PORT') or 'default port'}"
        for attempt in range(1, tries + 1):
            try:
                connection.ensure_connection()
            except DatabaseError as exc:
                # The driver's first line says it all ("Connection refused", a bad password).
                last_error = (str(exc).strip() or repr(exc)).splitlines()[0]
                self.stderr.write(f"Waiting for the {where} ({attempt}/{tries}): {last_error}")
                connection.close()
                if attempt < tries:
                    time.sleep(delay)
                continue
            self.stdout.write(f"The {where} is ready.")
            return
        raise CommandError(
            f"The {where} did not answer after {tries} tries, {delay:g} s apart "
            f"(last error: {last_error}). Is DATABASE_URL right, and is the database up?"
        )
