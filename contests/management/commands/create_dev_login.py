from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"  # noqa: S105 (known on purpose; refused outside the embedded default)


class Command(BaseCommand):
    help = (
        "Create the local staff login admin/admin. Refused anywhere but the embedded "
        "default (DEBUG on, SQLite), so a production database never gets a known password."
    )

    def handle(self, *args, **options):
        engine = settings.DATABASES["default"]["ENGINE"]
        if not settings.DEBUG or not engine.endswith("sqlite3"):
            raise CommandError(
                "create_dev_login only runs on the embedded default (DEBUG on, SQLite); "
                "use createsuperuser for a real database."
            )
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        self.stdout.write(
            f"Staff login: {USERNAME} / {PASSWORD if created else '(password unchanged)'}"
        )
