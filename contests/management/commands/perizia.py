import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from contests.evidence.perizia import LABELS, data_sheet


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Print the perizia data sheet: the running version and the digest of its source "
            "files, the random number generator and where it is used, the server's location "
            "and clock, the data kept and for how long, the roles with access, and every "
            "contest's commitments with their timestamp tokens."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("print it as JSON")
        )

    def handle(self, *args, as_json=False, **options):
        sheet = data_sheet()
        if as_json:
            self.stdout.write(json.dumps(sheet, indent=2))
            return
        for key, value in sheet.items():
            self._write(key, value, 0)

    def _write(self, key, value, depth: int) -> None:
        label = str(LABELS.get(key, key)) if isinstance(key, str) else key
        indent = "  " * depth
        if isinstance(value, dict):
            self.stdout.write(f"{indent}{label}:")
            for inner, item in value.items():
                self._write(inner, item, depth + 1)
        elif isinstance(value, list):
            self.stdout.write(f"{indent}{label}:")
            for item in value:
                if isinstance(item, dict):
                    first, *rest = item.items()
                    self._write(f"- {LABELS.get(first[0], first[0])}", first[1], depth + 1)
                    for inner, inner_value in rest:
                        self._write(f"  {LABELS.get(inner, inner)}", inner_value, depth + 1)
                else:
                    self.stdout.write(f"{indent}  - {item}")
        else:
            if isinstance(value, bool):
                shown = _("yes") if value else _("no")
            else:
                shown = "-" if value is None else value
            self.stdout.write(f"{indent}{label}: {shown}")
