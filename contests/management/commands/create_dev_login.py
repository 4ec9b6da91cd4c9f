from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

USERNAME = "admin"
PASSWORD = "admin"  # noqa: S105 (known on purpose; refused outside the embedded default)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Create the local staff login admin/admin. Refused anywhere but the embedded "
            "default (DEBUG on, SQLite), so a production database never gets a known password."
        )

    def handle(self, *args, **options):
        engine = settings.DATABASES["default"]["ENGINE"]
        if not settings.DEBUG or not engine.endswith("sqlite3"):
            raise CommandError(
                _(
                    "create_dev_login only runs on the embedded default (DEBUG on, SQLite); "
                    "use createsuperuser for a real database."
                )
            )
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        self.stdout.write(
            _("Staff login: %(username)s / %(password)s")
            % {"username": USERNAME, "password": PASSWORD if created else _("(password unchanged)")}
        )
