"""The cost of planning a day, in time and peak Python memory: plan_moments alone, and
make_plan writing the moments to the database. Django must be set up."""

import collections
import datetime as dt
import time
import tracemalloc
import zoneinfo

from bench.scenarios import create_contest


def measure(work) -> tuple[float, int]:
    """Return the seconds `work()` takes, and its peak of Python memory in a second run."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


def cost(seconds: float, peak: int) -> dict:
    return {"seconds": round(seconds, 3), "peak_mib": round(peak / 2**20, 2)}


def planning_costs(zone: str, million_into_db: bool) -> dict:
    from contests.models import Contest
    from contests.moments.claiming import make_plan
    from contests.moments.planning import day_bounds, plan_moments

    now = dt.datetime.now(dt.UTC)
    day = now.astimezone(zoneinfo.ZoneInfo(zone)).date() + dt.timedelta(days=1)
    start, end = day_bounds(day, zoneinfo.ZoneInfo(zone))
    figures: dict = {"plan_moments": {}, "make_plan_db": {}}
    for count in (1_000, 100_000, 1_000_000):
        seconds, peak = measure(
            lambda count=count: collections.deque(plan_moments(start, end, count), maxlen=0)
        )
        _, listed = measure(lambda count=count: list(plan_moments(start, end, count)))
        figures["plan_moments"][str(count)] = {
            **cost(seconds, peak),
            "peak_mib_as_a_list": round(listed / 2**20, 2),
        }
        print(
            f"  plan_moments {count:>9,}: {seconds:7.3f} s, peak {peak / 2**20:7.2f} MiB "
            f"streamed ({listed / 2**20:.1f} MiB as a list)"
        )
    sizes = [1_000, 100_000] + ([1_000_000] if million_into_db else [])
    for count in sizes:
        # Two contests per size: one plan timed, one measured under tracemalloc.
        prizes = []
        for run in ("t", "m"):
            code = f"P{count}{run}"
            create_contest(code, zone, perday=count)
            prizes.append(Contest.objects.get(code=code).prizes.get())
        started = time.perf_counter()
        make_plan(prizes[0], day, now)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        make_plan(prizes[1], day, now)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["make_plan_db"][str(count)] = cost(seconds, peak)
        print(f"  make_plan    {count:>9,}: {seconds:7.3f} s, peak {peak / 2**20:7.2f} MiB (DB)")
    return figures
