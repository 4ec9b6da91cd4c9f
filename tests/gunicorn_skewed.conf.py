"""deploy/gunicorn.conf.py, for a replica whose wall clock libfaketime skews (tests/replicas.py).

The replica's monotonic clock stays true (FAKETIME_DONT_FAKE_MONOTONIC), as a machine's
does when its wall clock is off: faked, it would jump to the faked epoch, and Python's
timed waits (threading.Event.wait, as the batch writer's) hand that deadline straight to
the kernel, which then waits for decades. But libfaketime 0.9.10 mistranslates the one
call Python 3.11's time.sleep() makes, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME),
into EINVAL (wolfcw/libfaketime#426), which gunicorn's arbiter hits as it spawns workers;
so here time.sleep() waits in select() instead, which libfaketime leaves alone. Nothing
else differs from the deployed configuration.
"""

import runpy
import select
import time
from pathlib import Path


def _sleep(seconds: float) -> None:
    select.select([], [], [], max(0.0, seconds))  # retried with the time left on EINTR


time.sleep = _sleep
globals().update(
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"))
)
