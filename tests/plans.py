"""Day plans built directly for tests that play through a real server and the real clock."""

import datetime as dt
import zoneinfo

from django.utils import timezone

from contests.models import Contest, DayPlan, WinningMoment


def zone_at_local_hour(hour: int, now: dt.datetime | None = None) -> str:
    """An Etc/GMT zone whose local time is now in `hour`, so no test runs into midnight."""
    utc_hour = (now or timezone.now()).astimezone(dt.UTC).hour
    for offset in range(-12, 15):
        if (utc_hour + offset) % 24 == hour:
            # POSIX sign: Etc/GMT-2 is two hours ahead of UTC.
            return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    raise AssertionError("every hour has a zone")


def contest_with_plan(
    make_contest, code: str, *, due: int, later: int = 0, wmax: int | None = None
) -> Contest:
    """An active contest (local time about noon) whose plan for today has `due` moments that
    fell due in the last ten minutes and `later` moments that fall due hours from now."""
    now = timezone.now()
    zone = zone_at_local_hour(12, now)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    count = due + later
    contest = make_contest(
        code,
        start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=1),
        perday=count,
        time_zone=zone,
        wmax=wmax,
    )
    start = now - dt.timedelta(minutes=10)
    plan = DayPlan.objects.create(
        prize=contest.prizes.get(),
        day=today,
        window_start=start,
        window_end=now + dt.timedelta(hours=6),
        moment_count=count,
        made_at=start,
    )
    moments = [start + dt.timedelta(minutes=9) * index / max(due, 1) for index in range(due)]
    moments += [now + dt.timedelta(hours=2, seconds=index) for index in range(later)]
    WinningMoment.objects.bulk_create(
        WinningMoment(plan=plan, contest=contest, day=today, at=at) for at in moments
    )
    return contest
