"""The play benchmark: gunicorn on PostgreSQL and Redis, loaded by wrk, figures as JSON.

Run it with `bench/run` (`python -m bench.run` from the checkout). It creates a throwaway
database (on DATABASE_URL's server, named after its database: harness/postgres.py) and a
unique Redis key prefix, creates the contests through the project's own commands, starts
gunicorn (harness/servers.py) with bench/settings.py, drives it with wrk from a separate
process on loopback (bench/load.py), prints a table and writes bench/results/latest.json
(bench/report.py). Everything it started or created is stopped and dropped at the end,
also on Ctrl-C or failure. The scenarios are bench/scenarios.py's.
"""

import argparse
import datetime as dt
import os
import secrets
import shutil
import signal
import sys
from pathlib import Path

from bench import report
from bench.load import wrk
from bench.replicas import Replicas
from bench.scenarios import (
    REPLICAS,
    SCENARIOS,
    audit,
    burst_contests,
    burst_outcome,
    configurations,
    local_zone_at_hour,
    losing_contests,
    mixed_contests,
)
from harness.postgres import create_database, drop_database
from harness.servers import Server, gunicorn_command, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Without REDIS_URL, a DB index no test uses; the keys carry a unique prefix either way.
REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
# gunicorn as deployed: gthread workers, the access log.
GUNICORN_CONFIG = "deploy/gunicorn.conf.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every scenario")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--burst-connections", type=int, default=32)
    parser.add_argument("--burst-duration", type=int, default=20, help="seconds")
    parser.add_argument("--mixed-perday", type=int, default=10_000, help="per contest")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, in this order each round; add {REPLICAS} for N masters "
        "behind one Nginx (bench/replicas.py)",
    )
    parser.add_argument("--replicas", type=int, default=3, help="gunicorn masters (default 3)")
    parser.add_argument("--replica-workers", type=int, default=2, help="workers per master")
    parser.add_argument("--replica-burst-contests", type=int, default=40)
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--no-planning", action="store_true", help="skip the planning costs")
    parser.add_argument(
        "--planning-million-db",
        action="store_true",
        help="also plan perday 1 000 000 into the database (about a minute)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args()


class Bench:
    """Owns what the run creates: the database, the Redis keys, gunicorn, wrk."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.database_url = ""
        self.prefix = f"bench-{secrets.token_hex(4)}"
        self.server: Server | None = None
        self.children: list[Server] = []
        self.log_path = RESULTS / "server.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "REDIS_URL": REDIS,
            "CACHE_KEY_PREFIX": self.prefix,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "INFO",
            # Recycling would drop the CPU time of the workers it replaces from the
            # per-answer figures.
            "GUNICORN_MAX_REQUESTS": "0",
            # As the production image: Nginx writes the access line, the play log its own.
            "GUNICORN_ACCESS_LOG": "false",
            # Metrics in multiprocess mode, as the production image has them (issue 16):
            # every play pays for its counter and histogram as it does there.
            "PROMETHEUS_MULTIPROC_DIR": str(RESULTS / "metrics"),
        }

    @property
    def database(self) -> str:
        return self.database_url.rsplit("/", 1)[-1]

    # Services ----------------------------------------------------------------------

    def create_database(self) -> None:
        self.database_url = create_database("bench")
        self.env["DATABASE_URL"] = self.database_url

    def drop_database(self) -> None:
        if self.database_url:
            drop_database(self.database_url)

    def clean_redis(self) -> int:
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return len(keys)

    def start_server(self, connections: int) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        # gunicorn leaves each new connection to whichever worker wakes first: one worker
        # often held 14 of wrk's 16 connections, and a run measured that draw more than the
        # code. At most each worker's share (plus its threads, which gthread's keep-alive
        # bound subtracts) spreads them evenly.
        share = -(-connections // self.args.workers)
        threads = int(self.env.get("GUNICORN_THREADS", "2"))
        self.server = start_gunicorn(
            self.env,
            workers=self.args.workers,
            config=GUNICORN_CONFIG,
            args=["--worker-connections", str(share + threads)],
            log=self.log_path,
            ready_path="/bench/baseline/",
            ready_headers={"X-Forwarded-Proto": "https"},
            ready_statuses={200},
        )

    def stop(self) -> None:
        for child in [*self.children, self.server]:
            if child is not None:
                child.stop()

    def wrk(self, config: dict, seconds: int, connections: int) -> dict:
        return wrk(self.server, config, seconds=seconds, connections=connections,
                   threads=self.args.threads, workdir=RESULTS, running=self.children)  # fmt: skip


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        print("bench: wrk is missing; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    bench = Bench(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    started_at = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    bench.create_database()
    try:
        os.environ.update(bench.env)
        import django

        django.setup()
        return run(bench, args, started_at, load_before)
    finally:
        bench.stop()
        from django.db import connections

        connections.close_all()
        bench.drop_database()
        removed = bench.clean_redis()
        print(f"Stopped gunicorn, dropped {bench.database}, removed {removed} Redis keys.")


def run(bench: Bench, args, started_at: dt.datetime, load_before) -> int:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    zone = local_zone_at_hour(dt.datetime.now(dt.UTC), hour=1)
    print(f"Database {bench.database}; contests in {zone} (local time 01:xx: a whole day ahead)")
    scenarios = [name for name in args.scenarios.split(",") if name]
    losing = losing_contests(zone, 1000 if "losing-1000" in scenarios else 10)
    mixed, token = mixed_contests(zone, args.mixed_perday) if "mixed" in scenarios else ([], "")
    burst = [] if args.no_burst else burst_contests(zone)
    configs = configurations(losing, mixed, token)
    replicas, replica_burst = None, []
    if REPLICAS in scenarios:
        scenarios.remove(REPLICAS)
        replicas = Replicas(bench, args.replicas, args.replica_workers)
        if not args.no_burst:
            # The single server's 2 000 moments, spread over more contests.
            count = args.replica_burst_contests
            replica_burst = burst_contests(zone, perday=2000 // count, count=count, prefix="R")
    for old_log in RESULTS.glob("server*.log"):
        old_log.unlink()  # an earlier run's
    bench.start_server(args.connections)
    if replicas:
        replicas.start(RESULTS / "replicas")
        print(f"Replicas: {args.replicas} masters of {args.replica_workers} workers behind "
              f"Nginx at {replicas.url}, a private Redis at {replicas.redis.url}")  # fmt: skip
    print(
        f"gunicorn: {args.workers} workers at {bench.server.url}; wrk: {args.threads} "
        f"thread(s), {args.connections} connections, {args.duration} s per run, "
        f"{args.rounds} round(s)"
    )

    def measure(name: str) -> dict:
        if args.warmup:
            bench.wrk(configs[name], args.warmup, args.connections)
        figures = bench.wrk(configs[name], args.duration, args.connections)
        report.print_row(name, figures)
        return figures

    results: dict[str, list[dict]] = {name: [] for name in scenarios}
    # Each scenario's runs with the baseline run just before each: in alternation, so that
    # a slowdown of this machine (they come and go in seconds) strikes both or neither.
    pairs: dict[str, list[tuple[dict, dict]]] = {}
    for round_number in range(1, args.rounds + 1):
        print(f"Round {round_number}")
        baseline = None
        # Every other round in reverse order: a scenario's place in the round is no
        # advantage (the first run of a round was often the fastest).
        for name in scenarios if round_number % 2 else scenarios[::-1]:
            if name == "baseline" and len(scenarios) > 1:
                continue  # measured before each of the others
            if name != "baseline" and "baseline" in scenarios:
                baseline = measure("baseline")
                results["baseline"].append(baseline)
            figures = measure(name)
            results[name].append(figures)
            if baseline is not None:
                pairs.setdefault(name, []).append((figures, baseline))
        if replicas:
            replicas.run_round(configs, results)
            for name in results:  # after the round's last baseline
                if name.startswith("replicas-") and baseline is not None:
                    pairs.setdefault(name, []).append((results[name][-1], baseline))

    summary = report.medians(results)
    ratios = report.ratios(pairs)

    checks = {}
    losing_audit = audit(losing)
    checks["losing"] = losing_audit
    print(f"Losing contests: {losing_audit['wins']} wins (expected 0)")
    if mixed:
        mixed_audit = audit(mixed)
        seen = sum(r["wins_seen"] for r in results["mixed"])
        checks["mixed"] = {**mixed_audit, "note": "wins_seen excludes warm-up runs"}
        checks["mixed"]["wins_seen_measured"] = seen
        print(f"Mixed: {mixed_audit['wins']} wins in the database (warm-ups included), "
              f"{seen} winning answers in the measured runs, "
              f"{mixed_audit['plans_over_perday']} plans over perday")  # fmt: skip

    burst_figures = None
    if burst:
        # Every moment of 10 contests is due: how long until all are won, and exactly once?
        if args.burst_connections != args.connections:
            bench.server.stop()  # again with room for the burst's connections
            bench.log_path = RESULTS / "server-burst.log"
            bench.start_server(args.burst_connections)
        started = dt.datetime.now(dt.UTC)
        figures = bench.wrk({"contests": burst}, args.burst_duration, args.burst_connections)
        burst_figures = burst_outcome(burst, figures, started, args.burst_connections)
        report.print_burst(burst_figures, len(burst), args.burst_connections)
    replica_burst_figures = None
    if replica_burst:
        replica_burst_figures = replicas.burst(
            replica_burst, args.burst_duration, args.burst_connections
        )

    planning = None
    bench.stop()
    if not args.no_planning:
        from bench.planning import planning_costs

        print("Planning costs (time; peak Python memory under tracemalloc)")
        planning = planning_costs(zone, args.planning_million_db)

    plays_logged = sum(
        1 for log in RESULTS.glob("server*.log") for line in log.open() if " contests.play " in line
    )
    report.write(
        {
            "when": started_at.isoformat(timespec="seconds"),
            "machine": report.machine(load_before),
            "settings": {k: v for k, v in vars(args).items() if k != "output"},
            "gunicorn": gunicorn_command("127.0.0.1:0", args.workers, config=GUNICORN_CONFIG)[2:],
            "scenarios": {
                name: {"median": summary[name], "rounds": results[name]} for name in results
            },
            "ratios": ratios,
            "checks": checks,
            "burst": burst_figures,
            "replicas_burst": replica_burst_figures,
            "planning": planning,
            "play_log_lines": plays_logged,
        },
        args.output,
    )
    print(f"Play log lines written by the server: {plays_logged}")
    print(f"Figures written to {args.output}")
    failures = losing_audit["wins"] + sum(c.get("plans_over_perday", 0) for c in checks.values())
    for outcome in (burst_figures, replica_burst_figures):
        if outcome and not outcome["exact"]:
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
