"""What the benchmark prints and writes: per-run rows, medians, ratios to the baseline, and
the results file (bench/results/latest.json by default)."""

import json
import os
import platform
import statistics
from pathlib import Path


def summarize(rounds: list[dict]) -> dict:
    keys = ("req_per_s", "p50_ms", "p90_ms", "p99_ms", "server_cpu_us", "machine_idle")
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
        f"socket errors {figures['socket_errors']:>2}  idle {figures.get('machine_idle', 0):4.0%}"
    )


def medians(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Each scenario's medians over the rounds, printed."""
    summary = {name: summarize(rounds) for name, rounds in results.items()}
    print("Medians")
    for name, figures in summary.items():
        print_row(name, figures)
    return summary


# A run under full load during which the machine sat idle this share of its CPU time was
# slowed by the machine, not by what it measured (on the development VM a core goes missing
# for ten seconds or so now and then: docs/benchmark.md).
STRUCK_IDLE = 0.2


def is_struck(*runs: dict) -> bool:
    return any(run.get("machine_idle", 0) > STRUCK_IDLE for run in runs)


def ratios(pairs: dict[str, list[tuple[dict, dict]]]) -> dict[str, float]:
    """Each run's ratio to the baseline run just before it, then the median over the rounds
    whose pair the machine did not strike (all of them if it struck every one). Printed."""
    found = {}
    for name, runs in pairs.items():
        kept = [pair for pair in runs if not is_struck(*pair)] or runs
        found[f"{name} pairs kept"] = len(kept)
        for key, label in [("req_per_s", "req/s"), ("p99_ms", "p99"), ("server_cpu_us", "cpu")]:
            per_round = [run[key] / baseline[key] for run, baseline in kept]
            found[f"{name}/baseline {label}"] = round(statistics.median(per_round), 3)
    if "losing-1000/baseline req/s" in found and "losing/baseline req/s" in found:
        spread = found["losing-1000/baseline req/s"] / found["losing/baseline req/s"]
        found["losing-1000/losing req/s"] = round(spread, 3)
    print(
        "Ratios to the baseline run just before, median of the pairs the machine did not "
        "strike (goals: losing req/s >= 0.90 and p99 <= 1.5, losing-1000/losing within 5 %, "
        "mixed req/s >= 0.70)"
    )
    for key, value in found.items():
        shown = f"{value:6.3f}" if isinstance(value, float) else f"{value:6d}"  # counts as such
        print(f"  {key:<28} {shown}")
    return found


def print_burst(outcome: dict, contests: int, connections: int) -> None:
    seconds = outcome["seconds_until_all_won"]
    print(
        f"Burst: {outcome['planned']} moments due on {contests} contests, "
        f"{connections} connections: all won after "
        f"{'(none won)' if seconds is None else f'{seconds:.2f} s'}; "
        f"{outcome['wins']} wins in the database on {outcome['distinct_moments']} distinct "
        f"moments, {outcome['wins_seen']} winning answers seen by wrk: "
        f"{'exact' if outcome['exact'] else 'MISMATCH'}"
    )
    print_row("burst", outcome)


def machine(load_before: tuple[float, float, float]) -> dict:
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def write(report: dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
