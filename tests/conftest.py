import datetime as dt
import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from contests.models import Contest, Prize


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {db}; cache: {settings.CACHES['default']['BACKEND']}"


@pytest.fixture(scope="session", autouse=True)
def expected_services(django_db_setup, django_db_blocker):
    """Fail, rather than skip quietly, when CI asked for a backend the settings don't use."""
    expected = os.environ.get("EXPECT_DATABASE")
    if expected and connection.vendor != expected:
        pytest.exit(f"EXPECT_DATABASE={expected} but the tests run on {connection.vendor}", 3)
    if os.environ.get("EXPECT_REDIS") and "redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.exit("EXPECT_REDIS is set but the cache is not Redis", 3)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    forget_what_this_process_saw()
    yield
    cache.clear()
    forget_what_this_process_saw()


def forget_what_this_process_saw():
    from contests import cache as play_cache

    play_cache._seen_contests.clear()
    play_cache._seen_tokens.clear()


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
