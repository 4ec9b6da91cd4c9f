"""The portal's metrics, and the tiny functions the play path and the jobs call to count.

Served at /metrics (portal/metrics.py) in prometheus-client's multiprocess mode when
PROMETHEUS_MULTIPROC_DIR is set: every gunicorn worker, and every process of the job
worker, writes its values to files there, and a scrape adds them up. What each metric
means, and the alerts on them: docs/monitoring.md.

The play path pays for two of them on every play (a counter and a histogram). Label
children are bound once per (contest, outcome) and kept, so a play costs two dictionary
look-ups and three increments, never a label validation; contest codes only become labels
for contests that exist, so a flood of made-up codes cannot grow the series.
"""

import os

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# In multiprocess mode a metric opens its file as soon as it exists, in any process that
# loads the portal (a manage.py command too): the directory must be there first.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# The *_created series double every counter for nothing here.
disable_created_metrics()

PLAYS = Counter(
    "portal_plays_total",
    "Plays answered, by contest and outcome (contest is - when the code named none).",
    ["contest", "outcome"],
)
PLAY_DURATION = Histogram(
    "portal_play_duration_seconds",
    "Time the play view took to answer, from reading the query to the answer.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
WINS = Counter("portal_wins_total", "Wins recorded, by contest and prize.", ["contest", "prize"])
MOMENTS_UNCLAIMED = Gauge(
    "portal_moments_unclaimed",
    "Today's moments (the contest's local day) that have fallen due and nobody won yet.",
    ["contest"],
    multiprocess_mode="mostrecent",
)
CONTEST_LOCAL_HOUR = Gauge(
    "portal_contest_local_hour",
    "The hour of the day (0-23) in the contest's own zone, for alerts in local time.",
    ["contest"],
    multiprocess_mode="mostrecent",
)
JOB_LAST_SUCCESS = Gauge(
    "portal_job_last_success_timestamp_seconds",
    "When the job last ended well (Unix time).",
    ["job"],
    multiprocess_mode="max",
)
JOB_RUNS = Counter(
    "portal_job_runs_total",
    "Job runs by outcome: success, failure, or skipped (another run held its lock).",
    ["job", "outcome"],
)
JOB_DURATION = Gauge(
    "portal_job_last_duration_seconds",
    "How long the job's last run took.",
    ["job"],
    multiprocess_mode="mostrecent",
)
PLANS_MISMATCHED = Gauge(
    "portal_plans_mismatched",
    "Stored day plans that did not match their seal at the last verify_plans run.",
    multiprocess_mode="mostrecent",
)
WEBHOOK_DELIVERIES = Counter(
    "portal_webhook_deliveries_total",
    "Webhook deliveries attempted, by status (delivered, failed, ...).",
    ["status"],
)

# Outcomes of plays whose code named a contest that exists; every other outcome is
# counted under contest "-" (contests/play/views.py gives the outcomes).
_NAMED_CONTEST = frozenset({"lost", "capped", "inactive", "forbidden", "no_token", "no_user"})

_play_children: dict[tuple[str, str], object] = {}
_win_children: dict[tuple[str, str], object] = {}
_observe_duration = PLAY_DURATION.observe


def observe_play(code: str, outcome: str, seconds: float) -> None:
    """Count one answered play and its duration. `outcome` is the play log line's."""
    if outcome in _NAMED_CONTEST:
        key = (code, outcome)
    elif outcome.startswith("won"):
        key = (code, "won")
    else:
        key = ("-", outcome)
    child = _play_children.get(key)
    if child is None:
        child = _play_children.setdefault(key, PLAYS.labels(*key))
    child.inc()
    _observe_duration(seconds)


def count_win(contest: str, prize: str) -> None:
    """Count one recorded win."""
    key = (contest, prize)
    child = _win_children.get(key)
    if child is None:
        child = _win_children.setdefault(key, WINS.labels(*key))
    child.inc()


def count_webhook_delivery(status: str) -> None:
    WEBHOOK_DELIVERIES.labels(status).inc()
