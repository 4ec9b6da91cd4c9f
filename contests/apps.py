from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContestsConfig(AppConfig):
    name = "contests"
    verbose_name = _("Contests")

    def ready(self) -> None:
        # Connect the receivers: the play cache's, the users' guard, and the sign-in record.
        from django.db.models.signals import post_migrate

        from portal import checks, lockout  # noqa: F401

        from . import accounts, database_guards, signals  # noqa: F401

        post_migrate.connect(database_guards.reinstall_after_migrate, sender=self)
        # The perizia compares the running source files with the build's (issue 18); the
        # deploy check of the TSA's settings.
        from .evidence import configuration, perizia  # noqa: F401

        perizia.remember_start_digest()
