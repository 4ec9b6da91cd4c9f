"""The benchmark's scenarios: contests made through the project's own commands, what wrk
plays against each scenario, and the audit of the wins they leave in the database.

Django must be set up (bench/run.py does it) before any of these runs.
"""

import datetime as dt
import io
import zoneinfo

# How far away the losing contests' only moment must be, so that no run can reach it.
LOSING_MARGIN = dt.timedelta(hours=1)
SCENARIOS = ("baseline", "losing", "losing-10", "losing-1000", "mixed")
# N gunicorn masters behind one Nginx (bench/replicas.py), asked for by name only.
REPLICAS = "replicas"


def local_zone_at_hour(now: dt.datetime, hour: int) -> str:
    """An Etc/GMT zone whose local time is now in `hour`: the same day-time for every run."""
    for offset in range(-12, 15):
        if (now.astimezone(dt.UTC).hour + offset) % 24 == hour:
            # POSIX sign: Etc/GMT-2 is two hours ahead of UTC.
            return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    raise AssertionError("every hour has a zone")


def run_command(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def create_contest(code: str, zone: str, perday: int, wmax: int | None = None) -> None:
    today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()
    args = [
        "create_contest", code, "--name", f"Bench {code}",
        "--start", str(today - dt.timedelta(days=1)), "--end", str(today + dt.timedelta(days=1)),
        "--time-zone", zone, "--prize-code", "prize", "--prize-name", "Prize",
        "--perday", str(perday),
    ]  # fmt: skip
    if wmax:
        args += ["--wmax", str(wmax)]
    run_command(*args)


def next_moment_of(code: str) -> dt.datetime | None:
    from contests.models import Contest
    from contests.moments.claiming import next_unclaimed_moment

    contest = Contest.objects.get(code=code)
    return next_unclaimed_moment(contest.pk, contest.local_date(dt.datetime.now(dt.UTC)))


def losing_contests(zone: str, wanted: int) -> list[str]:
    """Contests with perday 1, planned by plan_days, whose only moment is hours away."""
    codes: list[str] = []
    made = 0
    while len(codes) < wanted:
        code = f"L{made:04d}"
        made += 1
        create_contest(code, zone, perday=1)
        run_command("plan_days", "--contest", code, "--days", "1")
        at = next_moment_of(code)
        if at is not None and at - dt.datetime.now(dt.UTC) > LOSING_MARGIN:
            codes.append(code)
    return codes


def mixed_contests(zone: str, perday: int) -> tuple[list[str], str]:
    """20 contests, 5 of them capped, all enabled for one API client; return codes and token."""
    codes = [f"M{index:02d}" for index in range(20)]
    for index, code in enumerate(codes):
        create_contest(code, zone, perday=perday, wmax=1 if index % 4 == 0 else None)
    out = run_command("create_api_client", "Bench mixed", *[f"--contest={c}" for c in codes])
    token = out.strip().splitlines()[-1]
    for code in codes:
        run_command("plan_days", "--contest", code, "--days", "1")
    return codes, token


def burst_contests(zone: str, perday: int = 200, count: int = 10, prefix: str = "B") -> list[str]:
    """`count` contests whose whole plan of `perday` moments fell due in the last 50 minutes."""
    from contests.models import Contest, DayPlan, WinningMoment
    from contests.moments.planning import plan_moments

    codes = [f"{prefix}{index}" for index in range(count)]
    now = dt.datetime.now(dt.UTC)
    for code in codes:
        create_contest(code, zone, perday=perday)
        contest = Contest.objects.get(code=code)
        day = contest.local_date(now)
        start = now - dt.timedelta(minutes=50)
        plan = DayPlan.objects.create(
            prize=contest.prizes.get(),
            day=day,
            window_start=start,
            window_end=now,
            moment_count=perday,
            made_at=start,
        )
        WinningMoment.objects.bulk_create(
            WinningMoment(plan=plan, contest=contest, day=day, at=at)
            for at in plan_moments(start, now - dt.timedelta(seconds=1), perday)
        )
    return codes


def configurations(losing: list[str], mixed: list[str], token: str) -> dict[str, dict]:
    """What wrk plays in each scenario (bench/load.py, bench/play.lua)."""
    return {
        "baseline": {"path": "/bench/baseline/"},
        "losing": {"contests": losing[:1]},
        "losing-10": {"contests": losing[:10]},
        "losing-1000": {"contests": losing[:1000]},
        "mixed": {"contests": mixed, "users": 1000, "token": token, "expected": {200, 420}},
    }


def audit(codes: list[str]) -> dict:
    """Check the invariants of the contests' wins in the database; return the figures."""
    from django.db.models import Count

    from contests.models import DayPlan, Win, WinningMoment

    wins = Win.objects.filter(contest__code__in=codes)
    plans = DayPlan.objects.filter(prize__contest__code__in=codes)
    plans = plans.annotate(won=Count("moments__win"))
    over = [p.pk for p in plans if p.won > p.moment_count]
    claimed = WinningMoment.objects.filter(contest__code__in=codes, claimed=True).count()
    return {
        "wins": wins.count(),
        "distinct_moments": wins.values("moment").distinct().count(),
        "claimed_moments": claimed,
        "planned": sum(p.moment_count for p in plans),
        "plans_over_perday": len(over),
    }


def burst_outcome(codes: list[str], figures: dict, started: dt.datetime, connections: int) -> dict:
    """After the burst: how long until all were won, and was each moment won exactly once?

    The time until every prize is gone is the last win's, as the server's clock saw it,
    from the start of the run.
    """
    from django.db.models import Max

    from contests.models import Win

    found = audit(codes)
    last = Win.objects.filter(contest__code__in=codes).aggregate(last=Max("won_at"))["last"]
    seconds = (last - started).total_seconds() if last else None
    seen = figures["wins_seen"]
    exact = (
        found["wins"] == found["planned"] == found["distinct_moments"] == found["claimed_moments"]
        and found["plans_over_perday"] == 0
        # wrk does not count the answers in flight when it stops; the server did send them.
        and seen <= found["wins"] <= seen + connections
    )
    return {**figures, **found, "seconds_until_all_won": seconds, "exact": exact}
