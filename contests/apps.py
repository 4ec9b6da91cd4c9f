from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "contests"
    verbose_name = "Contests"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
