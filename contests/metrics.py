"""The portal's metrics, and the tiny functions the play path and the jobs call to count.

Served at /metrics (portal/metrics.py) in prometheus-client's multiprocess mode when
PROMETHEUS_MULTIPROC_DIR is set: every gunicorn worker, and every process of the job
worker, writes its values to files there, and a scrape adds them up. What each metric
means, and the alerts on them: docs/monitoring.md.

The play path calls observe_play() once per play (and the first middleware
count_response() once per answer): each only adds to an in-process buffer under one lock,
written out every second (see "buffered" below), so a play never pays prometheus-client's
own increments. Label children are bound once per (contest, outcome) and kept; contest
codes only become labels for contests that exist, so a flood of made-up codes cannot grow
the series.
"""

import os
import threading
from bisect import bisect_left

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from . import buffered

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
PLANS_UNSTAMPED = Gauge(
    "portal_plans_unstamped",
    "Sealed plans of days under way with no trusted timestamp yet (0 when TSA_URL is unset).",
    multiprocess_mode="mostrecent",
)
TIMESTAMPS_PENDING = Gauge(
    "portal_timestamps_pending",
    "Digests waiting for their trusted timestamp at the last stamp_timestamps run.",
    multiprocess_mode="mostrecent",
)
HTTP_RESPONSES = Counter(
    "portal_http_responses_total",
    "Answers of every view (plays, staff pages, admin), by status class: 2xx ... 5xx.",
    ["status_class"],
)
WEBHOOK_DELIVERIES = Counter(
    "portal_webhook_deliveries_total",
    "Webhook deliveries attempted, by status (delivered, failed, ...).",
    ["status"],
)

# The play path's counts are buffered -------------------------------------------------------
#
# prometheus-client's increments are several microseconds each in multiprocess mode (a lock,
# a pid check, a write to the mmapped file), and a play makes four of them. So a play only
# adds to a buffer under one lock, written out with the play path's other batches
# (contests/buffered.py: every second, and at exit). A scrape may thus be up to a second
# behind; nothing is lost unless the process is killed outright (SIGKILL).

# Outcomes of plays whose code named a contest that exists; every other outcome is
# counted under contest "-" (contests/play/views.py gives the outcomes).
_NAMED_CONTEST = frozenset(
    {"lost", "capped", "inactive", "forbidden", "no_token", "no_user", "too_soon"}
)
_BOUNDS = list(PLAY_DURATION._upper_bounds)

_lock = threading.Lock()
_plays: dict[tuple[str, str], int] = {}
_wins: dict[tuple[str, str], int] = {}
_responses = [0] * 6
_buckets = [0] * len(_BOUNDS)
_duration = [0.0]
_play_children: dict[tuple[str, str], object] = {}
_win_children: dict[tuple[str, str], object] = {}


def observe_play(code: str, outcome: str, seconds: float) -> None:
    """Count one answered play and its duration. `outcome` is the play log line's."""
    if outcome in _NAMED_CONTEST:
        key = (code, outcome)
    elif outcome.startswith("won"):
        key = (code, "won")
    else:
        key = ("-", outcome)
    bucket = bisect_left(_BOUNDS, seconds)
    with _lock:
        _plays[key] = _plays.get(key, 0) + 1
        _buckets[bucket] += 1
        _duration[0] += seconds
    buffered.ensure_started()


def count_win(contest: str, prize: str) -> None:
    """Count one recorded win."""
    key = (contest, prize)
    with _lock:
        _wins[key] = _wins.get(key, 0) + 1
    buffered.ensure_started()


def count_response(status: int) -> None:
    """Count one answer by its status class (portal.metrics.MetricsMiddleware calls it)."""
    status_class = status // 100
    if 1 <= status_class <= 5:
        with _lock:
            _responses[status_class] += 1
        buffered.ensure_started()


_response_children = {code: HTTP_RESPONSES.labels(f"{code}xx") for code in range(1, 6)}


def flush() -> None:
    """Write what the buffers hold into the metrics (the files, in multiprocess mode)."""
    global _plays, _wins
    with _lock:
        plays, wins, _plays, _wins = _plays, _wins, {}, {}
        responses, _responses[:] = _responses[:], [0] * 6
        buckets, _buckets[:] = _buckets[:], [0] * len(_BOUNDS)
        duration, _duration[0] = _duration[0], 0.0
    for key, count in plays.items():
        child = _play_children.get(key) or _play_children.setdefault(key, PLAYS.labels(*key))
        child.inc(count)
    for key, count in wins.items():
        child = _win_children.get(key) or _win_children.setdefault(key, WINS.labels(*key))
        child.inc(count)
    for status_class, count in enumerate(responses):
        if count:
            _response_children[status_class].inc(count)
    if any(buckets):
        # The histogram's own values, bucket by bucket: what observe() adds to, in bulk.
        for index, count in enumerate(buckets):
            if count:
                PLAY_DURATION._buckets[index].inc(count)
        PLAY_DURATION._sum.inc(duration)


buffered.register(flush)


def _forked() -> None:
    # A child of a process that had buffered (Celery's pool) starts with empty buffers.
    global _lock, _plays, _wins
    _lock, _plays, _wins = threading.Lock(), {}, {}
    _responses[:] = [0] * 6
    _buckets[:] = [0] * len(_BOUNDS)
    _duration[0] = 0.0


os.register_at_fork(after_in_child=_forked)


def count_webhook_delivery(status: str) -> None:
    WEBHOOK_DELIVERIES.labels(status).inc()
