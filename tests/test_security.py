"""Security: every page but the public ones refuses outsiders, forms need their CSRF token,
tokens and future moments never show, and `check --deploy` is clean in production.

The page tests walk the URLconf rather than list pages, so pages added later are covered
without touching this file; only the public endpoints below are left out.
"""

import datetime as dt
import io
import logging
import os
import secrets
import subprocess
import sys
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import dateformat, formats, timezone
from django.utils.regex_helper import normalize

from contests.models import WinningMoment
from tests.plans import contest_with_plan
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

# Open to everyone on purpose: the API, its contract, the health checks and the sign-in pages.
PUBLIC_PATHS = {"/play/", "/healthz", "/readyz", "/openapi.json"}
PUBLIC_NAMES = {
    "day_plans",  # the sealed plans are public on purpose: anyone may verify the draw
    "login",
    "logout",
    "two_factor",  # the sign-in's second step: sends anyone who needs none on to `next`
    # The language switcher, on the sign-in page too: it sets a cookie and goes back.
    "set_language",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


@pytest.fixture(autouse=True)
def static_files_without_a_manifest(settings):
    """Pages render without collectstatic: tests run with DEBUG off."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    params: tuple[str, ...]


def walk(patterns, prefix: str = "", params: tuple = ()) -> Iterator[tuple[str, tuple, URLPattern]]:
    """Yield every endpoint as (a format string of its path, its parameter names, pattern)."""
    for entry in patterns:
        fmt, names = _format_of(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + fmt, params + names)
        else:
            yield prefix + fmt, params + names, entry


def _format_of(pattern) -> tuple[str, tuple[str, ...]]:
    regex = pattern.regex.pattern  # a RoutePattern compiles its route to a regex too
    [(fmt, names), *_] = normalize(regex.removeprefix("^").removesuffix("\\Z").removesuffix("$"))
    return fmt, tuple(names)


def candidate_values(objects: list[models.Model]) -> list[str]:
    """Values to try for any URL parameter: app labels, and the primary keys that exist."""
    keys = {str(obj.pk) for obj in objects}
    return ["contests", "auth", *sorted(keys), "1", "C0001", "x"]


def pages(objects: list[models.Model], superuser: Client) -> list[Page]:
    """Every non-public page, with parameters a superuser can open when any such exist."""
    found = []
    values = candidate_values(objects)
    for fmt, names, pattern in walk(get_resolver().url_patterns):
        if pattern.name in PUBLIC_NAMES:
            continue
        tries = [
            "/" + fmt % dict.fromkeys(names, value) if names else "/" + fmt for value in values
        ]
        tries = [path for path in tries if _resolves(path, pattern)]
        if not tries:
            continue
        if any(path.rstrip("/") == public.rstrip("/") for public in PUBLIC_PATHS for path in tries):
            continue
        # Prefer what a superuser sees as a page, then what it may at least open.
        statuses = {path: superuser.get(path).status_code for path in tries}
        best = sorted(tries, key=lambda path: (statuses[path] != 200, statuses[path] >= 400))
        found.append(Page(best[0], pattern.name or "", names))
    return found


def _resolves(path: str, pattern: URLPattern) -> bool:
    try:
        return resolve(path).func == pattern.callback
    except Exception:
        return False


def refused(client: Client, path: str) -> tuple[bool, int]:
    """Does the portal refuse this client the page (and, if GET is not allowed, a POST)?"""
    response = client.get(path)
    status = response.status_code
    if status == 405:
        response = client.post(path)
        status = response.status_code
    if status in (302, 303):
        return "login" in response["Location"], status
    return status in (401, 403, 404, 405), status


@pytest.fixture
def people() -> dict[str, Client]:
    superuser = User.objects.create_superuser("root", password="pw-root-123")
    outsider = User.objects.create_user("outsider", password="pw-outsider-123")
    staff = User.objects.create_user("staff", password="pw-staff-123", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())  # sees everything a role could grant
    clients = {"anonymous": Client()}
    for name, user in [("superuser", superuser), ("outsider", outsider), ("staff", staff)]:
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


@pytest.fixture
def objects(make_contest, people) -> list[models.Model]:
    contest_with_plan(make_contest, "C0001", due=1, later=3)
    call_command("create_api_client", "Brand", "--contest", "C0001", stdout=io.StringIO())
    Client().get("/play/?contest=C0001")  # unknown caller: 401, but keep going
    found = []
    for model in apps.get_models():
        found += list(model._default_manager.all()[:1])
    return found


def test_every_page_refuses_anonymous_and_non_staff_users(people, objects):
    walked = pages(objects, people["superuser"])
    opened_by_superuser = [p for p in walked if people["superuser"].get(p.path).status_code == 200]
    assert len(opened_by_superuser) >= 5, "the walk found too few real pages to prove anything"
    failures = []
    for page in walked:
        for who in ("anonymous", "outsider"):
            ok, status = refused(people[who], page.path)
            if not ok:
                failures.append((who, page.path, status))
    assert not failures, failures


def test_forms_need_their_csrf_token():
    User.objects.create_user("staff", password="pw-staff-123", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "staff", "password": "pw-staff-123"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def text_in_database() -> Iterator[str]:
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        for row in model._default_manager.values_list(*fields) if fields else []:
            yield from (value for value in row if value)


def test_tokens_are_never_stored_or_logged_in_plain_text(
    make_contest, stdout_log, caplog, django_capture_on_commit_callbacks
):
    contest_with_plan(make_contest, "C0001", due=2, later=2)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_api_client", "Brand", "--contest", "C0001", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    client = Client()
    with caplog.at_level(logging.DEBUG):
        for query in ["contest=C0001", "contest=C0001&user=alice", "contest=C0404"]:
            response = client.get(f"/play/?{query}", HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code in (200, 404)
        client.get("/play/?contest=C0001", HTTP_AUTHORIZATION=f"Bearer {token}x")
    logged = stdout_log.getvalue() + caplog.text
    assert "contests.play" in logged  # the plays were logged, and not the token
    assert token not in logged and token[4:] not in logged
    assert not [value for value in text_in_database() if token[4:] in str(value)]


def renderings(at: dt.datetime, zones: list[str]) -> set[str]:
    """The ways a page or a log line could show an instant."""
    shown = {at.isoformat(), at.strftime("%Y-%m-%d %H:%M:%S")}
    for zone in zones:
        local = at.astimezone(zoneinfo.ZoneInfo(zone))
        shown |= {
            local.isoformat(),
            local.strftime("%Y-%m-%d %H:%M:%S"),
            local.strftime("%H:%M:%S"),
        }
        shown.add(dateformat.format(local, formats.get_format("DATETIME_FORMAT")))
    return shown


def test_no_answer_page_or_log_line_shows_a_moment_before_it_passes(
    make_contest, people, stdout_log, caplog
):
    contest = contest_with_plan(make_contest, "C0001", due=1, later=4)
    future = list(WinningMoment.objects.filter(at__gt=timezone.now()))
    assert len(future) == 4
    # Odd seconds, so that no other field of the pages prints the same strings by chance.
    for index, moment in enumerate(future):
        moment.at += dt.timedelta(minutes=7 * index + 3, seconds=17 + index)
        moment.save(update_fields=["at"])
    shown = []
    with caplog.at_level(logging.DEBUG):
        for number in range(6):
            response = Client().get(f"/play/?contest=C0001&user=p{number}")
            shown.append(response.content.decode())
        staff = people["staff"]
        for page in pages([contest, *WinningMoment.objects.all()], people["superuser"]):
            response = staff.get(page.path)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                shown.append(response.content.decode())
    shown.append(stdout_log.getvalue() + caplog.text)
    zones = [contest.time_zone, timezone.get_current_timezone_name(), "UTC"]
    leaks = [
        (moment.pk, text)
        for moment in future
        for text in renderings(moment.at, zones)
        if any(text in page for page in shown)
    ]
    assert not leaks, leaks


def test_check_deploy_is_clean_with_production_settings():
    """With production-like variables (.env.prod.example comes with the deploy work)."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "contests.portal.test",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://contests.portal.test",
        "DATABASE_URL": "postgres://portal:secret@db:5432/portal",
        "REDIS_URL": "redis://redis:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
