"""The play log: one line per play on stdout, the trail of attempts auditors ask for.

The lines are those of the logging configuration (portal/logs.py): in text, "<UTC time>
INFO contests.play [<request id>] play contest=… outcome=… status=… duration_ms=…"; with
DJANGO_LOG_FORMAT=json, one object with the same fields. But they skip the logging machinery,
whose records, filters and per-line flush cost a losing play more than its answer: each
line is one formatted string added to a list, and the list is written out with the other
buffered writes (contests/buffered.py), at least every second and at exit.
"""

import datetime as dt
import json
import sys
import threading
import time

from django.conf import settings

from .. import buffered

LOGGER = "contests.play"


class PlayLog:
    def __init__(self) -> None:
        self.stream = None  # None: sys.stdout at the time of writing
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._second = -1
        self._stamp = ""

    def _timestamp(self, now: float) -> str:
        # As portal.logs.UTCFormatter's, "2026-12-01 21:00:00.123Z", formatted once a second.
        second = int(now)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def play(self, code: str, outcome: str, status: int, seconds: float, request_id: str) -> None:
        now = time.time()
        message = (
            f"play contest={code} outcome={outcome} status={status} "
            f"duration_ms={seconds * 1000:.2f}"
        )
        if settings.LOG_FORMAT == "json":
            # The fields of portal.logs.JsonFormatter, and the play's own.
            line = json.dumps(
                {
                    "level": "INFO",
                    "logger": LOGGER,
                    "request_id": request_id,
                    "message": message,
                    "contest": code,
                    "outcome": outcome,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "timestamp": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
                }
            )
        else:
            line = f"{self._timestamp(now)} INFO {LOGGER} [{request_id}] {message}"
        line += "\n"
        with self._lock:
            self._lines.append(line)
        buffered.ensure_started()

    def write(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            stream = self.stream or sys.stdout
            stream.write("".join(lines))
            stream.flush()


play_log = PlayLog()
buffered.register(play_log.write)
