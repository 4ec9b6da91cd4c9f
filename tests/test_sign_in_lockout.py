"""Logins cannot be guessed (issue 15, item 2): after 5 failures for one username, or 20
from one address, within 15 minutes, sign-in is refused for 15 minutes — even with the
right password — with a 429 page that says so; every failure and lockout is logged with
the address, behind the proxy's real client address. Nginx's own limits are in
test_topology.py; two-factor sign-in in test_two_factor.py."""

import datetime as dt
import logging

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from contests.models import AuditEvent

pytestmark = pytest.mark.django_db

PORTAL = "/accounts/login/"
ADMIN = "/admin/login/?next=/admin/"
ADDRESS = "203.0.113.7"


def sign_in(client: Client, url: str, username: str, password: str, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [PORTAL, ADMIN], ids=["portal", "admin"])
def test_the_right_password_is_refused_on_the_sixth_try(url, staff_user, caplog):
    client = Client(REMOTE_ADDR=ADDRESS)
    with caplog.at_level(logging.INFO):
        statuses = [sign_in(client, url, "alice", "wrong").status_code for _ in range(5)]
        # The form again with its error, four times; the fifth failure locks the username.
        assert statuses == [200, 200, 200, 200, 429]
        response = sign_in(client, url, "alice", "alice-pw-1")
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "Signing in is refused for 15 minutes, even with the right password." in page
    assert response["Retry-After"] == "900"
    # Logged, with the address, every failure and the lockout.
    failures = [r for r in caplog.records if r.getMessage().startswith("sign-in failed")]
    assert len(failures) >= 5
    assert all(f"address={ADDRESS}" in record.getMessage() for record in failures)
    assert f"sign-in locked out username='alice' address={ADDRESS}" in caplog.text
    assert AuditEvent.objects.filter(kind="sign_in_failed", address=ADDRESS).count() >= 5
    assert AuditEvent.objects.filter(kind="locked_out", username="alice").exists()


def test_the_lockout_ends_after_fifteen_minutes(staff_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        sign_in(client, PORTAL, "alice", "wrong-password")
    assert sign_in(client, PORTAL, "alice", "alice-pw-1").status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=14), tick=False):
        assert sign_in(client, PORTAL, "alice", "alice-pw-1").status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31), tick=False):
        response = sign_in(client, PORTAL, "alice", "alice-pw-1")
        assert response.status_code == 302
        assert signed_in(client)


def test_four_failures_still_let_the_right_password_in(staff_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(4):
        sign_in(client, PORTAL, "alice", "wrong-password")
    assert sign_in(client, PORTAL, "alice", "alice-pw-1").status_code == 302
    assert AuditEvent.objects.filter(kind="signed_in", username="alice").count() == 1


def test_a_username_is_locked_from_every_address(staff_user):
    for number in range(5):
        sign_in(Client(REMOTE_ADDR=f"198.51.100.{number}"), PORTAL, "alice", "wrong")
    assert (
        sign_in(Client(REMOTE_ADDR="192.0.2.1"), PORTAL, "alice", "alice-pw-1").status_code == 429
    )


def test_twenty_failures_from_one_address_lock_it_for_every_username(staff_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    # 4 tries each for 5 names: no username reaches its limit, the address does.
    statuses = [sign_in(client, PORTAL, f"guess-{n % 5}", "wrong").status_code for n in range(20)]
    assert statuses == [200] * 19 + [429]
    response = sign_in(client, PORTAL, "alice", "alice-pw-1")
    assert response.status_code == 429
    # Another address is not locked.
    assert (
        sign_in(Client(REMOTE_ADDR="192.0.2.1"), PORTAL, "alice", "alice-pw-1").status_code == 302
    )


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_the_proxy_the_address_is_the_one_nginx_forwards(staff_user, caplog):
    # gunicorn sees Nginx's address; Nginx puts the client's in X-Forwarded-For.
    proxied = Client(REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR=ADDRESS)
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            sign_in(proxied, PORTAL, "alice", "wrong")
    assert f"address={ADDRESS}" in caplog.text
    assert "172.18.0.5" not in caplog.text
    assert set(AuditEvent.objects.values_list("address", flat=True)) == {ADDRESS}
    # Another client behind the same proxy is another address: "bob" is not locked there.
    get_user_model().objects.create_user("bob", password="bob-pw-1", is_staff=True)
    other = Client(REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert sign_in(other, PORTAL, "bob", "bob-pw-1").status_code == 302


def test_without_the_proxy_a_forwarded_address_is_not_believed(staff_user):
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR="192.0.2.99")
    sign_in(client, PORTAL, "alice", "wrong")
    assert list(AuditEvent.objects.values_list("address", flat=True)) == [ADDRESS]


def test_the_locked_out_page_is_a_page_of_the_portal(staff_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        sign_in(client, PORTAL, "alice", "wrong")
    response = sign_in(client, PORTAL, "alice", "alice-pw-1")
    assert "registration/locked_out.html" in [template.name for template in response.templates]
    assert b"/static/css/portal." in response.content
    assert b"Back to sign in" in response.content
