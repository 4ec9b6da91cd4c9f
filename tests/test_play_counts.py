"""Plays are counted per contest, local day and hour: in this process's memory first, then
added to the database in batches."""

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError

from contests import play_counts
from contests.models import Contest, PlayCount
from contests.play_counts import plays_on, plays_per_hour, record_play, write_counts
from tests.clock import rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def stored(contest):
    return dict(PlayCount.objects.filter(contest=contest, day=DAY).values_list("hour", "plays"))


def test_plays_are_counted_in_their_local_hour(client, make_contest):
    contest = make_contest()
    for moment in [rome(2020, 2, 10, 10, 15), rome(2020, 2, 10, 10, 45), rome(2020, 2, 10, 11, 5)]:
        with time_machine.travel(moment, tick=False):
            assert client.get("/play/?contest=C0001").status_code == 200
    counts = plays_per_hour(contest, DAY)
    assert len(counts) == 24
    assert (counts[10], counts[11], sum(counts)) == (2, 1, 3)


def test_refused_plays_are_not_counted(client, make_contest):
    contest = make_contest()
    with time_machine.travel(rome(2020, 3, 5, 10), tick=False):
        assert client.get("/play/?contest=C0001").status_code == 422
        assert client.get("/play/?contest=C0404").status_code == 404
    assert plays_on(contest, dt.date(2020, 3, 5)) == 0
    assert not PlayCount.objects.exists()


def test_nothing_is_written_until_a_batch(make_contest):
    contest = make_contest()
    for _ in range(5):
        record_play(contest, rome(2020, 2, 10, 9, 30))
    assert stored(contest) == {}
    write_counts()
    assert stored(contest) == {9: 5}


def test_batches_add_to_what_other_processes_stored(make_contest):
    contest = make_contest()
    PlayCount.objects.create(contest=contest, day=DAY, hour=9, plays=40)  # another process
    for _ in range(2):
        record_play(contest, rome(2020, 2, 10, 9, 30))
    write_counts()
    record_play(contest, rome(2020, 2, 10, 9, 45))
    write_counts()
    write_counts()  # an empty batch adds nothing
    assert stored(contest) == {9: 43}


def test_a_failed_batch_is_kept_for_the_next_one(make_contest, monkeypatch):
    contest = make_contest()
    for _ in range(3):
        record_play(contest, rome(2020, 2, 10, 9, 30))

    def unreachable(batch):
        raise DatabaseError("the database is away")

    with monkeypatch.context() as patched:
        patched.setattr(play_counts, "_add", unreachable)
        with pytest.raises(DatabaseError):
            write_counts()
    record_play(contest, rome(2020, 2, 10, 9, 31))
    write_counts()
    assert stored(contest) == {9: 4}


# Committed batches: PostgreSQL checks foreign keys when a transaction commits.
@pytest.mark.django_db(transaction=True)
def test_plays_of_a_contest_deleted_meanwhile_do_not_block_the_others(make_contest):
    kept, gone = make_contest("C0001"), make_contest("C0002")
    record_play(kept, rome(2020, 2, 10, 9))
    record_play(gone, rome(2020, 2, 10, 9))
    Contest.objects.filter(pk=gone.pk).delete()
    write_counts()
    assert stored(kept) == {9: 1}
    assert not PlayCount.objects.filter(contest_id=gone.pk).exists()


def test_a_25_hour_day_has_25_counted_hours(make_contest):
    contest = make_contest(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    # 02:30 comes twice on Oct 25: first in summer time (hour 2), then in winter time (hour 3).
    record_play(contest, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC))
    record_play(contest, dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))
    counts = plays_per_hour(contest, dt.date(2026, 10, 25))
    assert len(counts) == 25
    assert counts[2:4] == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_processes_writing_the_same_slots_at_once_never_deadlock(make_contest):
    # Each thread is a process's writer, with its own connection, adding to the same 300
    # slots counted in opposite orders: batches lock rows in key order, so none waits for
    # another in a cycle (PostgreSQL would abort one with "deadlock detected").
    import threading

    from django.db import connection

    contests = [make_contest(f"C{number:04d}") for number in range(30)]
    slots = [(c.pk, dt.date(2020, 2, 10), hour) for c in contests for hour in range(10)]
    errors = []
    barrier = threading.Barrier(4)

    def writer(index):
        try:
            ordered = slots if index % 2 else slots[::-1]
            for _ in range(5):
                barrier.wait(timeout=30)
                play_counts._add(dict.fromkeys(ordered, 1))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert set(PlayCount.objects.values_list("plays", flat=True)) == {20}
    assert PlayCount.objects.count() == len(slots)
