"""GET /healthz says whether the database and the cache work, in JSON, never cached: only
up or down, the part that failed goes to the log."""

import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_it_is_ok_when_the_database_and_the_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_it_logs_the_database_when_the_database_fails(client, caplog):
    with mock.patch(
        "portal.health.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    # Up or down, nothing more, to whoever asks; the log says which part and why.
    assert response.json() == {"status": "error"}
    assert "health check: database unavailable" in caplog.text
    assert "connection refused" in caplog.text
    assert "cache" not in caplog.text


# A cache that stores nothing is what django-redis looks like with Redis down and
# IGNORE_EXCEPTIONS on: writes vanish, reads find nothing.
@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_it_logs_the_cache_when_the_cache_keeps_nothing(client, caplog):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert "health check: cache did not return what was stored" in caplog.text
    assert "no-cache" in response["Cache-Control"]


def test_it_logs_the_cache_when_the_cache_raises(client, caplog):
    with mock.patch("portal.health.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert "health check: cache unavailable" in caplog.text
    assert "redis down" not in response.content.decode()


def test_it_leaves_no_key_behind(client):
    known = uuid.UUID(int=7)
    with mock.patch("portal.health.uuid.uuid4", return_value=known):
        assert client.get("/healthz").status_code == 200
    assert cache.get(f"healthz:{known.hex}", "gone") == "gone"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_it_answers_over_plain_http_when_https_is_enforced(client):
    # Docker's health check and the proxy's probes speak plain HTTP inside the network.
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/").status_code == 301


def test_it_only_reads(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
