"""GET /metrics for Prometheus, and the multiprocess files behind it (docs/monitoring.md).

With PROMETHEUS_MULTIPROC_DIR set (the image sets it), each process writes its metrics to
files in that directory and a scrape adds up every file: gunicorn's workers in a web
container, the pool processes in a worker container. Each container has a directory of its
own (pids are only unique inside one), and Prometheus scrapes each container.

- gunicorn (deploy/gunicorn.conf.py) empties the directory when it starts, and when a worker
  exits folds that worker's counters and histograms into one archive file per kind, so
  recycled workers (max_requests) never pile up files and no count is lost;
- the job worker (contests/jobs.py) empties it when it starts and serves these same metrics
  on JOB_METRICS_PORT.

/metrics is answered by the first middleware, before Django's host check and the HTTPS
redirect, because Prometheus addresses each replica by its IP. It is for the inside of the
network only: Nginx refuses it, and so does this view when a proxy forwarded the request.
"""

import glob
import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.mmap_dict import MmapedDict

PATH = "/metrics"
# Kinds whose values add up across processes: a dead process's share is kept.
_ADDITIVE = ("counter", "histogram")


def directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Collector(multiprocess.MultiProcessCollector):
    """The files of every process; a file folded into an archive mid-scrape is read again."""

    def collect(self):
        for _ in range(2):
            try:
                return list(super().collect())
            except FileNotFoundError:
                continue
        return list(super().collect())


def registry():
    """What a scrape reads: every process's files, or this process alone without the dir."""
    if directory() is None:
        return REGISTRY
    collected = CollectorRegistry()
    _Collector(collected)
    return collected


def exposition() -> bytes:
    return generate_latest(registry())


class MetricsMiddleware:
    """Answer GET /metrics first of all; count every other answer by its status class."""

    def __init__(self, get_response):
        from contests.metrics import count_response

        self.get_response = get_response
        self.count = count_response

    def __call__(self, request):
        if request.path_info == PATH:
            return metrics(request)
        response = self.get_response(request)
        self.count(response.status_code)
        return response


def metrics(request):
    from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound

    # Nginx sets X-Forwarded-For on everything it passes on, and refuses /metrics itself;
    # should that rule ever go, this one still holds.
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return HttpResponseNotFound()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    # The text format every Prometheus reads (our names need none of 1.0.0's escaping).
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response["Cache-Control"] = "no-store"
    return response


# The multiprocess directory --------------------------------------------------------------


def prepare_directory() -> None:
    """Create the directory, emptied: files of an earlier run would be counted again."""
    path = directory()
    if path is None:
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    for name in glob.glob(os.path.join(path, "*.db")):
        os.remove(name)


def process_exited(pid: int) -> None:
    """A process is gone: fold its additive values into the archives, drop its gauges."""
    path = directory()
    if path is None:
        return
    for kind in _ADDITIVE:
        dead = os.path.join(path, f"{kind}_{pid}.db")
        if not os.path.exists(dead):
            continue
        archive = MmapedDict(os.path.join(path, f"{kind}_archive.db"))
        try:
            for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(dead):
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, 0.0)
        finally:
            archive.close()
        os.remove(dead)
    multiprocess.mark_process_dead(pid, path)


def serve_on(port: int) -> None:
    """Serve this container's metrics on `port` from a thread (the job worker's)."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=registry())
