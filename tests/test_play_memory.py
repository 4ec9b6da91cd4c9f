"""A losing play does no network I/O: what it needs is in this process's memory, which
forgets within PLAY_MEMORY_MAX_AGE whatever changed, and never counts a refused play."""

import datetime as dt
import re

import pytest
import redis
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contests.models import ApiClient, ApiToken, Contest, PlayStateVersion, Win, WinningMoment
from contests.play import credentials
from contests.play.credentials import issue_token
from contests.play.memory import memory
from contests.play_counts import plays_on
from tests.clock import rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)
NOON = rome(2020, 2, 10, 12)


class Traffic:
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
        return response, list(self.sent), [q["sql"] for q in queries]


def play(client, query="contest=C0001", at=NOON, **headers):
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", **headers)


def warm_up(client, query="contest=C0001", **headers):
    """Two plays: the first makes the day's plans, the second learns the next moment."""
    play(client, query, at=rome(2020, 2, 10, 0, 0, 1), **headers)
    play(client, query, at=rome(2020, 2, 10, 0, 0, 2), **headers)


def test_a_losing_play_of_a_known_contest_does_no_io(client, make_contest, monkeypatch):
    make_contest(perday=1)
    warm_up(client)
    traffic = Traffic(monkeypatch)
    response, sent, queries = traffic.of(lambda: play(client, at=rome(2020, 2, 10, 0, 0, 3)))
    assert response.content == b'{"data": {"winner": false, "prize": null}}'
    assert (sent, queries) == ([], [])


def test_with_a_known_token_a_losing_play_does_no_io(client, make_contest, monkeypatch):
    contest = make_contest(perday=1)
    api_client = ApiClient.objects.create(name="Brand")
    api_client.contests.add(contest)
    _, token = issue_token(api_client)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    warm_up(client, **auth)
    traffic = Traffic(monkeypatch)
    response, sent, queries = traffic.of(
        lambda: play(client, at=rome(2020, 2, 10, 0, 0, 3), **auth)
    )
    assert response.status_code == 200
    assert (sent, queries) == ([], [])
    # The token's use is written with the next batch, not during the play.
    credentials.write_token_uses()
    assert ApiToken.objects.get().last_used_at == rome(2020, 2, 10, 0, 0, 3)


def test_unknown_codes_are_remembered_too(client, make_contest, monkeypatch):
    make_contest()
    play(client, "contest=C0404")
    response, sent, queries = Traffic(monkeypatch).of(lambda: play(client, "contest=C0404"))
    assert response.status_code == 404
    assert (sent, queries) == ([], [])


def test_a_capped_contest_does_no_io_while_its_next_moment_is_not_due(
    client, make_contest, monkeypatch
):
    # No claim anywhere can win before that moment, so the wins read after it was learned
    # are every win there is: a new player's first play asks neither Redis nor the database.
    make_contest(wmax=2)
    warm_up(client, "contest=C0001&user=alice")  # the contest's wins are read once
    for player in ("alice", "bob", "carol"):
        query = f"contest=C0001&user={player}"
        response, sent, queries = Traffic(monkeypatch).of(
            lambda query=query: play(client, query, at=rome(2020, 2, 10, 0, 0, 3))
        )
        assert (response.status_code, sent, queries) == (200, [], [])


def test_once_a_moment_may_be_due_the_cache_vouches_for_the_wins_read(
    client, make_contest, monkeypatch
):
    make_contest(perday=5, wmax=2)
    warm_up(client, "contest=C0001&user=alice")
    first = WinningMoment.objects.filter(claimed=False).earliest("at")
    # Another process claimed it (its player is not bob): this one still remembers it as
    # the next moment, so bob's play asks the database for a claim, which finds none.
    WinningMoment.objects.filter(pk=first.pk).update(claimed=True)
    after = first.at + dt.timedelta(seconds=1)
    response, sent, queries = Traffic(monkeypatch).of(
        lambda: play(client, "contest=C0001&user=bob", at=after)
    )
    assert response.status_code == 200
    # The cap needed one round trip for the version of the wins, and no new read of them.
    assert not [sql for sql in queries if "GROUP BY" in sql]
    if "redis" in connection.settings_dict["ENGINE"] or sent:
        assert sent == ["GET"]


def test_a_win_elsewhere_is_read_at_the_next_play(client, make_contest, settings):
    from django.core.cache import cache

    settings.PLAY_MEMORY_MAX_AGE = 60  # the memory itself stays as it is
    contest = make_contest(perday=5, wmax=1)
    warm_up(client, "contest=C0001&user=dan")
    moment = WinningMoment.objects.filter(contest=contest, claimed=False).earliest("at")
    due = moment.at + dt.timedelta(seconds=1)
    # Another process's win of the moment once due: its row, then a new version of the
    # contest's wins. This process still remembers the moment as the next one.
    WinningMoment.objects.filter(pk=moment.pk).update(claimed=True)
    Win.objects.create(moment=moment, contest=contest, prize=moment.plan.prize, day=DAY,
                       won_at=due, request_id="elsewhere", player="dan")  # fmt: skip
    cache.set(f"play:wins:{contest.pk}", "moved")
    assert play(client, "contest=C0001&user=dan", at=due).status_code == 420


def test_a_capped_player_is_refused_from_memory(client, make_contest, monkeypatch):
    contest = make_contest(perday=5, wmax=1)
    warm_up(client, "contest=C0001&user=bob")  # plans the day from midnight
    won = play(client, "contest=C0001&user=bob", at=rome(2020, 2, 10, 23))
    assert won.json()["data"]["winner"] is True
    assert play(client, "contest=C0001&user=bob", at=rome(2020, 2, 10, 23)).status_code == 420
    response, sent, queries = Traffic(monkeypatch).of(
        lambda: play(client, "contest=C0001&user=bob", at=rome(2020, 2, 10, 23))
    )
    assert (response.status_code, sent, queries) == (420, [], [])
    assert contest.wins.count() == 1


def test_the_memory_asks_for_changes_at_most_twice_per_max_age(client, make_contest, settings):
    settings.PLAY_MEMORY_MAX_AGE = 60  # however slow this machine is, the next check is later
    make_contest(perday=1)
    warm_up(client)
    memory._check_after = 0  # as if half the max age had passed
    with CaptureQueriesContext(connection) as queries:
        play(client, at=rome(2020, 2, 10, 0, 0, 3))
        play(client, at=rome(2020, 2, 10, 0, 0, 4))
    [query] = [q["sql"] for q in queries]
    assert PlayStateVersion._meta.db_table in query


def test_a_change_made_elsewhere_is_seen_at_the_next_check(client, make_contest):
    contest = make_contest()
    warm_up(client)
    # Another process caps the contest: its transaction bumps the version, not our memory.
    Contest.objects.filter(pk=contest.pk).update(wmax=1)
    PlayStateVersion.bump()
    assert play(client).status_code == 200  # not checked yet: memory may be this old
    memory._check_after = 0
    assert play(client).status_code == 400  # "User missing"


def test_every_play_is_counted_exactly_once(client, make_contest):
    contest = make_contest()
    for _ in range(7):
        assert play(client).status_code == 200
    assert plays_on(contest, DAY) == 7
    assert plays_on(contest, DAY) == 7  # reading writes the batch once, not twice


def test_a_play_refused_after_a_change_is_not_counted(
    client, make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest()
    play(client)
    play(client)
    with django_capture_on_commit_callbacks(execute=True):
        contest.wmax = 1
        contest.save()  # this process forgets at once
    assert play(client).status_code == 400  # "User missing": refused, not counted
    assert plays_on(contest, DAY) == 2


def test_the_cache_holds_json_never_pickle(client, make_contest, redis_only):
    from django.core.cache import cache
    from django_redis import get_redis_connection

    make_contest(wmax=3)
    play(client, "contest=C0001&user=alice")
    [key] = get_redis_connection("default").keys(cache.make_key("play:wins:*"))
    raw = get_redis_connection("default").get(key)
    assert re.fullmatch(rb'"[0-9a-f]{16}"', raw)  # the version of the contest's wins, as JSON
    assert not raw.startswith(b"\x80")  # a pickle begins with its protocol byte


def test_after_a_change_every_running_contest_is_learned_in_a_few_queries(
    client, make_contest, settings
):
    settings.PLAY_MEMORY_MAX_AGE = 60
    for code in ("C0001", "C0002", "C0003"):
        make_contest(code, perday=1)
    warm_up(client, "contest=C0001")  # plans C0001 only
    PlayStateVersion.bump()  # a change elsewhere
    memory._check_after = 0
    with CaptureQueriesContext(connection) as learning:
        play(client, "contest=C0001", at=rome(2020, 2, 10, 0, 0, 3))
    with CaptureQueriesContext(connection) as after:
        play(client, "contest=C0002", at=rome(2020, 2, 10, 0, 0, 4))
    assert len(learning) <= 5  # the version, contests, clients, plans, next moments
    # C0002 was learned too, but its day has no plan yet: its first play makes it.
    assert memory.next_moment(memory.contest("C0003").id) is None
    assert any("contests_dayplan" in q["sql"] and "INSERT" in q["sql"] for q in after)
    with CaptureQueriesContext(connection) as known:
        play(client, "contest=C0001", at=rome(2020, 2, 10, 0, 0, 5))
        play(client, "contest=C0002", at=rome(2020, 2, 10, 0, 0, 6))
    assert len(known) == 0
