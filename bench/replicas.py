"""The `replicas` scenario: N gunicorn masters behind one Nginx, as N machines behind a load
balancer, for the capacity model in docs/scaling.md.

Each round, after the single-server scenarios, wrk plays the losing and the mixed contests
through Nginx's HTTPS (`replicas-losing`, `replicas-mixed`), and the losing ones again with
a new connection, so a TLS handshake, for every play (`replicas-losing-new-tls`); once, at
the end, the burst's 2 000 moments over more contests than the single server's
(`replicas-burst`). Besides wrk's figures it counts,
per answer: the CPU time of every gunicorn process, of Nginx, and of the PostgreSQL backends
serving the bench database (/proc); the Redis commands (a private redis-server, so that
INFO commandstats counts these plays only); PostgreSQL's transactions (pg_stat_database,
which backends report about once a second: a run of a few seconds is off by a second's
worth at most).
"""

import contextlib
import datetime as dt
import os
from pathlib import Path

from bench.load import server_cpu, wrk
from harness.nginx import start_nginx
from harness.servers import RedisServer, Server, start_gunicorn, start_redis

# What the masters run: the deployed configuration.
GUNICORN_CONFIG = "deploy/gunicorn.conf.py"
LOOPBACK = "127.0.0.1"


def redis_calls(server: RedisServer) -> dict[str, int]:
    """Commands served so far, by name (INFO and CONFIG, the bench's own, left out)."""
    stats = server.client().info("commandstats")
    return {
        name.removeprefix("cmdstat_"): figures["calls"]
        for name, figures in stats.items()
        if name not in ("cmdstat_info", "cmdstat_config")
    }


def database_counters() -> tuple[int, dict[int, float]]:
    """Transactions of the bench database so far, and each backend's CPU seconds (not ours)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        [xacts] = cursor.fetchone()
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return xacts, cpu


class Replicas:
    """The masters, Nginx in front and a private Redis behind: started together, stopped
    together (also when the benchmark is interrupted: bench/run.py stops `children`)."""

    def __init__(self, bench, count: int, workers: int):
        self.bench = bench
        self.count = count
        self.workers = workers
        self.masters: list[Server] = []
        self.nginx = None
        self.redis: RedisServer | None = None

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.nginx.https_port}"

    def start(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.redis = start_redis()
        self.bench.children.append(self.redis)
        for number in range(self.count):
            env = {
                **self.bench.env,
                "REDIS_URL": self.redis.url,
                # Each machine has its own metrics directory.
                "PROMETHEUS_MULTIPROC_DIR": str(directory / f"metrics-{number}"),
            }
            master = start_gunicorn(
                env,
                workers=self.workers,
                config=GUNICORN_CONFIG,
                log=directory / f"replica-{number}.log",
                ready_path="/bench/baseline/",
                ready_headers={"X-Forwarded-Proto": "https"},
                ready_statuses={200},
            )
            self.masters.append(master)
            self.bench.children.append(master)
        self.nginx = start_nginx(
            [master.address for master in self.masters],
            directory=directory / "nginx",
            # wrk asks for https://127.0.0.1: the name it sends (SNI, Host) and Django allows.
            server_name=LOOPBACK,
            # One client address for every connection: no per-address limit in the way.
            play_rate="1000000r/s",
            play_burst=1000000,
        )
        self.bench.children.append(self.nginx)

    def run(self, config: dict, seconds: int, connections: int) -> dict:
        """One wrk run through Nginx, with the per-answer costs of every tier."""
        calls_before, (xacts_before, pg_before) = redis_calls(self.redis), database_counters()
        nginx_before = server_cpu(self.nginx)
        figures = wrk(self.masters[0], config, seconds=seconds, connections=connections,
                      threads=self.bench.args.threads, workdir=self.bench.log_path.parent,
                      running=self.bench.children, url=self.url,
                      measured=self.masters)  # fmt: skip
        nginx_cpu = server_cpu(self.nginx) - nginx_before
        calls_after, (xacts_after, pg_after) = redis_calls(self.redis), database_counters()
        answers = max(figures["requests"], 1)
        commands = {
            name: calls - calls_before.get(name, 0)
            for name, calls in calls_after.items()
            if calls > calls_before.get(name, 0)
        }
        pg_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
        return {
            **figures,
            "nginx_cpu_us": round(nginx_cpu / answers * 1e6, 1),
            "postgres_cpu_us": round(pg_cpu / answers * 1e6, 1),
            "redis_ops_per_answer": round(sum(commands.values()) / answers, 3),
            "redis_commands": commands,
            "postgres_xacts_per_answer": round((xacts_after - xacts_before) / answers, 4),
            "postgres_xacts_per_s": round((xacts_after - xacts_before) / seconds, 1),
            # Every connection to the bench database: the masters', the single server's
            # (idle meanwhile) and this process's.
            "postgres_backends": len(pg_after) + 1,
            "load_average": os.getloadavg()[0],
        }

    def run_round(self, configs: dict[str, dict], results: dict[str, list[dict]]) -> None:
        """The losing and (if it has contests) the mixed plays, through Nginx, after the same
        warm-up and for as long as the single server's runs; figures into `results`."""
        args = self.bench.args
        runs = {"losing": configs["losing"], "mixed": configs["mixed"],
                # Every play on a new connection: Nginx's TLS handshake included.
                "losing-new-tls": {**configs["losing"], "close": True}}  # fmt: skip
        for base, config in runs.items():
            if base == "mixed" and not config["contests"]:
                continue
            name = f"replicas-{base}"
            if args.warmup:
                self.run(config, args.warmup, args.connections)
            figures = self.run(config, args.duration, args.connections)
            results.setdefault(name, []).append(figures)
            print_row(name, figures)

    def burst(self, codes: list[str], seconds: int, connections: int) -> dict:
        """Every moment of `codes` due at once: claims per second, and what each costs."""
        from bench.scenarios import burst_outcome

        started = dt.datetime.now(dt.UTC)
        figures = self.run({"contests": codes}, seconds, connections)
        outcome = burst_outcome(codes, figures, started, connections)
        spent = outcome["seconds_until_all_won"]
        if spent and outcome["wins"]:
            outcome["claims_per_s"] = round(outcome["wins"] / spent, 1)
            # The run's PostgreSQL CPU over the claims: losing plays after the last win
            # cost it nothing (they are answered from memory).
            outcome["postgres_cpu_us_per_claim"] = round(
                figures["postgres_cpu_us"] * figures["requests"] / outcome["wins"], 1
            )
        print_burst(outcome, len(codes), connections)
        return outcome


def print_row(name: str, figures: dict) -> None:
    print(
        f"  {name:<16} {figures['req_per_s']:>6.0f} req/s  p99 {figures['p99_ms']:7.2f} ms  "
        f"gunicorn {figures['server_cpu_us']:6.0f} us  nginx {figures['nginx_cpu_us']:5.0f} us  "
        f"postgres {figures['postgres_cpu_us']:5.0f} us  "
        f"redis {figures['redis_ops_per_answer']:.3f} ops  "
        f"pg {figures['postgres_xacts_per_answer']:.4f} xacts /answer "
        f"({figures['postgres_xacts_per_s']:.0f}/s, {figures['postgres_backends']} backends)  "
        f"load {figures['load_average']:.1f}"
    )


def print_burst(outcome: dict, contests: int, connections: int) -> None:
    print(
        f"Replicas burst: {outcome['planned']} moments due on {contests} contests, "
        f"{connections} connections: {outcome['wins']} wins on "
        f"{outcome['distinct_moments']} distinct moments "
        f"({'exact' if outcome['exact'] else 'MISMATCH'}), all won after "
        f"{outcome['seconds_until_all_won']} s: {outcome.get('claims_per_s')} claims/s, "
        f"PostgreSQL {outcome.get('postgres_cpu_us_per_claim')} us CPU per claim"
    )
    print_row("replicas-burst", outcome)
