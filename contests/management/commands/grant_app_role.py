import environ
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from contests.database_roles import grant_statements, table_grants


class Command(BaseCommand):
    help = (
        "Give the portal's PostgreSQL role exactly its grants (contests/database_roles.py), "
        "creating the role if it is missing. Run as the database's owner, after migrate: "
        "DATABASE_URL is the owner's URL, APP_DATABASE_URL the portal's (deploy/entrypoint"
        ".prod.sh does both). Does nothing on SQLite."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-url-variable",
            default="APP_DATABASE_URL",
            metavar="NAME",
            help="the environment variable holding the portal's database URL "
            "(default APP_DATABASE_URL; a URL is never read from the command line, "
            "where `ps` would show its password)",
        )

    def handle(self, *args, app_url_variable, **options):
        if connection.vendor != "postgresql":
            self.stdout.write(f"Nothing to grant on {connection.vendor}.")
            return
        env = environ.Env()
        url = env(app_url_variable, default="")
        if not url:
            raise CommandError(f"{app_url_variable} is not set: whose grants should be made?")
        app = env.db_url_config(url)
        role, password = app.get("USER") or "", app.get("PASSWORD") or ""
        if not role:
            raise CommandError(f"{app_url_variable} names no user.")
        if app.get("NAME") != connection.settings_dict["NAME"]:
            raise CommandError(
                f"{app_url_variable} is for database {app.get('NAME')!r}, but this command "
                f"runs on {connection.settings_dict['NAME']!r}: both must name the same."
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            [owner] = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"{app_url_variable} connects as {role}, the owner that migrates: the "
                    "portal needs a role of its own (docs/security.md)."
                )
            with transaction.atomic():
                self._ensure_role(cursor, role, password)
                tables = set(connection.introspection.table_names(cursor))
                for statement in grant_statements(connection, role, tables):
                    cursor.execute(statement)
        missing = sorted(set(connection.introspection.table_names()) - set(table_grants()))
        for table in missing:
            self.stderr.write(f"No grant for {table}: contests/database_roles.py names it not.")
        self.stdout.write(f"Role {role} has its grants on {len(tables) - len(missing)} tables.")

    def _ensure_role(self, cursor, role: str, password: str) -> None:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [role]
        )
        found = cursor.fetchone()
        quoted = connection.ops.quote_name(role)
        if found is None:
            cursor.execute(f"CREATE ROLE {quoted} LOGIN")
            self.stdout.write(f"Created role {role}.")
        elif any(found):
            raise CommandError(
                f"Role {role} may create roles or databases, or is a superuser: the portal's "
                "role must be an ordinary one."
            )
        if password:
            # Kept in step with APP_DATABASE_URL, so changing it there is enough.
            cursor.execute(f"ALTER ROLE {quoted} LOGIN PASSWORD %s", [password])
