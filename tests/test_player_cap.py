"""The per-player daily cap WMAX (R8): 420 Enhance Your Calm, even under concurrency."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client

from contests.models import ApiClient, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.play.credentials import issue_token
from tests.clock import ROME, rome

DAY = dt.date(2020, 2, 10)
LATE = rome(2020, 2, 10, 23, 59)


def plan(contest):
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])


def play(client, query, at=LATE, **headers):
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", **headers)


def winner(response) -> bool:
    assert response.status_code == 200, response.content
    return response.json()["data"]["winner"]


@pytest.mark.django_db
def test_r8_a_player_at_the_cap_gets_420(client, make_contest):
    contest = make_contest(perday=5, wmax=2)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    assert winner(play(client, "contest=C0001&user=alice"))
    response = play(client, "contest=C0001&user=alice")
    assert response.status_code == 420
    assert response.reason_phrase == "Enhance Your Calm"
    assert response.json() == {
        "error": {
            "status": "420",
            "title": "Enhance your calm",
            "detail": "This player has reached the daily limit of wins (2) in contest code "
            "C0001; try again tomorrow.",
        }
    }


@pytest.mark.django_db
def test_the_due_moment_stays_for_the_next_player(client, make_contest):
    contest = make_contest(perday=3, wmax=1)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    assert play(client, "contest=C0001&user=alice").status_code == 420
    assert WinningMoment.objects.filter(claimed=False).count() == 2
    assert winner(play(client, "contest=C0001&user=bob"))
    assert list(Win.objects.order_by("won_at", "id").values_list("player", flat=True)) == [
        "alice",
        "bob",
    ]


@pytest.mark.django_db
def test_a_capped_player_gets_420_even_when_nothing_is_due(client, make_contest):
    contest = make_contest(perday=1, wmax=1)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    assert play(client, "contest=C0001&user=alice").status_code == 420
    cache.clear()  # the count comes back from the database
    assert play(client, "contest=C0001&user=alice").status_code == 420
    assert not winner(play(client, "contest=C0001&user=bob"))


@pytest.mark.django_db
def test_the_cap_is_per_day(client, make_contest):
    contest = make_contest(perday=1, wmax=1)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    next_day = DAY + dt.timedelta(days=1)
    ensure_plans(contest, next_day, day_bounds(next_day, ROME)[0])
    assert winner(play(client, "contest=C0001&user=alice", at=LATE + dt.timedelta(days=1)))


@pytest.mark.django_db
def test_the_same_id_from_two_clients_is_two_players(client, make_contest):
    contest = make_contest(perday=3, wmax=1)
    plan(contest)
    tokens = []
    for name in ("Brand A", "Brand B"):
        brand = ApiClient.objects.create(name=name)
        tokens.append(issue_token(brand)[1])
    for token in tokens:
        assert winner(play(client, "contest=C0001&user=p1", HTTP_AUTHORIZATION=f"Bearer {token}"))
    response = play(client, "contest=C0001&user=p1", HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    assert response.status_code == 420
    # Anonymous players of a public contest are a third namespace.
    assert winner(play(client, "contest=C0001&user=p1"))


@pytest.mark.django_db
def test_a_capped_contest_needs_the_user(client, make_contest):
    make_contest(wmax=1)
    for query in ["contest=C0001", "contest=C0001&user="]:
        response = play(client, query)
        assert response.status_code == 400
        assert response.json()["error"] == {
            "status": "400",
            "title": "User missing",
            "detail": "Specify user parameter.",
        }


@pytest.mark.django_db
def test_without_a_cap_the_player_is_recorded_but_not_limited(client, make_contest):
    contest = make_contest(perday=3)
    plan(contest)
    assert [winner(play(client, "contest=C0001&user=alice")) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert set(Win.objects.values_list("player", flat=True)) == {"alice"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("user=" + "u" * 129, "Invalid user"),
        ("user=a%00b", "Invalid user"),
        ("user=a%0Ab", "Invalid user"),
        ("user=%1B%5B31m", "Invalid user"),
        ("user=a&user=b", "User repeated"),
    ],
)
def test_bad_player_ids_are_refused(client, make_contest, query, title):
    make_contest(wmax=1)
    response = play(client, f"contest=C0001&{query}")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == title


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["u" * 128, "Ünïcödé-игрок", "john.doe@example.com", "a b"])
def test_any_printable_id_up_to_128_characters_is_a_player(client, make_contest, user):
    contest = make_contest(perday=1, wmax=1)
    plan(contest)
    assert winner(_play_as(client, user))
    assert Win.objects.get().player == user


def _play_as(client, user):
    with time_machine.travel(LATE, tick=False):
        return client.get("/play/", {"contest": "C0001", "user": user})


@pytest.mark.django_db(transaction=True)
def test_simultaneous_plays_of_a_player_one_win_short_of_the_cap_win_once(make_contest):
    contest = make_contest(perday=40, wmax=3)
    plan(contest)
    alice = Client()
    for _ in range(2):
        assert winner(play(alice, "contest=C0001&user=alice"))

    threads = 12
    barrier = threading.Barrier(threads)
    statuses = []

    def hammer():
        try:
            barrier.wait()
            client = Client()
            for _ in range(3):
                statuses.append(client.get("/play/?contest=C0001&user=alice").status_code)
        finally:
            connection.close()

    with time_machine.travel(LATE, tick=False):
        pool = [threading.Thread(target=hammer) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=120)

    assert len(statuses) == threads * 3
    assert statuses.count(200) == 1
    assert statuses.count(420) == threads * 3 - 1
    assert Win.objects.filter(player="alice").count() == 3
    # Every other due moment is still there for other players.
    assert WinningMoment.objects.filter(claimed=False).count() == 40 - 3
