import datetime as dt
import io
import logging
import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import translation
from pytest_django.live_server_helper import LiveServer

from contests import participants, play_counts
from contests.models import Contest, DayPlan, Prize, Win, WinningMoment
from contests.moments.planning import day_bounds
from contests.play import credentials
from contests.play.log import play_log
from contests.play.memory import memory
from contests.roles import AUDITOR, CONTEST_STAFF, sync_roles
from portal.request_id import RequestContextFilter


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures can tell a failure (screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {db}; cache: {settings.CACHES['default']['BACKEND']}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, a test database in a file: gunicorn in the wire tests, and the threads of
    the concurrency tests, must open the same database as the test (not an in-memory one)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["TEST"] = {**db.get("TEST", {}), "NAME": str(settings.BASE_DIR / ".test-db.sqlite3")}


@pytest.fixture(scope="session")
def topology(tmp_path_factory):
    """Nginx → gunicorn → PostgreSQL and Redis as deployed (tests/topology.py), started once
    for every test_topology_*.py file."""
    from tests.topology import running_topology

    with running_topology(tmp_path_factory.mktemp("topology")) as site:
        yield site


@pytest.fixture(scope="session", autouse=True)
def expected_services(django_db_setup, django_db_blocker):
    """Fail, rather than skip quietly, when CI asked for a backend the settings don't use."""
    expected = os.environ.get("EXPECT_DATABASE")
    if expected and connection.vendor != expected:
        pytest.exit(f"EXPECT_DATABASE={expected} but the tests run on {connection.vendor}", 3)
    if os.environ.get("EXPECT_REDIS") and "redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.exit("EXPECT_REDIS is set but the cache is not Redis", 3)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Staff logins in tests need no slow key stretching (a third of a second each)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Collect the static files once, as a deployment does, and serve them from there.

    Tests run with DEBUG off, where the manifest storage links every file by its hashed
    name and refuses a name that is not in the manifest: so pages render only once the
    files are collected, exactly as in production.
    """
    static_root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=static_root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield static_root


@pytest.fixture(scope="session")
def live_server(request, collected_static):
    """pytest-django's live server, with /static/ left to WhiteNoise as in production.

    pytest-django puts Django's StaticFilesHandler in front, which finds files by their
    source names and so answers 404 for the hashed names that the pages link to.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


# No thread writes the play path's batches in this process: each test's database
# transaction is invisible to other threads. Readers write them first (contests/buffered.py).
settings.BUFFER_FLUSH_INTERVAL = 0
# Tests move the process's clock (time_machine); plays through gunicorn use the database's.
settings.AWARD_CLOCK = "process"


@pytest.fixture(autouse=True)
def default_language():
    """A request in Italian leaves Italian active in its thread: every test starts without."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    forget_what_this_process_saw()
    yield
    cache.clear()
    forget_what_this_process_saw()


def forget_what_this_process_saw():
    """Forget the play path's memory and batches: the next test's rows reuse the same ids."""
    memory.forget()
    memory._version, memory._check_after = None, 0.0
    play_counts._pending.clear()
    participants._pending.clear()
    credentials._unwritten.clear()
    credentials._last_written.clear()
    play_log._lines.clear()


@pytest.fixture
def redis_only():
    if "redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.skip("needs Redis: run with REDIS_URL=redis://…")


@pytest.fixture
def make_contest(db):
    def make(
        code="C0001",
        *,
        name="Vinci uno sconto",
        start=dt.date(2020, 2, 1),
        end=dt.date(2020, 2, 29),
        perday=45,
        prize_code="five-percent-discount",
        prize_name="Sconto del 5%",
        time_zone="Europe/Rome",
        wmax=None,
    ) -> Contest:
        contest = Contest.objects.create(
            code=code, name=name, start=start, end=end, time_zone=time_zone, wmax=wmax
        )
        Prize.objects.create(contest=contest, code=prize_code, name=prize_name, perday=perday)
        return contest

    return make


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")


@pytest.fixture
def make_win(db):
    """Record a win at `won_at` directly (a claimed moment at that instant and its win)."""

    def make(contest, won_at, *, player="", request_id="req-1", prize=None) -> Win:
        prize = prize or contest.prizes.order_by("pk").first()
        day = contest.local_date(won_at)
        day_start, day_end = day_bounds(day, contest.zone)
        plan, _ = DayPlan.objects.get_or_create(
            prize=prize,
            day=day,
            defaults={
                "window_start": day_start,
                "window_end": day_end,
                "moment_count": prize.perday,
                "made_at": day_start,
            },
        )
        moment = WinningMoment.objects.create(
            plan=plan, contest=contest, day=day, at=won_at, claimed=True
        )
        return Win.objects.create(
            moment=moment,
            contest=contest,
            prize=prize,
            day=day,
            won_at=won_at,
            request_id=request_id,
            player=player,
        )

    return make


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _member_of(user, role: str):
    # Transactional tests flush the database, data-migrated groups included: make them again.
    sync_roles(Group, Permission)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_user(db):
    """A member of the Contest staff group, as the people who run contests are."""
    user = get_user_model().objects.create_user("alice", password="alice-pw-1", is_staff=True)
    return _member_of(user, CONTEST_STAFF)


@pytest.fixture
def auditor_user(db):
    user = get_user_model().objects.create_user("audrey", password="audrey-pw-1", is_staff=True)
    return _member_of(user, AUDITOR)


@pytest.fixture
def auditor_client(auditor_user) -> Client:
    return _client_for(auditor_user)


@pytest.fixture
def staff_client(staff_user) -> Client:
    """A staff member who is not a superuser: sees everything but moments to come."""
    return _client_for(staff_user)


@pytest.fixture
def superuser_client(db) -> Client:
    return _client_for(get_user_model().objects.create_superuser("root", password="root-pw-1"))


@pytest.fixture
def outsider_client(db) -> Client:
    """Signed in, but not staff."""
    return _client_for(get_user_model().objects.create_user("bob", password="bob-pw-1"))


@pytest.fixture
def stdout_log(monkeypatch) -> io.StringIO:
    """What the project's stdout handler and the play log write, in their own formats."""
    [handler] = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in handler.filters)
    ]
    stream = PlayLogAware()
    monkeypatch.setattr(handler, "stream", stream)
    monkeypatch.setattr(play_log, "stream", stream)
    return stream


class PlayLogAware(io.StringIO):
    """stdout, where the play log's buffered lines are written before anything is read."""

    def getvalue(self) -> str:
        play_log.write()
        return super().getvalue()
