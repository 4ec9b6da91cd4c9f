"""Load for the benchmark: wrk with bench/play.lua against gunicorn, and the CPU time
gunicorn's processes spent meanwhile."""

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from harness.servers import Server, start

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "play.lua"


def server_cpu(server: Server) -> float:
    """Seconds of CPU used so far by gunicorn's master and its live workers."""
    total = 0
    for pid in [server.pid, *server.worker_pids()]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_times() -> tuple[int, int]:
    """This machine's CPU time so far, all of it and the idle part (/proc/stat, in ticks)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[3] + fields[4]  # user … steal; idle + iowait


def write_config(config: dict, path: Path) -> Path:
    """The settings file bench/play.lua reads (see its header)."""
    lines = []
    if "path" in config:
        lines.append(f"path {config['path']}")
    lines += [f"contest {code}" for code in config.get("contests", [])]
    lines.append(f"users {config.get('users', 0)}")
    if config.get("token"):
        lines.append(f"token {config['token']}")
    if config.get("close"):
        lines.append("close 1")
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(
    server: Server,
    config: dict,
    *,
    seconds: int,
    connections: int,
    threads: int,
    workdir: Path,
    running: list[Server],
    url: str | None = None,
    measured: Sequence[Server] = (),
) -> dict:
    """Run wrk for `seconds` with the Lua script and `config`; return its figures.

    wrk runs in a process group of its own, listed in `running` meanwhile, so that whoever
    stops the benchmark (Ctrl-C, a failure) stops it too. It loads `url` (the server's own
    by default: Nginx's for the replicas) and counts the CPU time of `measured` (the server
    by default: every gunicorn master behind Nginx for the replicas).
    """
    config_file = write_config(config, workdir / "wrk-config.txt")
    output = workdir / "wrk-output.txt"
    measured = list(measured) or [server]
    cpu_before = sum(server_cpu(s) for s in measured)
    machine_before = machine_times()
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "5s", "-s", str(LUA), url or server.url, "--",
               str(config_file)]  # fmt: skip
    load = start(command, log=output)
    running.append(load)
    try:
        returncode = load.process.wait(timeout=seconds + 60)
    finally:
        load.stop()
        running.remove(load)
    out = output.read_text()
    if returncode != 0:
        raise RuntimeError(f"wrk failed ({returncode}):\n{out}")
    cpu = sum(server_cpu(s) for s in measured) - cpu_before
    (total, idle), (total_before, idle_before) = machine_times(), machine_before
    total, idle = total - total_before, idle - idle_before
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
        # Under full load the machine is never idle; when its share of idle time is high,
        # it was the machine (a core taken away) that slowed the run: bench/report.py.
        "machine_idle": round(idle / max(total, 1), 3),
    }
