"""What the benchmark prints and writes: per-run rows, medians, ratios to the baseline, and
the results file (bench/results/latest.json by default)."""

import json
import os
import platform
import statistics
from pathlib import Path


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


def medians(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Each scenario's medians over the rounds, printed."""
    summary = {name: summarize(rounds) for name, rounds in results.items()}
    print("Medians")
    for name, figures in summary.items():
        print_row(name, figures)
    return summary


def ratios(results: dict[str, list[dict]]) -> dict[str, float]:
    """Each round's ratio to the baseline run just before it, then the median of the
    rounds: the load of the other users of this machine drifts between runs. Printed."""
    if "baseline" not in results:
        return {}
    found = {}
    for name in results:
        if name == "baseline":
            continue
        for key, label in [("req_per_s", "req/s"), ("p99_ms", "p99"), ("server_cpu_us", "cpu")]:
            per_round = [
                r[key] / b[key] for r, b in zip(results[name], results["baseline"], strict=True)
            ]
            found[f"{name}/baseline {label}"] = round(statistics.median(per_round), 3)
    print(
        "Ratios to the baseline, median of the rounds "
        "(goals: losing req/s >= 0.90, mixed >= 0.70, losing p99 <= 2)"
    )
    for key, value in found.items():
        print(f"  {key:<28} {value:6.3f}")
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
