"""Three replicas as three machines would run them, for tests/test_replicas.py: separate
gunicorn masters with skewed clocks (libfaketime), one Nginx upstream in front, a compressed
day of contests, and the plays sent through Nginx from a few threads.

A replica's clock is skewed the way a machine's is: its wall clock (time(), gettimeofday,
CLOCK_REALTIME) runs ahead or behind, its monotonic clock stays true. So the skewed ones run
tests/gunicorn_skewed.conf.py, which says why, over the deployed configuration.
"""

import datetime as dt
import glob
import http.client
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from harness.nginx import Nginx
from harness.servers import Server
from tests.invariants import Answer
from tests.tools import missing

# Debian's libfaketime package; the MT build, since gthread workers run threads.
FAKETIME_LIBRARIES = (
    "/usr/lib/*/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
    "/usr/local/lib/faketime/libfaketimeMT.so.1",
)
# What the play log writes (contests/play/log.py), in text.
PLAY_LINE = re.compile(
    r"^(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})Z INFO contests\.play \[(?P<rid>[^\]]+)\] "
    r"play contest=(?P<contest>\S+) outcome=(?P<outcome>.+?) status=(?P<status>\d+)"
    r" duration_ms=(?P<ms>[\d.]+)$",
    re.MULTILINE,
)
NGINX_LINE = re.compile(r" rid=(?P<rid>\S+) upstream=(?P<upstream>\S+) ")


def faketime_library() -> str:
    for pattern in FAKETIME_LIBRARIES:
        if found := sorted(glob.glob(pattern)):
            return found[0]
    missing("libfaketime is not installed: apt-get install faketime")
    raise AssertionError("unreachable")


def skewed_clock(seconds: int) -> dict[str, str]:
    """The environment that sets a process's wall clock `seconds` off (none for 0)."""
    if seconds == 0:
        return {}
    return {
        "LD_PRELOAD": faketime_library(),
        "FAKETIME": f"{seconds:+d}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def gunicorn_config(seconds: int) -> str:
    """The deployed configuration, or its variant for a skewed clock."""
    return "tests/gunicorn_skewed.conf.py" if seconds else "deploy/gunicorn.conf.py"


@dataclass(frozen=True)
class Sent:
    """One play through Nginx: the answer, and the test's clock around it."""

    answer: Answer
    contest: str
    sent: float
    received: float


@dataclass(frozen=True)
class Play:
    """What a player of one contest sends: the query's other parameters are drawn per play."""

    contest: str
    headers: tuple[tuple[str, str], ...] = ()
    players: int = 0  # 0: no user parameter, else one of p1…pN

    def query(self, rng: random.Random) -> str:
        query = f"contest={self.contest}"
        return query + (f"&user=p{rng.randint(1, self.players)}" if self.players else "")


class Driver:
    """Threads that play through Nginx until stopped, each on a kept-alive TLS connection."""

    def __init__(self, nginx: Nginx, plays: Sequence[Play], threads: int = 6, seed: int = 17):
        self.nginx = nginx
        self.plays = list(plays)
        self.sent: list[Sent] = []
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n, random.Random(seed + n)), daemon=True)
            for n in range(threads)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def _run(self, number: int, rng: random.Random) -> None:
        connection = self.nginx.https_connection(timeout=20)
        count = 0
        while not self._stopping.is_set():
            play = rng.choice(self.plays)
            count += 1
            request_id = f"d{number}-{count}"
            headers = {"X-Request-ID": request_id, **dict(play.headers)}
            sent = time.time()
            try:
                connection.request("GET", f"/play/?{play.query(rng)}", headers=headers)
                response = connection.getresponse()
                answer = Answer(
                    request_id,
                    response.status,
                    response.read(),
                    response.getheader("Content-Type", ""),
                )
            except (OSError, http.client.HTTPException):
                answer = Answer(request_id, None)
                connection.close()
                connection = self.nginx.https_connection(timeout=20)
            self.sent.append(Sent(answer, play.contest, sent, time.time()))
        connection.close()


@dataclass(frozen=True)
class LoggedPlay:
    """A play as a replica's play log wrote it: its time is the replica's own clock."""

    request_id: str
    contest: str
    outcome: str
    started: float  # the replica's clock when the play began (epoch seconds)


def logged_plays(server: Server) -> dict[str, LoggedPlay]:
    found = {}
    for match in PLAY_LINE.finditer(server.log_text()):
        at = dt.datetime.fromisoformat(match["date"]).replace(tzinfo=dt.UTC).timestamp()
        started = at - float(match["ms"]) / 1000
        found[match["rid"]] = LoggedPlay(match["rid"], match["contest"], match["outcome"], started)
    return found


def upstreams_by_request(access_log: str) -> dict[str, str]:
    """Which upstream (host:port) Nginx passed each request id to."""
    return {m["rid"]: m["upstream"] for m in NGINX_LINE.finditer(access_log)}
