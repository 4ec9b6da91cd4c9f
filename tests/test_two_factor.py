"""Two-factor sign-in (issue 15, item 2): in production superusers and Contest staff must
give a TOTP code after their password; DJANGO_OTP_REQUIRED_FOR=everyone asks it of every
account; the embedded default asks nobody."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from contests.models import AuditEvent
from tests.test_production_settings import manage, production

pytestmark = pytest.mark.django_db


def enrol(username: str) -> TOTPDevice:
    out = io.StringIO()
    call_command("enrol_totp", username, stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    return TOTPDevice.objects.get(user__username=username)


def code(device: TOTPDevice) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return str(token).zfill(device.digits)


def sign_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password="root-pw-1")


@override_settings(OTP_REQUIRED_FOR="staff")
def test_a_superuser_cannot_open_a_page_before_giving_a_code(superuser):
    enrol("root")
    client = sign_in("root", "root-pw-1")
    for path in ["/", "/winners/", "/admin/", "/admin/contests/contest/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/two-factor/?next="), path
    page = client.get("/accounts/two-factor/?next=/winners/")
    assert page.status_code == 200
    assert b"Enter the six-digit code" in page.content


@override_settings(OTP_REQUIRED_FOR="staff")
def test_the_right_code_opens_the_portal_where_it_was_going(superuser):
    device = enrol("root")
    client = sign_in("root", "root-pw-1")
    response = client.post("/accounts/two-factor/", {"code": code(device), "next": "/winners/"})
    assert response.status_code == 302
    assert response["Location"] == "/winners/"
    assert client.get("/winners/").status_code == 200
    assert client.get("/admin/").status_code == 200


@override_settings(OTP_REQUIRED_FOR="staff")
def test_a_wrong_code_is_refused_and_recorded(superuser):
    enrol("root")
    client = sign_in("root", "root-pw-1")
    response = client.post("/accounts/two-factor/", {"code": "000000", "next": "/"})
    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(kind="two_factor_failed", username="root").count() == 1


@override_settings(OTP_REQUIRED_FOR="staff")
def test_contest_staff_need_a_code_and_auditors_do_not(staff_user, auditor_user):
    alice = sign_in("alice", "alice-pw-1")  # Contest staff
    assert alice.get("/").status_code == 302
    page = alice.get("/accounts/two-factor/")
    assert b"needs a two-factor device" in page.content  # none enrolled yet
    assert b"manage.py enrol_totp" in page.content
    audrey = sign_in("audrey", "audrey-pw-1")  # Auditor
    assert audrey.get("/").status_code == 200


@override_settings(OTP_REQUIRED_FOR="everyone")
def test_a_setting_requires_it_of_everyone(auditor_user):
    audrey = sign_in("audrey", "audrey-pw-1")
    assert audrey.get("/").status_code == 302
    device = enrol("audrey")
    audrey.post("/accounts/two-factor/", {"code": code(device)})
    assert audrey.get("/").status_code == 200


@override_settings(OTP_REQUIRED_FOR="staff")
def test_the_play_api_and_anonymous_visitors_are_not_concerned(client, make_contest):
    assert client.get("/play/?contest=C0404").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


@override_settings(OTP_REQUIRED_FOR="staff")
def test_next_never_leads_off_the_site(superuser):
    device = enrol("root")
    client = sign_in("root", "root-pw-1")
    response = client.post(
        "/accounts/two-factor/", {"code": code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_production_requires_it_of_staff_and_the_embedded_default_of_nobody():
    show = "from django.conf import settings; print(settings.OTP_REQUIRED_FOR)"
    # The default with DJANGO_DEBUG off, whatever .env.prod says or leaves out.
    result = manage(
        "shell", "-v", "0", "-c", show, environment=production(DJANGO_OTP_REQUIRED_FOR=None)
    )
    assert result.stdout.strip() == "staff", result.stderr
    assert manage("shell", "-v", "0", "-c", show, environment={}).stdout.strip() == "off"
    everyone = production(DJANGO_OTP_REQUIRED_FOR="everyone")
    assert manage("shell", "-v", "0", "-c", show, environment=everyone).stdout.strip() == "everyone"
    wrong = manage("check", environment=production(DJANGO_OTP_REQUIRED_FOR="sometimes"))
    assert wrong.returncode != 0
    assert "DJANGO_OTP_REQUIRED_FOR must be staff, everyone or off" in wrong.stderr


def test_enrolling_prints_the_secret_once_and_replacing_needs_asking(superuser):
    out = io.StringIO()
    call_command("enrol_totp", "root", "--qr", stdout=out)
    text = out.getvalue()
    assert re.search(r"otpauth://totp/Contest%20Portal%3Aroot\?secret=[A-Z2-7]+", text)
    assert "secret key:" in text
    with pytest.raises(CommandError, match="already has a TOTP device"):
        call_command("enrol_totp", "root", stdout=io.StringIO())
    call_command("enrol_totp", "root", "--replace", stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user=superuser).count() == 1
    assert AuditEvent.objects.filter(kind="two_factor_enrolled").count() == 2
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("enrol_totp", "nobody", stdout=io.StringIO())
