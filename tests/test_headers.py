"""Headers and surfaces (issue 15, item 9): a Content-Security-Policy on every portal page
(everything from the portal itself, no inline script, no style attribute), a
Permissions-Policy and a Referrer-Policy; pages that keep to that policy."""

import re

import pytest
from django.test import Client

from tests.clock import rome
from tests.plans import contest_with_plan

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/", "/winners/", "/admin/", "/accounts/login/", "/nope/"])
def test_every_portal_page_carries_the_policy(staff_client, path):
    response = staff_client.get(path)
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_play_api_goes_without_it(client):
    response = client.get("/play/?contest=C0404")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response


# What the policy would block: a style attribute or element, an inline script, an event
# handler attribute, a javascript: address. (A <script type="application/json"> is data.)
INLINE = [
    re.compile(r"<[^>]*\sstyle\s*=", re.I),
    re.compile(r"<style[\s>]", re.I),
    re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    re.compile(r"javascript:", re.I),
]


def inline_parts(html: str) -> list[str]:
    return [match.group(0) for pattern in INLINE for match in pattern.finditer(html)]


@pytest.fixture
def pages(make_contest, make_win, staff_user) -> list[str]:
    contest = contest_with_plan(make_contest, "C0001", due=2, later=2)
    Client().get("/play/?contest=C0001&user=anna")  # a win, so tables and charts have rows
    past = make_contest("C0002")
    win = make_win(past, rome(2020, 2, 3, 10), player="bob")
    return [
        "/",
        "/?status=running",
        f"/contests/{contest.code}/",
        f"/contests/{contest.code}/edit/",
        f"/contests/{contest.code}/report/",
        f"/contests/{contest.code}/history/",
        "/contests/C0002/?day=2020-02-03",
        "/contests/C0002/report/",
        "/new-contest/",
        "/winners/",
        f"/winners/{win.pk}/",
        "/admin/",
        "/admin/contests/contest/",
        f"/admin/contests/contest/{past.pk}/change/",
        f"/admin/contests/contest/{past.pk}/history/",
        "/admin/contests/win/",
        "/admin/contests/dayplan/",
        "/admin/contests/auditevent/",
    ]


def test_no_page_has_an_inline_script_or_style(pages, staff_client, superuser_client, client):
    found = {}
    for path in pages:
        for who in (staff_client, superuser_client):
            response = who.get(path)
            assert response.status_code == 200, path
            if parts := inline_parts(response.content.decode()):
                found[path] = parts
    for path in ["/accounts/login/", "/accounts/two-factor/"]:
        if parts := inline_parts(client.get(path, follow=True).content.decode()):
            found[path] = parts
    assert not found, found


def test_the_inline_check_can_fail():
    assert inline_parts('<div style="width: 5%"></div>')
    assert inline_parts("<script>alert(1)</script>")
    assert inline_parts('<button onclick="window.print()">')
    assert not inline_parts('<script src="/static/js/portal.js"></script>')
    assert not inline_parts('<script id="x" type="application/json">{}</script>')
