"""The play benchmark: gunicorn on PostgreSQL and Redis, loaded by wrk, figures as JSON.

Run it with `bench/run` (see README.md, "Benchmark"). It creates a throwaway database
and a unique Redis key prefix, creates the contests through the project's own commands,
starts gunicorn, drives it with wrk from a separate process on loopback, prints a table
and writes bench/results/latest.json. Everything it started or created is stopped and
dropped at the end, also on Ctrl-C or failure.
"""

import argparse
import collections
import contextlib
import datetime as dt
import io
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "play.lua"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/9"  # a DB index no test uses; keys carry a unique prefix too

# How far away the losing contests' only moment must be, so that no run can reach it.
LOSING_MARGIN = dt.timedelta(hours=1)


def _maintenance(statement: str) -> None:
    """Run one statement on the server's maintenance database, outside any transaction."""
    import psycopg2

    conn = psycopg2.connect(f"{POSTGRES}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(statement)
    conn.close()


def gunicorn_command(port: int, workers: int) -> list[str]:
    """gunicorn as deployed (deploy/gunicorn.conf.py: gthread workers, access log), on loopback.

    The configuration reads its bind address and worker count from the environment; the
    command line says them again so that they show in `ps` and in the results file.
    """
    return [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--no-control-socket"]  # fmt: skip


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
        default="baseline,losing,losing-10,losing-1000,mixed",
        help="comma-separated, in this order each round",
    )
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--no-planning", action="store_true", help="skip the planning costs")
    parser.add_argument(
        "--planning-million-db",
        action="store_true",
        help="also plan perday 1 000 000 into the database (about a minute)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_zone_at_hour(now: dt.datetime, hour: int) -> str:
    """An Etc/GMT zone whose local time is now in `hour`: the same day-time for every run."""
    for offset in range(-12, 15):
        if (now.astimezone(dt.UTC).hour + offset) % 24 == hour:
            # POSIX sign: Etc/GMT-2 is two hours ahead of UTC.
            return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    raise AssertionError("every hour has a zone")


class Bench:
    """Owns what the run creates: the database, the Redis keys, gunicorn, wrk."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        tag = secrets.token_hex(4)
        self.database = f"portal_bench_{tag}"
        self.prefix = f"bench-{tag}"
        self.server: subprocess.Popen | None = None
        self.children: list[subprocess.Popen] = []
        self.base = ""
        self.log_path = RESULTS / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"{POSTGRES}/{self.database}",
            "REDIS_URL": REDIS,
            "CACHE_KEY_PREFIX": self.prefix,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_ROOT_URLCONF": "bench.urls",
            "DJANGO_LOG_LEVEL": "INFO",
            # Production recycles workers every ~2 000 requests; here that would drop the
            # CPU time of the workers it replaces from the per-answer figures.
            "GUNICORN_MAX_REQUESTS": "0",
            # Metrics in multiprocess mode, as the production image has them (issue 16):
            # every play pays for its counter and histogram as it does there.
            "PROMETHEUS_MULTIPROC_DIR": str(RESULTS / "metrics"),
        }

    # Services ----------------------------------------------------------------------

    def create_database(self) -> None:
        _maintenance(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        _maintenance(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def clean_redis(self) -> int:
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return len(keys)

    def start_server(self) -> None:
        port = free_port()
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.server = subprocess.Popen(
            gunicorn_command(port, self.args.workers),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.server.returncode}; see {log.name}")
            try:
                request = urllib.request.Request(
                    self.base + "/bench/baseline/", headers={"X-Forwarded-Proto": "https"}
                )
                urllib.request.urlopen(request, timeout=1)
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 30 s")

    def stop(self) -> None:
        for child in [*self.children, self.server]:
            if child is not None and child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()

    # Load ----------------------------------------------------------------------------

    def wrk(self, config: dict, seconds: int, connections: int) -> dict:
        """Run wrk for `seconds` with the Lua script and `config`; return its figures."""
        lines = []
        if "path" in config:
            lines.append(f"path {config['path']}")
        lines += [f"contest {code}" for code in config.get("contests", [])]
        lines.append(f"users {config.get('users', 0)}")
        if config.get("token"):
            lines.append(f"token {config['token']}")
        config_file = RESULTS / "wrk-config.txt"
        config_file.write_text("\n".join(lines) + "\n")
        cpu_before = self.server_cpu()
        command = ["wrk", "-t", str(self.args.threads), "-c", str(connections),
                   "-d", f"{seconds}s", "--timeout", "5s", "-s", str(LUA), self.base,
                   "--", str(config_file)]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.children.append(process)
        out, _ = process.communicate(timeout=seconds + 60)
        self.children.remove(process)
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{out}")
        cpu = self.server_cpu() - cpu_before
        [line] = [line for line in out.splitlines() if line.startswith("BENCH-JSON ")]
        raw = json.loads(line.removeprefix("BENCH-JSON "))
        seconds_run = raw["duration_us"] / 1e6
        expected = config.get("expected", {200})
        unexpected = sum(n for s, n in raw["statuses"].items() if int(s) not in expected)
        return {
            "requests": raw["requests"],
            "req_per_s": round(raw["requests"] / seconds_run, 1),
            "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000,
            "statuses": raw["statuses"],
            "unexpected_statuses": unexpected,
            "socket_errors": sum(raw["socket_errors"].values()),
            "wins_seen": raw["wins"],
            # CPU time of gunicorn's processes per answer: far less noisy than req/s here.
            "server_cpu_us": round(cpu / max(raw["requests"], 1) * 1e6, 1),
        }

    def server_cpu(self) -> float:
        """Seconds of CPU used so far by gunicorn's master and its live workers."""
        master = self.server.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        total = 0
        for pid in [master, *map(int, children)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")


# Setup through the project's own commands ------------------------------------------------


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


def burst_contests(zone: str, perday: int = 200) -> list[str]:
    """10 contests whose whole plan of `perday` moments fell due in the last 50 minutes."""
    from contests.models import Contest, DayPlan, WinningMoment
    from contests.moments.planning import plan_moments

    codes = [f"B{index}" for index in range(10)]
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


# Planning costs ------------------------------------------------------------------------------


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


# The run ---------------------------------------------------------------------------------------


def summarize(rounds: list[dict]) -> dict:
    keys = ("req_per_s", "p50_ms", "p90_ms", "p99_ms", "server_cpu_us")
    median = {key: round(statistics.median(r[key] for r in rounds), 2) for key in keys}
    median["req_per_s_min"] = min(r["req_per_s"] for r in rounds)
    median["req_per_s_max"] = max(r["req_per_s"] for r in rounds)
    median["unexpected_statuses"] = sum(r["unexpected_statuses"] for r in rounds)
    median["socket_errors"] = sum(r["socket_errors"] for r in rounds)
    return median


def print_row(name: str, figures: dict) -> None:
    print(
        f"  {name:<12} {figures['req_per_s']:>6.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
        f"p99 {figures['p99_ms']:7.2f} ms  cpu {figures['server_cpu_us']:6.0f} us/req  "
        f"unexpected {figures['unexpected_statuses']:>2}  "
        f"socket errors {figures['socket_errors']:>2}"
    )


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        print("bench: wrk is missing; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    bench = Bench(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    os.environ.update(bench.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    started_at = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    bench.create_database()
    try:
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
    configs = {
        "baseline": {"path": "/bench/baseline/"},
        "losing": {"contests": losing[:1]},
        "losing-10": {"contests": losing[:10]},
        "losing-1000": {"contests": losing[:1000]},
        "mixed": {"contests": mixed, "users": 1000, "token": token, "expected": {200, 420}},
    }
    bench.start_server()
    print(
        f"gunicorn: {args.workers} sync workers at {bench.base}; wrk: {args.threads} thread(s), "
        f"{args.connections} connections, {args.duration} s per run, {args.rounds} round(s)"
    )

    results: dict[str, list[dict]] = {name: [] for name in scenarios}
    for round_number in range(1, args.rounds + 1):
        print(f"Round {round_number}")
        for name in scenarios:
            if args.warmup:
                bench.wrk(configs[name], args.warmup, args.connections)
            figures = bench.wrk(configs[name], args.duration, args.connections)
            results[name].append(figures)
            print_row(name, figures)

    summary = {name: summarize(rounds) for name, rounds in results.items()}
    print("Medians")
    for name, figures in summary.items():
        print_row(name, figures)
    ratios = {}
    if "baseline" in summary:
        # Each round's ratio to the baseline run just before it, then the median of the
        # rounds: the load of the other users of this machine drifts between runs.
        for name in scenarios:
            if name == "baseline":
                continue
            for key, label in [("req_per_s", "req/s"), ("p99_ms", "p99"), ("server_cpu_us", "cpu")]:
                per_round = [
                    r[key] / b[key] for r, b in zip(results[name], results["baseline"], strict=True)
                ]
                ratios[f"{name}/baseline {label}"] = round(statistics.median(per_round), 3)
        print(
            "Ratios to the baseline, median of the rounds "
            "(goals: losing req/s >= 0.90, mixed >= 0.70, losing p99 <= 2)"
        )
        for key, value in ratios.items():
            print(f"  {key:<28} {value:6.3f}")

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
        burst_figures = run_burst(bench, args, burst)

    planning = None
    bench.stop()
    if not args.no_planning:
        print("Planning costs (time; peak Python memory under tracemalloc)")
        planning = planning_costs(zone, args.planning_million_db)

    plays_logged = sum(1 for line in bench.log_path.open() if " contests.play " in line)
    report = {
        "when": started_at.isoformat(timespec="seconds"),
        "machine": {
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "gunicorn": gunicorn_command(0, args.workers)[2:],
        "scenarios": {name: {"median": summary[name], "rounds": results[name]} for name in results},
        "ratios": ratios,
        "checks": checks,
        "burst": burst_figures,
        "planning": planning,
        "play_log_lines": plays_logged,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"Play log lines written by the server: {plays_logged}")
    print(f"Figures written to {args.output}")
    failures = losing_audit["wins"] + sum(c.get("plans_over_perday", 0) for c in checks.values())
    if burst_figures and not burst_figures["exact"]:
        failures += 1
    return 1 if failures else 0


def run_burst(bench: Bench, args, codes: list[str]) -> dict:
    """Every moment of 10 contests is due: how long until all are won, and exactly once?

    wrk runs for --burst-duration; the time until every prize is gone is the last win's,
    as the server's clock saw it, from the start of the run.
    """
    from django.db.models import Max

    from contests.models import Win

    started = dt.datetime.now(dt.UTC)
    figures = bench.wrk({"contests": codes}, args.burst_duration, args.burst_connections)
    found = audit(codes)
    last = Win.objects.filter(contest__code__in=codes).aggregate(last=Max("won_at"))["last"]
    seconds = (last - started).total_seconds() if last else None
    seen = figures["wins_seen"]
    exact = (
        found["wins"] == found["planned"] == found["distinct_moments"] == found["claimed_moments"]
        and found["plans_over_perday"] == 0
        # wrk does not count the answers in flight when it stops; the server did send them.
        and seen <= found["wins"] <= seen + args.burst_connections
    )
    print(
        f"Burst: {found['planned']} moments due on {len(codes)} contests, "
        f"{args.burst_connections} connections: all won after "
        f"{'(none won)' if seconds is None else f'{seconds:.2f} s'}; "
        f"{found['wins']} wins in the database on {found['distinct_moments']} distinct moments, "
        f"{seen} winning answers seen by wrk: {'exact' if exact else 'MISMATCH'}"
    )
    print_row("burst", figures)
    return {**figures, **found, "seconds_until_all_won": seconds, "exact": exact}


if __name__ == "__main__":
    sys.exit(main())
