"""The containers' entrypoints: wait for the database (bounded), prepare, then run the command."""

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.roles import drop_role, role_name
from tests.tools import VENV_BIN, missing

ROOT = Path(__file__).resolve().parent.parent
LIST_CONTESTS = (
    "from contests.models import Contest; "
    "print(sorted(Contest.objects.values_list('code', flat=True)))"
)
LIST_CONTESTS_COMMAND = ["python", "manage.py", "shell", "-v", "0", "-c", LIST_CONTESTS]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], **environment: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "LANG": "C.UTF-8"}
    return subprocess.run(
        command, cwd=ROOT, env={**env, **environment}, capture_output=True, text=True, check=False
    )


def production(database_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "portal.test",
        "DATABASE_URL": database_url,
        # Never reached by these tests: the deploy checks only need one to be set.
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "DJANGO_STATIC_ROOT": str(tmp_path / "collected"),
        "STATIC_PUBLISH_ROOT": str(tmp_path / "public"),
        **more,
    }


def test_wait_for_db_gives_up_after_its_tries_and_says_why():
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"
    result = run(
        [sys.executable, "manage.py", "wait_for_db", "--tries", "2", "--delay", "0.1"],
        DATABASE_URL=url,
    )
    assert result.returncode == 1
    assert "Waiting for the postgresql database nowhere at 127.0.0.1:" in result.stderr
    assert "(1/2)" in result.stderr
    assert "(2/2)" in result.stderr
    assert "Connection refused" in result.stderr
    assert "did not answer after 2 tries, 0.1 s apart" in result.stderr
    assert "Is DATABASE_URL right, and is the database up?" in result.stderr


def test_wait_for_db_returns_at_once_when_the_database_answers(tmp_path):
    result = run(
        [sys.executable, "manage.py", "wait_for_db", "--tries", "1"],
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert "is ready" in result.stdout


def test_wait_for_db_refuses_nonsense_arguments():
    result = run([sys.executable, "manage.py", "wait_for_db", "--delay", "0"])
    assert result.returncode != 0
    assert "--delay: 0 must be more than 0" in result.stderr


def test_the_development_entrypoint_prepares_everything_then_runs_the_command(tmp_path):
    result = run(
        ["deploy/entrypoint.sh", *LIST_CONTESTS_COMMAND],
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    # Migrated and seeded with the demo contests, then the command ran.
    assert result.stdout.rstrip().endswith("['C0000', 'C0001']")
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_the_production_entrypoint_stops_when_the_database_never_comes(tmp_path):
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"
    marker = tmp_path / "ran"
    result = run(
        ["deploy/entrypoint.prod.sh", "touch", str(marker)],
        **production(url, tmp_path),
        DB_WAIT_TRIES="2",
        DB_WAIT_DELAY="0.1",
    )
    assert result.returncode == 1
    assert "did not answer after 2 tries" in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "collected").exists()


def test_a_placeholder_secret_stops_the_production_entrypoint(tmp_path):
    # As .env.prod.example has it: refused before the database is even waited for.
    marker = tmp_path / "ran"
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"
    result = run(
        ["deploy/entrypoint.prod.sh", "touch", str(marker)],
        **production(url, tmp_path, DJANGO_SECRET_KEY="change-me"),
    )
    assert result.returncode != 0
    assert "portal.E001" in result.stderr
    assert "DJANGO_SECRET_KEY is still the placeholder of .env.prod.example" in result.stderr
    assert "Waiting for the postgresql database" not in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "collected").exists()


@pytest.fixture
def empty_postgresql_database():
    """A fresh database, with the owner's URL and the URL of a role the entrypoint makes."""
    try:
        admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    except psycopg2.OperationalError as exc:
        missing(f"PostgreSQL is not running at 127.0.0.1:5432: {exc}")
    admin.autocommit = True
    name = f"portal_entrypoint_{secrets.token_hex(4)}"
    role = role_name("entrypoint_app")
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield (
        f"postgres://postgres@127.0.0.1:5432/{name}",
        f"postgres://{role}:{secrets.token_hex(8)}@127.0.0.1:5432/{name}",
    )
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        drop_role(cursor, role)
    admin.close()


def test_replicas_starting_together_take_turns(empty_postgresql_database, tmp_path):
    # Two web containers on one fresh database and one static volume, as with
    # `docker compose up --scale web=2`: each migrates, collects and publishes, then runs.
    owner_url, app_url = empty_postgresql_database
    replicas = []
    for number in range(2):
        environment = production(app_url, tmp_path, DATABASE_MIGRATE_URL=owner_url)
        environment["DJANGO_STATIC_ROOT"] = str(tmp_path / f"collected-{number}")
        env = {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", **environment}
        replicas.append(
            subprocess.Popen(
                ["deploy/entrypoint.prod.sh", *LIST_CONTESTS_COMMAND],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = [(replica.wait(timeout=120), *replica.communicate()) for replica in replicas]
    for returncode, stdout, stderr in results:
        assert returncode == 0, stdout + stderr
        assert stdout.rstrip().endswith("[]")
    # One of them applied the migrations; the others found nothing left to do.
    applied = ["Applying contests.0001_initial" in stdout for _, stdout, _ in results]
    assert applied.count(True) == 1
    manifest = (tmp_path / "public" / "staticfiles.json").read_text()
    assert manifest == (tmp_path / "collected-0" / "staticfiles.json").read_text()
