"""The play log: one line per play on stdout, the trail of attempts auditors ask for.

The lines look like the logging configuration's ("<time> INFO contests.play [<request id>]
play contest=… outcome=… status=… duration_ms=…"), but they skip the logging machinery,
whose records, filters and per-line flush cost a losing play more than its answer: each
line is one formatted string added to a list, and the list is written out with the other
buffered writes (contests/buffered.py), at least every second and at exit.
"""

import sys
import threading
import time

from .. import buffered

LOGGER = "contests.play"


class PlayLog:
    def __init__(self) -> None:
        self.stream = None  # None: sys.stdout at the time of writing
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._second = -1
        self._stamp = ""

    def _timestamp(self) -> str:
        # As logging's default asctime, "2026-12-01 21:00:00,123", formatted once a second.
        now = time.time()
        second = int(now)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        return f"{self._stamp},{int((now - second) * 1000):03d}"

    def play(self, code: str, outcome: str, status: int, seconds: float, request_id: str) -> None:
        line = (
            f"{self._timestamp()} INFO {LOGGER} [{request_id}] play contest={code} "
            f"outcome={outcome} status={status} duration_ms={seconds * 1000:.2f}\n"
        )
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
