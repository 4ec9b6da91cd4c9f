"""Separate gunicorn processes, each with its own play memory and batches, on one database.

Changes made elsewhere reach both within PLAY_MEMORY_MAX_AGE; a memory that is stale can
never award a moment twice; a graceful stop writes every count, a SIGKILL loses at most the
last interval's.
"""

import datetime as dt
import os
import signal
import time

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from contests.models import ApiClient, PlayCount, Win, WinningMoment
from contests.play.credentials import issue_token
from tests.plans import contest_with_plan
from tests.servers import gunicorn_server, play

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_only")]

MAX_AGE = 1.0
# The bound, plus room for a loaded machine to schedule the processes and answer.
WITHIN = MAX_AGE + 1.5
SETTINGS = {"PLAY_MEMORY_MAX_AGE": str(MAX_AGE), "BUFFER_FLUSH_INTERVAL": "1"}


def status(server, query, headers=None) -> int:
    return play(server.url, query, "check", headers).status


def seconds_until(servers, query, wanted: int, headers=None) -> float:
    """How long until every server answers `wanted` to the query (fails after 10 s)."""
    started = time.monotonic()
    waiting = list(servers)
    while waiting and time.monotonic() - started < 10:
        waiting = [s for s in waiting if status(s, query, headers) != wanted]
        time.sleep(0.05)
    assert not waiting, f"{query}: still not {wanted} after 10 s"
    return time.monotonic() - started


@pytest.fixture
def two_processes():
    with (
        gunicorn_server(workers=1, **SETTINGS) as first,
        gunicorn_server(workers=1, **SETTINGS) as second,
    ):
        yield first, second


def test_changes_reach_both_processes_within_the_bound(make_contest, two_processes):
    contest_with_plan(make_contest, "C0001", due=0, later=3)
    private = contest_with_plan(make_contest, "C0002", due=0, later=3)
    brand = ApiClient.objects.create(name="Brand")
    brand.contests.add(private)
    token, plain = issue_token(brand)
    bearer = {"Authorization": f"Bearer {plain}"}
    for server in two_processes:  # both remember the contests and the token
        assert status(server, "contest=C0001") == 200
        assert status(server, "contest=C0002", bearer) == 200

    token.revoked_at = timezone.now()
    token.save()  # as the admin's "revoke" action does
    assert seconds_until(two_processes, "contest=C0002", 401, bearer) <= WITHIN

    call_command("create_contest", "C0001", "--wmax", "1")  # edited by a command
    assert seconds_until(two_processes, "contest=C0001", 400) <= WITHIN  # "User missing"

    call_command("create_api_client", "Third", "--contest", "C0001")  # C0001 becomes private
    assert seconds_until(two_processes, "contest=C0001&user=u", 401) <= WITHIN

    _, second = issue_token(brand)
    second_bearer = {"Authorization": f"Bearer {second}"}
    assert seconds_until(two_processes, "contest=C0002", 200, second_bearer) <= WITHIN
    brand.delete()  # the client removed, with its tokens: C0002 is public again
    assert seconds_until(two_processes, "contest=C0002", 401, second_bearer) <= WITHIN
    assert seconds_until(two_processes, "contest=C0002", 200) <= WITHIN


def test_a_stale_memory_never_awards_a_moment_twice(make_contest, two_processes):
    first, second = two_processes
    contest_with_plan(make_contest, "C0001", due=5, later=2)
    # The second process learns the next moment while all five are due, then sleeps.
    assert play(second.url, "contest=C0001", "early").won
    answers = [play(first.url, "contest=C0001", f"first-{n}") for n in range(10)]
    assert sum(answer.won for answer in answers) == 4
    # Its memory still says a moment is due: each play asks the database, which says no.
    late = [play(second.url, "contest=C0001", f"second-{n}") for n in range(10)]
    assert not any(answer.won for answer in late)
    assert Win.objects.count() == 5
    assert len(set(Win.objects.values_list("moment_id", flat=True))) == 5


def test_a_win_in_one_process_caps_the_player_in_the_other_at_once(make_contest, two_processes):
    first, second = two_processes
    contest = contest_with_plan(make_contest, "C0001", due=0, later=2, wmax=1)
    soon = timezone.now() + dt.timedelta(seconds=2)
    moments = WinningMoment.objects.filter(contest=contest)
    moments.filter(pk=moments.earliest("at").pk).update(at=soon)  # before anyone plays
    # The second process reads the contest's wins (none) and learns the next moment.
    assert status(second, "contest=C0001&user=ann") == 200
    time.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.2)
    assert play(first.url, "contest=C0001&user=ann", "ann-wins").won
    # R8 from the other process at its next play, though its memory of the wins was read
    # before the win and nothing is due any more: the cache's version of the wins moved.
    assert status(second, "contest=C0001&user=ann") == 420
    assert status(second, "contest=C0001&user=bob") == 200


def stored_plays() -> int:
    return PlayCount.objects.aggregate(total=Sum("plays"))["total"] or 0


def test_a_graceful_stop_writes_every_count(make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    with gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="3600") as server:
        for n in range(40):
            assert play(server.url, "contest=C0001", f"p{n}").status == 200
        assert stored_plays() == 0  # an hour between batches: all still in memory
        server.stop()  # SIGTERM: gunicorn's graceful stop
    assert stored_plays() == 40


def test_a_sigkill_loses_at_most_the_last_interval(make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    with gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="0.5") as server:
        for n in range(30):
            play(server.url, "contest=C0001", f"early-{n}")
        time.sleep(0.5 + 1.5)  # an interval, and time for its batch to be written
        for n in range(20):
            play(server.url, "contest=C0001", f"late-{n}")
        [worker] = server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.5)
    assert 30 <= stored_plays() <= 50
