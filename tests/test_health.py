"""/healthz says the process answers (liveness); /readyz says it can serve (readiness).

In process here, then for real through gunicorn with Redis stopped and PostgreSQL refused.
"""

import json
import urllib.error
import urllib.request
import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import override_settings

from tests.servers import gunicorn, redis_server

pytestmark = pytest.mark.django_db


def test_liveness_is_ok_whenever_the_process_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_liveness_asks_neither_the_database_nor_the_cache(client):
    with (
        mock.patch("portal.health.connection.cursor", side_effect=OperationalError("refused")),
        mock.patch("portal.health.cache.set", side_effect=ConnectionError("redis down")),
    ):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@override_settings(PORTAL_COMMIT="3f1c2d5e8a9b", PORTAL_VERSION="1.2.3")
def test_verbose_liveness_shows_the_build_to_staff_only(client, staff_client, outsider_client):
    assert staff_client.get("/healthz?verbose").json() == {
        "status": "ok",
        "commit": "3f1c2d5e8a9b",
        "version": "1.2.3",
    }
    assert client.get("/healthz?verbose").json() == {"status": "ok"}
    assert outsider_client.get("/healthz?verbose").json() == {"status": "ok"}
    assert staff_client.get("/healthz").json() == {"status": "ok"}


def test_readiness_is_ok_when_the_database_and_the_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readiness_fails_when_the_database_fails(client):
    with mock.patch(
        "portal.health.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "cache": "ok"}


# A cache that stores nothing is what django-redis looks like with Redis down and
# IGNORE_EXCEPTIONS on: writes vanish, reads find nothing. Plays survive it: still ready.
@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_readiness_is_degraded_but_ready_when_the_cache_keeps_nothing(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "error"}


def test_readiness_is_degraded_when_the_cache_raises(client):
    with mock.patch("portal.health.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "error"}


def test_readiness_leaves_no_key_behind(client):
    known = uuid.UUID(int=7)
    with mock.patch("portal.health.uuid.uuid4", return_value=known):
        assert client.get("/readyz").status_code == 200
    assert cache.get(f"healthz:{known.hex}", "gone") == "gone"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_both_answer_over_plain_http_when_https_is_enforced(client):
    # Docker's health check and the proxy's probes speak plain HTTP inside the network.
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/admin/login/").status_code == 301


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_they_only_read(client, path):
    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200


# For real: gunicorn, a Redis that is stopped, a PostgreSQL that refuses -----------------


def get(base: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_the_portal_is_alive_and_still_ready():
    with redis_server() as redis, gunicorn(REDIS_URL=redis.url) as base:
        assert get(base, "/readyz") == (200, {"status": "ok", "database": "ok", "cache": "ok"})
        redis.kill()
        assert get(base, "/healthz") == (200, {"status": "ok"})
        assert get(base, "/readyz") == (
            200,
            {"status": "degraded", "database": "ok", "cache": "error"},
        )
        # And plays are still answered, from the database.
        assert get(base, "/play/?contest=NOPE")[0] == 404


def test_with_postgresql_refused_the_portal_is_alive_but_not_ready(unused_tcp_port):
    refused = f"postgres://postgres@127.0.0.1:{unused_tcp_port}/portal"
    with gunicorn(DATABASE_URL=refused) as base:
        assert get(base, "/healthz") == (200, {"status": "ok"})
        status, body = get(base, "/readyz")
        assert (status, body["status"], body["database"]) == (503, "error", "error")


@pytest.fixture
def unused_tcp_port():
    from tests.servers import free_port

    return free_port()
