"""API clients in the admin: a token is shown once when issued, and can be revoked."""

import hashlib
import re

import pytest
import time_machine
from django.core.cache import cache

from contests.models import ApiClient, ApiToken
from contests.play.credentials import issue_token
from tests.clock import rome

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'<code class="api-token">(cpt_[A-Za-z0-9_-]+)</code>')


def test_adding_a_client_shows_its_first_token_once(
    admin_client, make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/contests/apiclient/add/",
            {
                "name": "Acme",
                "is_active": "on",
                "contests": [str(contest.pk)],
                "tokens-TOTAL_FORMS": "0",
                "tokens-INITIAL_FORMS": "0",
                "tokens-MIN_NUM_FORMS": "0",
                "tokens-MAX_NUM_FORMS": "1000",
            },
        )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [plain] = TOKEN.findall(response.content.decode())
    token = ApiToken.objects.get()
    assert token.client.name == "Acme"
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert list(token.client.contests.all()) == [contest]
    # Shown once: the client's page afterwards has only the prefix.
    page = admin_client.get(f"/admin/contests/apiclient/{token.client_id}/change/")
    assert plain not in page.content.decode()
    assert token.prefix in page.content.decode()


def test_the_issue_action_gives_each_selected_client_a_new_token(admin_client):
    acme = ApiClient.objects.create(name="Acme")
    beta = ApiClient.objects.create(name="Beta")
    response = admin_client.post(
        "/admin/contests/apiclient/",
        {"action": "issue_tokens", "_selected_action": [str(acme.pk), str(beta.pk)]},
    )
    plains = TOKEN.findall(response.content.decode())
    assert len(plains) == 2
    assert {t.client.name for t in ApiToken.objects.all()} == {"Acme", "Beta"}
    digests = set(ApiToken.objects.values_list("digest", flat=True))
    assert {hashlib.sha256(p.encode()).hexdigest() for p in plains} == digests


def test_a_revoked_token_is_refused_at_once(
    admin_client, client, make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest()
    brand = ApiClient.objects.create(name="Acme")
    brand.contests.add(contest)
    token, plain = issue_token(brand)
    cache.clear()
    with time_machine.travel(rome(2020, 2, 10, 12), tick=False):
        ok = client.get("/play/?contest=C0001", HTTP_AUTHORIZATION=f"Bearer {plain}")
        assert ok.status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                "/admin/contests/apitoken/",
                {"action": "revoke", "_selected_action": [str(token.pk)]},
            )
        refused = client.get("/play/?contest=C0001", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert refused.status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_tokens_cannot_be_added_or_deleted_from_the_token_list(admin_client):
    assert admin_client.get("/admin/contests/apitoken/add/").status_code == 403
    brand = ApiClient.objects.create(name="Acme")
    token = ApiToken.objects.create(client=brand, digest="d" * 64, prefix="cpt_abcd")
    assert admin_client.get(f"/admin/contests/apitoken/{token.pk}/delete/").status_code == 403
