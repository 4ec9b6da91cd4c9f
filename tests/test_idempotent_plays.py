"""Idempotency-Key: a retry gets the first answer again, is not counted and never wins again."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from contests.models import ApiClient, IdempotentAnswer, Win
from contests.play.credentials import issue_token
from contests.play_counts import plays_on
from tests.clock import rome
from tests.test_concurrency import run_together
from tests.test_play import plan_from_midnight

DAY = dt.date(2020, 2, 10)


def play(client, query="contest=C0001", at=None, key="retry-1", **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    with time_machine.travel(at or rome(2020, 2, 10, 12), tick=False):
        return client.get(f"/play/?{query}", **headers)


@pytest.mark.django_db
def test_a_retry_after_a_lost_answer_learns_its_win(client, make_contest):
    contest = make_contest(perday=3)
    moments = plan_from_midnight(contest, DAY)
    won = play(client, at=moments[0].at, key="order-7:play.1")
    assert won.json()["data"]["winner"] is True
    # The answer never reached the player; the app retries with the same key, later.
    retried = play(client, at=moments[2].at, key="order-7:play.1")
    assert (retried.status_code, retried.content) == (200, won.content)
    assert Win.objects.count() == 1  # not a second win, though moments are due
    assert plays_on(contest, DAY) == 1  # and not counted again
    assert play(client, at=moments[2].at, key="another").json()["data"]["winner"] is True


@pytest.mark.django_db
def test_a_losing_answer_is_replayed_and_cannot_win_later(client, make_contest):
    contest = make_contest(perday=1)
    [moment] = plan_from_midnight(contest, DAY)
    lost = play(client, at=moment.at - dt.timedelta(seconds=1))
    assert lost.json() == {"data": {"winner": False, "prize": None}}
    assert play(client, at=moment.at).content == lost.content
    assert not Win.objects.exists()


@pytest.mark.django_db
def test_a_key_sent_with_another_contest_or_user_is_refused(client, make_contest):
    make_contest("C0001")
    make_contest("C0002")
    assert play(client, "contest=C0001&user=ann").status_code == 200
    for query in ("contest=C0002&user=ann", "contest=C0001&user=bob", "contest=C0001"):
        answer = play(client, query)
        assert answer.status_code == 422
        assert answer.json() == {
            "error": {
                "status": "422",
                "title": "Idempotency key reused",
                "detail": "This Idempotency-Key was sent with another contest or user; "
                "use a new key.",
            }
        }


@pytest.mark.django_db
def test_keys_are_per_caller_and_last_24_hours(client, make_contest):
    make_contest()
    _, token = issue_token(ApiClient.objects.create(name="Brand"))
    assert play(client, "contest=C0001&user=ann", at=rome(2020, 2, 10, 9)).status_code == 200
    # Another caller's key of the same name is its own.
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert play(client, "contest=C0001&user=bob", **bearer).status_code == 200
    # A day later the key is free again.
    assert play(client, "contest=C0001&user=bob", at=rome(2020, 2, 11, 9, 1)).status_code == 200
    assert set(IdempotentAnswer.objects.values_list("caller", "player")) == {
        ("anonymous", "bob"),
        (f"client:{ApiClient.objects.get().pk}", "bob"),
    }


@pytest.mark.django_db
def test_a_capped_answer_is_replayed_with_its_reason(client, make_contest):
    contest = make_contest(perday=5, wmax=1)
    moments = plan_from_midnight(contest, DAY)
    assert play(client, "contest=C0001&user=ann", at=moments[1].at, key="a").status_code == 200
    capped = play(client, "contest=C0001&user=ann", at=moments[2].at, key="b")
    again = play(client, "contest=C0001&user=ann", at=moments[2].at, key="b")
    assert (again.status_code, again.reason_phrase) == (420, "Enhance Your Calm")
    assert again.content == capped.content


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "ünï", "a/b"])
def test_a_malformed_key_is_refused(client, make_contest, key):
    make_contest()
    answer = play(client, key=key)
    assert answer.status_code == 400
    assert answer.json()["error"]["title"] == "Invalid idempotency key"


@pytest.mark.django_db(transaction=True)
def test_racing_retries_of_one_key_win_once(make_contest):
    contest = make_contest(perday=20)
    moments = plan_from_midnight(contest, DAY)

    def retry(index):
        return play(Client(), at=moments[-1].at, key="same-key")

    answers = run_together(retry, threads=8)
    assert {(a.status_code, a.content) for a in answers} == {(200, answers[0].content)}
    assert answers[0].json()["data"]["winner"] is True
    assert Win.objects.count() == 1
