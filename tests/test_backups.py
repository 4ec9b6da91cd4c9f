"""Backups: deploy/backup.sh dumps the database, deploy/restore.sh restores it into an empty
one, and the restored copy passes verify_plans. PostgreSQL only (pg_dump, pg_restore)."""

import datetime as dt
import os
import re
import subprocess
import sys
import time

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from contests.models import DayPlan
from contests.moments.claiming import ensure_plans
from tests.servers import ROOT
from tests.tools import tool

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def libpq_env(postgres_only):
    """libpq's variables for the test database, as the backup service gets them."""
    db = connection.settings_dict
    return {
        "PATH": os.environ["PATH"],
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
        **({"PGPASSWORD": db["PASSWORD"]} if db["PASSWORD"] else {}),
        "PGDATABASE": db["NAME"],
    }


@pytest.fixture
def fresh_database(libpq_env):
    """A name for a database that does not exist yet (restore.sh creates it); dropped after."""
    base = connection.settings_dict["NAME"].removeprefix("test_")
    name = f"{base}_restore_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    yield name
    admin = psycopg2.connect(
        dbname="postgres",
        host=libpq_env["PGHOST"],
        port=libpq_env["PGPORT"],
        user=libpq_env["PGUSER"],
        password=libpq_env.get("PGPASSWORD"),
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def script(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", f"deploy/{name}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def major(version_output: str) -> int:
    return int(re.search(r"(\d+)(?:\.\d+)+", version_output).group(1))


def test_the_client_tools_are_as_new_as_the_server(libpq_env):
    # pg_dump refuses a server newer than itself; the compose service uses the server's image.
    pg_dump = tool("pg_dump", "apt-get install postgresql-client")
    client = major(subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout)
    server = connection.cursor().connection.server_version // 10000
    assert client >= server, f"pg_dump {client} cannot dump PostgreSQL {server}"


def test_backup_then_restore_then_verify_plans_is_clean(
    make_contest, tmp_path, libpq_env, fresh_database
):
    today = timezone.localdate()
    contest = make_contest(start=today, end=today + dt.timedelta(days=3))
    now = timezone.now()
    for offset in range(3):
        ensure_plans(contest, today + dt.timedelta(days=offset), now)
    plans = DayPlan.objects.count()
    assert plans == 3

    env = {**libpq_env, "BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_KEEP_DAYS": "7"}
    backup = script("backup.sh", "once", env=env)
    assert backup.returncode == 0, backup.stderr
    [dump] = (tmp_path / "backups").glob("*.dump")
    assert re.fullmatch(rf"{libpq_env['PGDATABASE']}-\d{{8}}T\d{{6}}Z\.dump", dump.name)
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert script("backup.sh", "check", env=env).returncode == 0

    restore = script("restore.sh", str(dump), fresh_database, env=env)
    assert restore.returncode == 0, restore.stderr
    # A second restore into the same, now full, database is refused.
    again = script("restore.sh", str(dump), fresh_database, env=env)
    assert again.returncode == 1
    assert "already has" in again.stderr

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{libpq_env['PGHOST']}:{libpq_env['PGPORT']}/{fresh_database}"
    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_plans"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert f"Checked {plans} plan" in verified.stdout
    assert "matches its seal." in verified.stdout


def test_backups_keep_only_the_days_they_are_told(tmp_path, libpq_env):
    folder = tmp_path / "backups"
    folder.mkdir()
    day = 24 * 3600
    for age in (1, 6, 8, 30):
        old = folder / f"portal-old-{age}.dump"
        old.write_bytes(b"PGDMP")
        os.utime(old, (time.time() - age * day - 60, time.time() - age * day - 60))
    env = {**libpq_env, "BACKUP_DIR": str(folder), "BACKUP_KEEP_DAYS": "7"}
    result = script("backup.sh", "once", env=env)
    assert result.returncode == 0, result.stderr
    left = sorted(path.name for path in folder.glob("portal-old-*.dump"))
    assert left == ["portal-old-1.dump", "portal-old-6.dump"]
    assert "removed" in result.stdout


def test_the_health_check_fails_without_a_recent_dump(tmp_path, libpq_env):
    env = {**libpq_env, "BACKUP_DIR": str(tmp_path / "empty")}
    assert script("backup.sh", "check", env=env).returncode != 0


def test_restore_refuses_what_is_not_a_dump(tmp_path, libpq_env, fresh_database):
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")
    result = script("restore.sh", str(junk), fresh_database, env=libpq_env)
    assert result.returncode != 0
