"""Faults under load, through a real gunicorn: nothing is awarded twice, and nothing is lost.

Each test plays through gunicorn on the test database from several threads, injects one
fault in the middle (Redis killed, database connections terminated, a worker killed) and
then checks the invariants of tests/invariants.py over every answer and every row.
"""

import concurrent.futures
import os
import signal
import threading
import time

import pytest
from django.db import connection

from contests.models import Contest, WinningMoment
from tests.invariants import Answer, check_invariants
from tests.plans import contest_with_plan
from tests.servers import gunicorn_server, play, redis_server

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def plays(base: str, tag: str, queries: list[str]) -> list[Answer]:
    """Play each query once, THREADS at a time; each play has its own request id."""
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        return list(
            pool.map(lambda item: play(base, item[1], f"{tag}-{item[0]}"), enumerate(queries))
        )


def sweep(base: str, query: str, limit: int = 400) -> list[Answer]:
    """Play one at a time until no moment is left unclaimed (or `limit` plays)."""
    answers = []
    while WinningMoment.objects.filter(claimed=False, at__lte=_now()).exists():
        assert len(answers) < limit, "the sweep did not claim every due moment"
        answers.append(play(base, query, f"sweep-{len(answers)}"))
    return answers


def _now():
    from django.utils import timezone

    return timezone.now()


def assert_envelope(answer: Answer) -> None:
    assert answer.content_type == "application/json", answer
    body = answer.json
    if "error" in body:
        assert body["error"]["status"] == str(answer.status)
    else:
        assert set(body) == {"data"}


def test_plays_go_on_from_the_database_while_redis_is_away(make_contest):
    """Why on both backends: gunicorn plays the test database either way, and the claims
    that must stay exact without a cache are SKIP LOCKED on PostgreSQL, IMMEDIATE on SQLite."""
    contest_with_plan(make_contest, "C0001", due=50)
    contest_with_plan(make_contest, "C0002", due=0, later=3)  # only moments hours away
    # A capped contest with moments due: its plays ask Redis for the version of its wins.
    Contest.objects.filter(code="C0001").update(wmax=100)
    queries = ["contest=C0001&user=ann", "contest=C0002"]
    with redis_server() as redis, gunicorn_server(workers=2, REDIS_URL=redis.url) as server:
        before = plays(server.url, "before", queries * 10)
        assert redis.client().keys("*play:wins:*"), "the cache is not used to begin with"
        redis.kill()
        away = plays(server.url, "away", queries * 30)
        redis.start()
        back = plays(server.url, "back", queries * 10)
        cached_again = redis.client().keys("*play:*")

    outcome = check_invariants(before + away + back)
    assert outcome.statuses == {200: 100}
    for answer in before + away + back:
        assert_envelope(answer)
    # 10 wins before Redis went away, 30 from the database alone, 10 once it is back.
    assert [a.won for a in before].count(True) == 10
    assert [a.won for a in away].count(True) == 30
    assert [a.won for a in back].count(True) == 10
    assert outcome.wins == outcome.winning_answers == 50
    assert outcome.unclaimed == 3  # C0002's, hours away: still there to be won
    assert any(b"play:wins:" in key for key in cached_again), cached_again


@pytest.mark.usefixtures("postgres_only")
def test_killed_database_connections_cost_a_503_at_most(make_contest):
    contest_with_plan(make_contest, "C0001", due=150)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [test_pid] = cursor.fetchone()
    terminated = []
    stop = threading.Event()

    def terminate_app_sessions():
        # Every session on the test database but the test's own and this thread's.
        try:
            while not stop.is_set():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid NOT IN (%s, pg_backend_pid())",
                        [test_pid],
                    )
                    terminated.append(cursor.fetchone()[0])
                time.sleep(0.02)
        finally:
            connection.close()

    with gunicorn_server(workers=2) as server:
        killer = threading.Thread(target=terminate_app_sessions)
        killer.start()
        try:
            during = plays(server.url, "during", ["contest=C0001"] * 200)
        finally:
            stop.set()
            killer.join()
        after = plays(server.url, "after", ["contest=C0001"] * 20)
        swept = sweep(server.url, "contest=C0001")

    assert sum(terminated) > 0, "no session was terminated: the fault was not injected"
    assert set(a.status for a in during) <= {200, 503}
    for answer in during + after + swept:
        assert_envelope(answer)
    assert {a.status for a in after + swept} == {200}, "plays after the fault still fail"
    # A 503 may follow a win only when the connection died between the COMMIT and its
    # acknowledgement: the prize is then spent and recorded, never given twice. That needs
    # a termination in a window of microseconds; a systematic cause would show many.
    outcome = check_invariants(during + after + swept, wins_may_follow=frozenset({503}))
    assert len(outcome.wins_without_a_winning_answer) <= 1
    assert outcome.wins == outcome.planned == 150 and outcome.unclaimed == 0
    print(
        f"\n{sum(terminated)} sessions terminated; answers: {dict(outcome.statuses)}; "
        f"wins {outcome.wins}, after a 503: {len(outcome.wins_without_a_winning_answer)}"
    )


def test_a_killed_worker_loses_no_moment_and_awards_none_twice(make_contest):
    contest_with_plan(make_contest, "C0001", due=120)
    killed = []
    with gunicorn_server(workers=3) as server:
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(play, server.url, "contest=C0001", f"burst-{index}")
                for index in range(100)  # fewer than the moments: the sweep claims the rest
            ]
            for done, _ in enumerate(concurrent.futures.as_completed(futures), start=1):
                if done in (25, 70):  # a worker is busy with a winning play right now
                    pid = server.worker_pids()[0]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            burst = [future.result() for future in futures]
        swept = sweep(server.url, "contest=C0001")

    assert len(killed) == 2
    statuses = {a.status for a in burst}
    assert statuses <= {200, None}, statuses
    assert {a.status for a in swept} <= {200}
    outcome = check_invariants(burst + swept)
    assert outcome.wins == outcome.planned == 120 and outcome.unclaimed == 0
    print(
        f"\nworkers killed: {len(killed)}; answers: {dict(outcome.statuses)}; "
        f"swept {len(swept)}; wins {outcome.wins} of {outcome.planned}; "
        f"won without an answer: {len(outcome.wins_without_a_winning_answer)}"
    )
