"""On Redis a play is one round trip: the entries, the play count, the token's use and the
player's wins, in one script. Guesses made from what the process saw last never count a
play that the checks refuse, and a play is counted exactly once either way."""

import datetime as dt

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contests import play_counts
from contests.models import ApiClient, ApiToken, Contest
from contests.play.credentials import issue_token
from contests.play_counts import plays_on
from tests.clock import rome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_only")]

DAY = dt.date(2020, 2, 10)
NOON = rome(2020, 2, 10, 12)


class Commands:
    """Count the commands sent to Redis and the database queries made meanwhile."""

    def __init__(self, monkeypatch):
        self.sent = []
        original = redis.Redis.execute_command

        def counting(client, *args, **options):
            self.sent.append(args[0])
            return original(client, *args, **options)

        monkeypatch.setattr(redis.Redis, "execute_command", counting)

    def of(self, play):
        self.sent.clear()
        with CaptureQueriesContext(connection) as queries:
            response = play()
        return response, list(self.sent), len(queries)


def play(client, query="contest=C0001", at=NOON, **headers):
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", **headers)


def test_a_losing_play_of_a_known_contest_is_one_round_trip(client, make_contest, monkeypatch):
    make_contest(perday=1)
    commands = Commands(monkeypatch)
    play(client, at=rome(2020, 2, 10, 0, 0, 1))  # caches the contest, plans the day
    play(client, at=rome(2020, 2, 10, 0, 0, 2))  # this process now knows the contest
    response, sent, queries = commands.of(lambda: play(client, at=rome(2020, 2, 10, 0, 0, 3)))
    assert response.content == b'{"data": {"winner": false, "prize": null}}'
    assert (sent, queries) == (["EVALSHA"], 0)


def test_every_play_is_counted_exactly_once(client, make_contest):
    contest = make_contest()
    for _ in range(7):
        assert play(client).status_code == 200
    assert plays_on(contest, DAY) == 7


def test_a_play_refused_after_a_change_is_not_counted(
    client, make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest()
    play(client)
    play(client)  # now this process has seen the contest and guesses it is counted
    with django_capture_on_commit_callbacks(execute=True):
        # A cap makes these plays (which name no user) refused; a played contest's days
        # can no longer move (docs/security.md).
        Contest.objects.filter(pk=contest.pk).update(wmax=1)
        contest.refresh_from_db()
        contest.save()  # the signal drops the cached contest after commit
    assert play(client).status_code == 400
    assert plays_on(contest, DAY) == 2


def test_a_play_refused_for_a_stale_snapshot_in_the_cache_is_not_counted(client, make_contest):
    """Even a guess that matches nothing in Redis any more cannot count a play."""
    contest = make_contest()
    play(client)
    play(client)
    cache.set("play:contest:C0001", "unknown", 300)  # as if another process saw it vanish
    assert play(client).status_code == 404
    assert plays_on(contest, DAY) == 2


def test_a_lost_counter_carries_on_from_the_database(client, make_contest):
    contest = make_contest()
    for _ in range(3):
        play(client)
    assert plays_on(contest, DAY) == 3  # read, so stored in the database
    with time_machine.travel(NOON, tick=False):
        cache.delete(play_counts.counter_key(contest, NOON))
    play(client)  # counted by the script, which finds no counter: it resumes from 3
    assert plays_on(contest, DAY) == 4


def test_token_use_and_player_wins_ride_along(client, make_contest, monkeypatch):
    contest = make_contest(wmax=2)
    api_client = ApiClient.objects.create(name="Brand")
    api_client.contests.add(contest)
    _, token = issue_token(api_client)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    commands = Commands(monkeypatch)
    query = "contest=C0001&user=alice"
    play(client, query, at=rome(2020, 2, 10, 0, 0, 1), **auth)
    play(client, query, at=rome(2020, 2, 10, 0, 0, 2), **auth)
    response, sent, queries = commands.of(
        lambda: play(client, query, at=rome(2020, 2, 10, 0, 0, 3), **auth)
    )
    assert response.status_code == 200
    assert (sent, queries) == (["EVALSHA"], 0)
    assert ApiToken.objects.get().last_used_at == rome(2020, 2, 10, 0, 0, 1)
    assert plays_on(contest, DAY) == 3
