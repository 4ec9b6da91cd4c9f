"""The closing of a simulated 30-day contest, measured (not a test).

    BUFFER_FLUSH_INTERVAL=0 DATABASE_URL=postgres://… .venv/bin/python -m bench.closing \
        [--days 30] [--players 20000] [--plays-per-day 20000]

Plays every day of a contest through the real draw with named players (registering them
as the play view does, written in one batch per day; days 10 and 20 without plays, their
moments planned ahead and never claimed), disqualifies one win in twenty,
then times the recovery draw's freeze and draw and the closing record, and prints the
figures. Everything runs in one transaction that is rolled back: the database is left as
it was (it must be migrated).
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("BUFFER_FLUSH_INTERVAL", "0")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from contests import participants, play_counts  # noqa: E402
from contests.models import Contest, Prize, ReviewStatus, Win  # noqa: E402
from contests.moments.claiming import ensure_plans  # noqa: E402
from contests.moments.planning import day_bounds  # noqa: E402
from contests.play.draw import draw  # noqa: E402
from contests.play.memory import memory  # noqa: E402
from contests.recovery import service  # noqa: E402
from contests.staff.closing_record import closing_record  # noqa: E402
from contests.staff.reviews import review_win  # noqa: E402


class Rollback(Exception):
    pass


def play_contest(contest: Contest, days: int, players: int, per_day: int, rng) -> int:
    plays = 0
    for offset in range(days):
        day = contest.start + dt.timedelta(days=offset)
        start, end = day_bounds(day, contest.zone)
        ensure_plans(contest, day, start, rng)  # planned ahead, as plan_days does
        # Busier and quieter days; on days 10 and 20 the app was down: nobody played.
        count = 0 if offset in (9, 19) else int(per_day * rng.uniform(0.5, 1.5))
        step = (end - start) / max(count, 1)
        for k in range(count):
            now = start + step * (k + 0.5)
            snapshot = memory.contest(contest.code)
            local_day, hour = snapshot.local_day(now)
            play_counts.count_play(snapshot.id, local_day, hour)
            player = f"player-{rng.randrange(players):06d}"
            participants.register_play(snapshot.id, None, player, local_day)
            draw(snapshot, now, request_id=f"bench-{offset}-{k}", player=player)
            plays += 1
        participants.write_register()
        play_counts.write_counts()
    return plays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--players", type=int, default=20000)
    parser.add_argument("--plays-per-day", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(30)  # noqa: S311 (a reproducible simulation, not a secret)
    try:
        with transaction.atomic():
            start = dt.date(2020, 1, 1)
            contest = Contest.objects.create(
                code="BENCH-CLOSING", name="Bench", start=start,
                end=start + dt.timedelta(days=args.days - 1), time_zone="Europe/Rome",
                recovery_draw=True, recovery_reserves=3, beneficiary_name="Bench ONLUS",
            )  # fmt: skip
            Prize.objects.create(contest=contest, code="coffee", name="Caffè", perday=20, value=1)
            Prize.objects.create(contest=contest, code="gift", name="Buono", perday=2, value=50)
            started = time.perf_counter()
            plays = play_contest(contest, args.days, args.players, args.plays_per_day, rng)
            played = time.perf_counter() - started
            reviewer = get_user_model().objects.create_user("bench-reviewer")
            wins = list(Win.objects.filter(contest=contest).order_by("id"))
            for win in wins[::20]:
                review_win(win, ReviewStatus.DISQUALIFIED, "bench", reviewer, win.won_at)
            actor = service.Actor("bench")
            started = time.perf_counter()
            frozen = service.freeze(contest, actor)
            freeze_seconds = time.perf_counter() - started
            started = time.perf_counter()
            service.draw(contest, actor)
            draw_seconds = time.perf_counter() - started
            started = time.perf_counter()
            record = closing_record(contest)
            record_seconds = time.perf_counter() - started
            started = time.perf_counter()
            mismatches = service.recompute(frozen)
            recompute_seconds = time.perf_counter() - started
            total = record.total
            print(f"days {args.days}, plays {plays} ({played:.1f} s to play them)")
            print(f"registered players {contest.participants.values('player').distinct().count()}")
            print(f"register rows {contest.participants.count()}")
            print(f"planned {total.planned}, won {total.won}, disqualified {total.disqualified}")
            print(
                f"eligible {frozen.participants_count}, excluded {frozen.excluded_count}, "
                f"to draw {total.to_draw}, recovered {total.recovered}, devolved {total.devolved}"
            )
            print(f"prize pool EUR {record.pool}, devolved EUR {record.totals['devolved']}")
            print(
                f"freeze {freeze_seconds:.3f} s, draw {draw_seconds:.3f} s, "
                f"closing record {record_seconds:.3f} s, recompute {recompute_seconds:.3f} s "
                f"(mismatches: {len(mismatches)})"
            )
            assert total.planned == total.won - total.disqualified + total.recovered + (
                total.devolved
            )
            assert record.pool == sum(
                (line.value * line.planned for line in record.prizes), Decimal(0)
            )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    sys.exit(main())
