"""gunicorn's settings for the portal behind Nginx, read from the environment.

Used by the production image (`gunicorn --config deploy/gunicorn.conf.py portal.wsgi`) and
by the topology test, which starts gunicorn exactly so. See docs/deploy.md.
"""

import gc
import os
import sys
from pathlib import Path

# The project, importable from here: the log formats and the metrics' files live in portal/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gunicorn.glogging import Logger

from portal import logs, metrics


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# The cores this process may use: inside a container, cpu_count() would see the whole host.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

# All addresses of the container; only Nginx can reach them (no published port).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# GUNICORN_WORKERS, else WEB_CONCURRENCY (which gunicorn itself refuses empty, so compose
# files, which cannot leave a variable out, pass GUNICORN_WORKERS).
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * (_cores or 1) + 1))

# gthread rather than sync: Nginx keeps connections to gunicorn open (upstream keepalive),
# which a sync worker cannot do (it closes after every answer), and a thread waiting on
# PostgreSQL lets its sibling answer the many plays that need no I/O at all. Each worker
# keeps the play path's memory and batches of its own (docs/design.md), and Django opens
# one connection per thread, so a replica holds up to workers × (threads + 1) PostgreSQL
# connections (the + 1: the thread that writes the batches).
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 2)
# Longer than Nginx's upstream keepalive_timeout (60 s): the side that closes an idle
# connection must be Nginx, or it may send a request on a connection gunicorn just closed.
keepalive = 75

# A play is a few milliseconds; a request still running after this is stuck.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# Recycle workers now and then so a slow leak can never grow without bound; the jitter keeps
# them from restarting all at once. High: at full load a worker answers ~1 000 plays a
# second, and each restart costs its memory of contests and tokens.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1_000_000)
max_requests_jitter = max_requests // 10

# The heartbeat file on tmpfs: on a container's overlay disk, its fchmod can stall workers.
# (gunicorn creates it there with mkstemp, so a shared directory is safe.)
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Only Nginx can reach this port (it is never published), and Nginx's address in a compose
# network is not known in advance, so trust whoever connects, and only this one header,
# which Nginx always overwrites. Django decides on HTTPS itself (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# One line per request on stdout, with the request id Nginx passes on (the same id is on
# Nginx's and Django's lines for that request). The path without its query string: plays
# carry player ids (?user=…), personal data that stays out of the logs. Off in the
# production image, where Nginx already writes one line per request and the play log
# another: GUNICORN_ACCESS_LOG=false.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "true").lower() != "false" else None
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s '
    "for=%({x-forwarded-for}i)s"
)


class PortalLogger(Logger):
    """gunicorn's logger, writing the access line only when `accesslog` says so.

    gunicorn alone turns the access line on whenever a logconfig_dict is given (ours always
    is), and then builds each line's fields even when nobody wants them: with
    GUNICORN_ACCESS_LOG=false, every play still cost a line.
    """

    @property
    def access_log_enabled(self) -> bool:
        return bool(self.cfg.accesslog)


logger_class = PortalLogger

errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Both in Django's format (DJANGO_LOG_FORMAT: text or json) and in UTC, as Django's are.
logconfig_dict = logs.gunicorn_logging(os.environ.get("DJANGO_LOG_FORMAT", "text"), loglevel)

# Operators scale with `docker compose --scale`, not gunicornc; and the socket's default
# path is per user, so two gunicorns on one host (CI, a developer's machine) would contend.
control_socket_disable = True


# Metrics (docs/monitoring.md): with PROMETHEUS_MULTIPROC_DIR each worker writes its own
# files there and /metrics adds them up. Emptied at start (an earlier run's files would be
# counted again); an exited worker's counts are folded into one archive file per kind, so
# recycled workers neither lose counts nor pile up files.
def on_starting(server):
    metrics.prepare_directory()


def post_worker_init(worker):
    """Keep what the worker loaded at start out of the garbage collector's full passes.

    A full pass walked every object Django and the portal had loaded (over 100 000: about
    60 ms on the development VM) while the worker's threads waited, and the plays queued
    behind it made the p99. Frozen, a full pass walks only what was made since.
    """
    gc.freeze()


def worker_exit(server, worker):
    """Write the worker's buffered play counts, token uses, log lines and metrics."""
    from contests import buffered

    buffered.write_all()


def child_exit(server, worker):
    metrics.process_exited(worker.pid)
