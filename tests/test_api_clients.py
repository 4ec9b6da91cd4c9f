"""API clients: bearer tokens, private contests, and the order of the answers (R6, R7)."""

import datetime as dt
import hashlib
import logging

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from contests.models import ApiClient, ApiToken, Win
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.play import credentials
from contests.play.credentials import issue_token
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

PLAYING = rome(2020, 2, 10, 12)


@pytest.fixture
def make_client(django_capture_on_commit_callbacks):
    def make(name="Brand", contests=(), active=True):
        with django_capture_on_commit_callbacks(execute=True):
            client = ApiClient.objects.create(name=name, is_active=active)
            client.contests.set(contests)
            _, plain = issue_token(client)
        return client, plain

    return make


def play(client, query="contest=C0001", token=None, at=PLAYING, header=None):
    headers = {}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", **headers)


def assert_error(response, status, title):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == str(status)
    assert body["error"]["title"] == title
    assert body["error"]["detail"]


def test_tokens_are_stored_only_as_their_digest(make_contest, make_client):
    _, plain = make_client()
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert plain.startswith(token.prefix) and len(token.prefix) < len(plain) // 4
    stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get()]
    assert not any(plain in value for value in stored)


def test_tokens_are_different_each_time(make_client):
    client, first = make_client()
    _, second = issue_token(client)
    assert first != second


def test_a_public_contest_is_played_with_or_without_a_token(client, make_contest, make_client):
    make_contest()
    _, plain = make_client(contests=[])
    assert play(client).status_code == 200
    assert play(client, token=plain).status_code == 200


def test_r6_a_private_contest_needs_a_token(client, make_contest, make_client):
    contest = make_contest()
    make_client(contests=[contest])
    response = play(client)
    assert_error(response, 401, "Unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["detail"] == (
        "Contest code C0001 is played with an API client token."
    )


def test_r7_a_client_not_enabled_for_the_contest_is_forbidden(client, make_contest, make_client):
    contest = make_contest()
    make_client("Owner", contests=[contest])
    _, other = make_client("Other", contests=[])
    response = play(client, token=other)
    assert_error(response, 403, "Forbidden")
    assert response.json()["error"]["detail"] == (
        "This API client is not enabled for contest code C0001."
    )


def test_an_enabled_client_plays_and_its_wins_record_it(client, make_contest, make_client):
    contest = make_contest(perday=1)
    brand, plain = make_client(contests=[contest])
    ensure_plans(contest, dt.date(2020, 2, 10), day_bounds(dt.date(2020, 2, 10), ROME)[0])
    response = play(client, "contest=C0001&user=p-1", token=plain, at=rome(2020, 2, 10, 23, 59))
    assert response.json()["data"]["winner"] is True
    win = Win.objects.get()
    assert (win.client, win.player) == (brand, "p-1")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cpt_not-a-real-token",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Token abc",
        "Bearer " + "x" * 500,
        "Bearer café",
    ],
)
def test_r6_invalid_credentials_are_refused_whatever_the_contest(client, make_contest, header):
    make_contest()
    for query in ["contest=C0001", "contest=C9999", "contest=bad%20code"]:
        response = play(client, query, header=header)
        assert_error(response, 401, "Unauthorized")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(
    client, make_contest, make_client, django_capture_on_commit_callbacks
):
    make_contest()
    _, plain = make_client()
    assert play(client, token=plain).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        token = ApiToken.objects.get()
        token.revoked_at = timezone.now()
        token.save()
    assert_error(play(client, token=plain), 401, "Unauthorized")


def test_an_inactive_clients_tokens_are_refused(
    client, make_contest, make_client, django_capture_on_commit_callbacks
):
    contest = make_contest()
    brand, plain = make_client(contests=[contest])
    assert play(client, token=plain).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        brand.is_active = False
        brand.save()
    assert_error(play(client, token=plain), 401, "Unauthorized")
    # Still private: deactivating its only client does not open the contest to everyone.
    assert_error(play(client), 401, "Unauthorized")


def test_contests_switch_between_public_and_private_as_clients_are_enabled(
    client, make_contest, make_client, django_capture_on_commit_callbacks
):
    contest = make_contest()
    brand, plain = make_client(contests=[])
    assert play(client).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        brand.contests.add(contest)
    assert play(client).status_code == 401
    assert play(client, token=plain).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        contest.api_clients.remove(brand)
    assert play(client).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        contest.api_clients.add(brand)
    assert play(client).status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        brand.contests.clear()
    assert play(client).status_code == 200


def test_deleting_a_contests_only_client_makes_it_public(
    client, make_contest, make_client, django_capture_on_commit_callbacks
):
    contest = make_contest()
    brand, _ = make_client(contests=[contest])
    assert play(client).status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        brand.delete()
    assert play(client).status_code == 200


def test_the_answers_come_in_the_contracts_order(client, make_contest, make_client):
    private = make_contest("C0001", wmax=1)
    make_contest("C0002", end=dt.date(2020, 2, 5))
    _, plain = make_client("Owner", contests=[private])
    _, other = make_client("Other")
    bad = "cpt_wrong"

    # 400 before everything: no contest code, even with a bad token.
    assert play(client, "", token=bad).status_code == 400
    # 401 for bad credentials before 404.
    assert play(client, "contest=C9999", token=bad).status_code == 401
    # 404 for an unknown contest, with or without a good token.
    assert play(client, "contest=C9999").status_code == 404
    assert play(client, "contest=C9999", token=plain).status_code == 404
    # 401 for a private contest without credentials, before 422 and before "user missing".
    assert play(client, "contest=C0001", at=rome(2020, 3, 10)).status_code == 401
    # 403 for a client not enabled, before 422.
    assert play(client, "contest=C0001", token=other, at=rome(2020, 3, 10)).status_code == 403
    # 422 before "user missing".
    assert play(client, "contest=C0001", token=plain, at=rome(2020, 3, 10)).status_code == 422
    assert play(client, "contest=C0002").status_code == 422
    # Then the player must be named.
    response = play(client, "contest=C0001", token=plain)
    assert response.json() == {
        "error": {"status": "400", "title": "User missing", "detail": "Specify user parameter."}
    }
    # 200 until the player has had today's wins, then 420.
    ensure_plans(private, dt.date(2020, 2, 10), day_bounds(dt.date(2020, 2, 10), ROME)[0])
    late = rome(2020, 2, 10, 23, 59)
    assert play(client, "contest=C0001&user=u1", token=plain, at=late).status_code == 200
    assert play(client, "contest=C0001&user=u1", token=plain, at=late).status_code == 420
    assert play(client, "contest=C0001&user=u2", token=plain, at=late).status_code == 200


def test_last_use_is_written_at_most_once_a_minute(client, make_contest, make_client):
    make_contest()
    _, plain = make_client()

    def last_use_after_play(at):
        play(client, token=plain, at=at)
        credentials.write_token_uses()  # the batch the background writer makes each second
        return ApiToken.objects.get().last_used_at

    assert last_use_after_play(rome(2020, 2, 10, 12, 0, 0)) == rome(2020, 2, 10, 12, 0, 0)
    assert last_use_after_play(rome(2020, 2, 10, 12, 0, 30)) == rome(2020, 2, 10, 12, 0, 0)
    assert last_use_after_play(rome(2020, 2, 10, 12, 1, 1)) == rome(2020, 2, 10, 12, 1, 1)


def test_tokens_never_reach_the_logs(client, make_contest, make_client, caplog, stdout_log):
    make_contest()
    _, plain = make_client()
    with caplog.at_level(logging.DEBUG):
        play(client, token=plain)
        play(client, token=plain + "x")
    logged = stdout_log.getvalue() + caplog.text
    assert logged.count(" contests.play ") == 2
    assert plain not in logged


def test_create_api_client_prints_the_token_alone_on_its_last_line(make_contest, capsys):
    make_contest("C0001")
    make_contest("C0002")
    call_command("create_api_client", "Brand", "--contest", "C0001", "--contest", "C0002")
    lines = capsys.readouterr().out.splitlines()
    plain = lines[-1]
    assert plain.startswith("cpt_") and " " not in plain
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert sorted(token.client.contests.values_list("code", flat=True)) == ["C0001", "C0002"]
    assert "Created API client 'Brand', enabled for: C0001, C0002." in lines[0]


def test_create_api_client_refuses_unknown_contests():
    with pytest.raises(CommandError, match="Contest\\(s\\) not found: NOPE"):
        call_command("create_api_client", "Brand", "--contest", "NOPE")
    assert not ApiClient.objects.exists()


def test_a_second_call_adds_a_token_to_the_same_client(make_contest):
    make_contest()
    call_command("create_api_client", "Brand", "--contest", "C0001")
    call_command("create_api_client", "Brand")
    assert ApiClient.objects.count() == 1
    assert ApiToken.objects.count() == 2
