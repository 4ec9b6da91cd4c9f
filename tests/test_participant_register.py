"""The participant register: plays that name a player, per contest, client, player and local
day, kept in each process's memory and added to the database in batches."""

import datetime as dt
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import DatabaseError
from django.db.models import Sum

from contests import participants
from contests.models import ApiClient, Participant
from contests.play.credentials import issue_token
from tests.clock import rome
from tests.plans import contest_with_plan
from tests.servers import gunicorn_server, play

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def register() -> dict[tuple, int]:
    return {(row.client_id, row.player, row.day): row.plays for row in Participant.objects.all()}


def test_plays_naming_a_player_are_registered_per_local_day(client, make_contest):
    make_contest()
    brand = ApiClient.objects.create(name="Brand")
    _, token = issue_token(brand)
    # 23:30 in Rome on the 10th is the 10th there; 00:30 on the 11th is the 11th.
    for moment in [rome(2020, 2, 10, 9), rome(2020, 2, 10, 23, 30), rome(2020, 2, 11, 0, 30)]:
        with time_machine.travel(moment, tick=False):
            assert client.get("/play/?contest=C0001&user=anna").status_code == 200
            assert client.get("/play/?contest=C0001").status_code == 200  # nobody named
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            assert client.get("/play/?contest=C0001&user=anna", **headers).status_code == 200
    assert not Participant.objects.exists()  # nothing written per play
    participants.write_register()
    assert register() == {
        (None, "anna", DAY): 2,
        (None, "anna", DAY + dt.timedelta(days=1)): 1,
        (brand.pk, "anna", DAY): 2,
        (brand.pk, "anna", DAY + dt.timedelta(days=1)): 1,
    }


def test_refused_plays_are_not_registered(client, make_contest):
    make_contest()
    with time_machine.travel(rome(2020, 3, 5, 10), tick=False):
        assert client.get("/play/?contest=C0001&user=anna").status_code == 422
    participants.write_register()
    assert not Participant.objects.exists()


def test_batches_add_to_what_other_processes_stored(make_contest):
    contest = make_contest()
    Participant.objects.create(contest=contest, player="anna", day=DAY, plays=40)
    for _ in range(2):
        participants.register_play(contest.pk, None, "anna", DAY)
    participants.write_register()
    participants.register_play(contest.pk, None, "anna", DAY)
    participants.write_register()
    participants.write_register()  # an empty batch adds nothing
    assert register() == {(None, "anna", DAY): 43}


def test_a_failed_batch_is_kept_for_the_next_one(make_contest, monkeypatch):
    contest = make_contest()
    for _ in range(3):
        participants.register_play(contest.pk, None, "anna", DAY)

    def unreachable(batch):
        raise DatabaseError("the database is away")

    with monkeypatch.context() as patched:
        patched.setattr(participants, "_add", unreachable)
        with pytest.raises(DatabaseError):
            participants.write_register()
    participants.register_play(contest.pk, None, "anna", DAY)
    participants.write_register()
    assert register() == {(None, "anna", DAY): 4}


# Separate gunicorn processes, each with its own batches, on one database (as
# tests/test_play_processes.py does for the play counts).


def stored_plays() -> int:
    return Participant.objects.aggregate(total=Sum("plays"))["total"] or 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_only")
def test_concurrent_plays_from_two_processes_are_all_registered(make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    players = [f"p{n}" for n in range(8)]
    with (
        gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="0.2") as first,
        gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="3600") as second,
    ):
        jobs = [
            (server, player, n)
            for n in range(10)
            for player in players
            for server in (first, second)
        ]
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda job: play(job[0].url, f"contest=C0001&user={job[1]}", f"r{job[2]}"), jobs
                )
            )
        assert all(answer.status == 200 for answer in answers)
        second.stop()  # graceful: its hour-long batch is written at exit
        first.stop()
    rows = Participant.objects.filter(contest__code="C0001")
    assert {row.player: row.plays for row in rows} == dict.fromkeys(players, 20)
    assert rows.count() == len(players)  # one row per player and day: the batches add up


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_only")
def test_a_graceful_stop_registers_every_play(make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    with gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="3600") as server:
        for n in range(40):
            assert play(server.url, f"contest=C0001&user=u{n % 5}", f"p{n}").status == 200
        assert stored_plays() == 0  # an hour between batches: all still in memory
        server.stop()  # SIGTERM: gunicorn's graceful stop
    assert stored_plays() == 40


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_only")
def test_a_sigkill_loses_at_most_the_last_interval(make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    with gunicorn_server(workers=1, BUFFER_FLUSH_INTERVAL="0.5") as server:
        for n in range(30):
            play(server.url, f"contest=C0001&user=u{n % 3}", f"early-{n}")
        time.sleep(0.5 + 1.5)  # an interval, and time for its batch to be written
        for n in range(20):
            play(server.url, f"contest=C0001&user=u{n % 3}", f"late-{n}")
        [worker] = server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.5)
    assert 30 <= stored_plays() <= 50
