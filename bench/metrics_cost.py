"""What the metrics cost a play, measured in one process (issue 16; docs/monitoring.md).

    .venv/bin/python -m bench.metrics_cost [--plays 200000]

Times the play path's two calls (contests.metrics.observe_play, and count_response in the
first middleware) in prometheus-client's multiprocess mode, as production runs them, and
without it; prints microseconds per play. bench/run measures the whole play under load.
"""

import argparse
import os
import subprocess
import sys
import tempfile

CODE = """
import time
from contests import metrics
n = {plays}
observe, count = metrics.observe_play, metrics.count_response
for _ in range(1000):
    observe("C0001", "lost", 0.0004); count(200)
best = None
for _ in range(5):
    started = time.perf_counter()
    for _ in range(n):
        observe("C0001", "lost", 0.0004)
        count(200)
    spent = (time.perf_counter() - started) / n * 1e6
    best = spent if best is None else min(best, spent)
print(f"{{best:.2f}}")
"""


def measure(plays: int, directory: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if directory:
        env["PROMETHEUS_MULTIPROC_DIR"] = directory
    result = subprocess.run(
        [sys.executable, "-c", CODE.format(plays=plays)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        shared = measure(args.plays, directory)
    alone = measure(args.plays, None)
    print(f"metrics per play, multiprocess mode (production): {shared:.2f} µs")
    print(f"metrics per play, one process (no PROMETHEUS_MULTIPROC_DIR): {alone:.2f} µs")


if __name__ == "__main__":
    main()
