"""The threads of one worker share its play memory (contests/play/memory.py): a play that
comes while a sibling thread is reading PlayStateVersion waits for that read, so it cannot
answer past the bound from the memory the read is about to discard; and a read that hangs
(a database that stopped answering) holds up only the thread that asked.

tests/test_replicas.py found the first: under load, eight plays sent at once to a gunicorn
of two threads a worker, a second after a change, sometimes got the old answer.
"""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from contests.models import Contest, PlayStateVersion
from contests.play import memory as play_memory
from contests.play.memory import memory
from tests.plans import contest_with_plan

pytestmark = pytest.mark.django_db(transaction=True)

PLAY = "/play/?contest=C0001"
SIBLING = "sibling"


class HeldRead:
    """PlayStateVersion.current, held in the sibling thread until released (a slow read)."""

    def __init__(self, monkeypatch):
        self.asking = threading.Event()
        self.released = threading.Event()
        read = PlayStateVersion.current

        def current():
            if threading.current_thread().name == SIBLING:
                self.asking.set()
                self.released.wait(30)
            return read()

        monkeypatch.setattr(PlayStateVersion, "current", current)

    def sibling(self) -> threading.Thread:
        """Start the sibling's version check; return once it is reading."""

        def check():
            try:
                memory._check_version()
            finally:
                connection.close()

        thread = threading.Thread(target=check, name=SIBLING, daemon=True)
        thread.start()
        assert self.asking.wait(10)
        return thread


@pytest.fixture
def capped_elsewhere(make_contest):
    """A contest this process remembers, which another process has just capped (WMAX 1:
    a play without a user is then 400); this process's next version check is due."""
    contest_with_plan(make_contest, "C0001", due=0, later=2)
    assert Client().get(PLAY).status_code == 200
    Contest.objects.filter(code="C0001").update(wmax=1)
    PlayStateVersion.bump()  # in another process, the signal would; not our memory
    memory._check_after = 0.0


def play_in_a_thread(answers: list) -> threading.Thread:
    def run():
        try:
            answers.append(Client().get(PLAY).status_code)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_play_during_a_siblings_version_read_waits_for_it(capped_elsewhere, monkeypatch):
    held = HeldRead(monkeypatch)
    # Long enough for any machine: the play must get the read's answer, not time out.
    monkeypatch.setattr(play_memory, "SIBLING_CHECK_WAIT", 30)
    sibling = held.sibling()
    answers: list[int] = []
    player = play_in_a_thread(answers)
    time.sleep(0.2)  # let the play reach the memory while the read is still held
    held.released.set()
    sibling.join(10)
    player.join(10)
    assert answers == [400]  # "User missing": the new rules, not the memory's


def test_a_read_that_hangs_holds_up_only_the_thread_that_asked(capped_elsewhere, monkeypatch):
    held = HeldRead(monkeypatch)
    sibling = held.sibling()
    try:
        # The plays carry on from memory (SIBLING_CHECK_WAIT at most, then not again
        # before the next check is due).
        assert [Client().get(PLAY).status_code for _ in range(3)] == [200, 200, 200]
        assert memory._check_after > time.monotonic()
    finally:
        held.released.set()
        sibling.join(10)
    # The read came back with the new version: the memory is forgotten.
    assert Client().get(PLAY).status_code == 400
