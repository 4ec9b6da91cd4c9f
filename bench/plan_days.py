"""Planning benchmark: `plan_days` for many contests at once on PostgreSQL (not a test).

    .venv/bin/python bench/plan_days.py [--contests 1000] [--perday 1000] [--verify]

It creates a throwaway database named after DATABASE_URL's with "_planbench" added
(default portal_planbench on 127.0.0.1:5432), migrates it, creates the contests (one
prize each), times the `plan_days` command planning today for all of them, prints
moments per second, seconds and the process's peak RSS, and drops the database, also
on Ctrl-C or failure.
"""

import argparse
import datetime as dt
import io
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contests", type=int, default=1000, help="contests (default 1000)")
    parser.add_argument("--perday", type=int, default=1000, help="moments per plan (1000)")
    parser.add_argument(
        "--verify", action="store_true", help="then check every seal with verify_plans"
    )
    return parser.parse_args()


def bench_url(url: str) -> tuple[str, str]:
    """Return the throwaway database's URL and the server's maintenance database URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("bench/plan_days.py: DATABASE_URL must point at PostgreSQL.")
    name = parts.path.lstrip("/") + "_planbench"
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        urlunsplit(parts._replace(path="/postgres")),
    )


def maintenance(url: str, statement: str) -> None:
    """Run one statement on the maintenance database, outside any transaction."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(statement)
    conn.close()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def create_contests(count: int, perday: int) -> None:
    from contests.models import Contest, Prize

    today = dt.date.today()
    contests = Contest.objects.bulk_create(
        Contest(
            code=f"B{number:05d}",
            name=f"Bench {number}",
            start=today - dt.timedelta(days=1),
            end=today + dt.timedelta(days=1),
            time_zone="UTC",
        )
        for number in range(count)
    )
    Prize.objects.bulk_create(
        Prize(contest=contest, code="prize", name="Prize", perday=perday) for contest in contests
    )


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from contests.models import DayPlan, WinningMoment

    call_command("migrate", verbosity=0)
    create_contests(args.contests, args.perday)
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    call_command("plan_days", "--days", "1", stdout=io.StringIO())
    seconds = time.perf_counter() - started
    rss_peak = peak_rss_mib()
    moments = WinningMoment.objects.count()
    plans = DayPlan.objects.count()
    expected = args.contests * args.perday
    print(f"plan_days on {connection.vendor}: {plans:,} plans, {moments:,} moments")
    print(f"  {seconds:.2f} s, {moments / seconds:,.0f} moments/s")
    print(f"  peak RSS {rss_peak:.0f} MiB (before planning {rss_before:.0f} MiB)")
    print(f"  load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    if moments != expected or plans != args.contests:
        sys.exit(f"expected {args.contests} plans and {expected} moments")
    if args.verify:
        out = io.StringIO()
        call_command("verify_plans", stdout=out)
        print(f"  {out.getvalue().strip()}")


def main() -> None:
    args = parse_args()
    url, maintenance_url = bench_url(os.environ.get("DATABASE_URL", DEFAULT_URL))
    name = urlsplit(url).path.lstrip("/")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # No query log in memory: the figures are those of production settings.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    sys.path.insert(0, str(ROOT))
    maintenance(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    maintenance(maintenance_url, f'CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        maintenance(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
