"""The application cannot rewrite the record (issue 15, item 6): on PostgreSQL the running
portal connects as a role that cannot change or delete plans, cannot delete wins or
reviews, and cannot change a moment except to mark it claimed; migrations run as the
owner. The topology test runs the whole portal as that role (test_topology.py)."""

import io
import os
import secrets
import subprocess
import sys

import psycopg2
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from contests.database_roles import table_grants
from tests.roles import drop_role, role_name
from tests.servers import ROOT

REFUSED = [
    "UPDATE contests_dayplan SET moment_count = 0",
    "UPDATE contests_dayplan SET commitment = ''",
    "DELETE FROM contests_dayplan",
    "UPDATE contests_winningmoment SET at = now()",
    "UPDATE contests_winningmoment SET plan_id = plan_id",
    "DELETE FROM contests_winningmoment",
    "UPDATE contests_win SET won_at = now()",
    "UPDATE contests_win SET moment_id = moment_id",
    "DELETE FROM contests_win",
    "UPDATE contests_winreview SET reason = ''",
    "DELETE FROM contests_winreview",
    "UPDATE contests_historicalcontest SET name = ''",
    "DELETE FROM contests_historicalcontest",
    "UPDATE contests_historicalwinreview SET reason = ''",
    "UPDATE contests_auditevent SET detail = ''",
    "DELETE FROM contests_auditevent",
    "DELETE FROM contests_plandocumentpart",
    "UPDATE contests_timestamp SET token = token",
    "DELETE FROM contests_timestamp",
    "UPDATE contests_timestamprequest SET digest = digest",
    "DELETE FROM contests_timestamprequest",
    "DELETE FROM django_admin_log",
    "UPDATE contests_playcount SET day = day",
    "DELETE FROM contests_playcount",
    "CREATE TABLE contests_sneaky (id int)",
    "TRUNCATE contests_win",
    "ALTER TABLE contests_win DISABLE TRIGGER ALL",
]
ALLOWED = [
    "UPDATE contests_winningmoment SET claimed = true",
    "UPDATE contests_win SET review_status = review_status",
    "UPDATE contests_playcount SET plays = plays",
    "UPDATE contests_contest SET name = name",
    "UPDATE contests_apitoken SET revoked_at = revoked_at, last_used_at = last_used_at",
    "SELECT count(*) FROM contests_dayplan",
]


@pytest.fixture
def app_role(postgres_only, django_db_blocker, django_db_setup):
    """The portal's role on the test database, made and granted by grant_app_role."""
    name = connection.settings_dict["NAME"]
    role, password = role_name("app"), secrets.token_hex(8)
    url = f"postgres://{role}:{password}@127.0.0.1:5432/{name}"
    with django_db_blocker.unblock():
        os.environ["APP_DATABASE_URL"] = url
        try:
            out = io.StringIO()
            call_command("grant_app_role", stdout=out)
        finally:
            del os.environ["APP_DATABASE_URL"]
        assert f"Created role {role}." in out.getvalue()
        yield role, password, name
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            drop_role(cursor, role)


def as_role(role: str, password: str, name: str):
    database = psycopg2.connect(host="127.0.0.1", dbname=name, user=role, password=password)
    database.autocommit = True
    return database


@pytest.mark.django_db(transaction=True)
def test_the_portals_role_cannot_rewrite_the_record(app_role):
    database = as_role(*app_role)
    refused = []
    try:
        for statement in REFUSED:
            with database.cursor() as cursor:
                try:
                    cursor.execute(
                        statement
                        + (" WHERE false" if statement[:6] in ("UPDATE", "DELETE") else "")
                    )
                except psycopg2.errors.InsufficientPrivilege:
                    refused.append(statement)
        assert refused == REFUSED
        for statement in ALLOWED:
            with database.cursor() as cursor:
                cursor.execute(
                    statement + (" WHERE false" if statement.startswith("UPDATE") else "")
                )
    finally:
        database.close()


@pytest.mark.django_db(transaction=True)
def test_the_deploy_check_tells_the_owner_from_the_portals_role(app_role):
    role, password, name = app_role

    def check(url: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--tag", "database",
             "--database", "default", "--fail-level", "WARNING"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    assert check(f"postgres://{role}:{password}@127.0.0.1:5432/{name}").returncode == 0
    owner = check(f"postgres://postgres@127.0.0.1:5432/{name}")
    assert owner.returncode != 0
    assert "portal.E004" in owner.stderr
    assert "is a superuser: it could rewrite the record" in owner.stderr


@pytest.mark.django_db
def test_the_grant_command_refuses_to_grant_to_the_owner(postgres_only):
    name = connection.settings_dict["NAME"]
    os.environ["APP_DATABASE_URL"] = (
        f"postgres://{connection.settings_dict['USER']}@127.0.0.1/{name}"
    )
    try:
        with pytest.raises(CommandError, match="the owner that migrates"):
            call_command("grant_app_role", stdout=io.StringIO())
    finally:
        del os.environ["APP_DATABASE_URL"]


def test_every_table_of_the_portal_has_its_grants_written_down():
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    assert tables - set(table_grants()) == set()
