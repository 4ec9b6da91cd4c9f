"""Log formats for Django, gunicorn and the job worker: text (the default) or JSON, in UTC.

DJANGO_LOG_FORMAT=text writes `2026-11-28 09:00:00.123Z INFO contests.play [rid] …`;
DJANGO_LOG_FORMAT=json writes one JSON object per line with `timestamp` (ISO 8601, UTC),
`level`, `logger`, `request_id`, `message` and whatever fields the call passed as
`extra` (a play's contest, outcome, status and duration_ms). Both use UTC whatever the
process's zone: Django sets TZ to TIME_ZONE in every process that loads it, so without
this its lines and gunicorn's master would disagree. See docs/monitoring.md.

No Django import here: gunicorn's configuration (deploy/gunicorn.conf.py) uses it too.
"""

import logging
import time

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FORMATS = ("text", "json")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(request_id)s %(message)s"
JSON_RENAMED = {"levelname": "level", "name": "logger"}


class UTCFormatter(logging.Formatter):
    """logging.Formatter with times in UTC: `2026-11-28 09:00:00.123Z` by default."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%d %H:%M:%S"
    default_msec_format = "%s.%03dZ"


class JsonFormatter(_JsonFormatter):
    """One JSON object per record; `timestamp` is ISO 8601 in UTC (python-json-logger's)."""

    def __init__(self, fmt: str = JSON_FIELDS, **kwargs):
        kwargs.setdefault("rename_fields", JSON_RENAMED)
        kwargs.setdefault("timestamp", True)
        super().__init__(fmt, **kwargs)


def formatter(log_format: str) -> dict:
    """The dictConfig formatter for Django's and the worker's lines."""
    if log_format == "json":
        return {"()": "portal.logs.JsonFormatter"}
    return {"()": "portal.logs.UTCFormatter", "format": TEXT_FORMAT}


def checked(log_format: str) -> str:
    value = (log_format or "text").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"DJANGO_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    return value


def gunicorn_logging(log_format: str, level: str = "info") -> dict:
    """gunicorn's logconfig_dict: its error and access lines in the same format, in UTC.

    The access line is gunicorn's access_log_format (the message); errors keep gunicorn's
    usual shape (`[time] [pid] [LEVEL] message`) in text. Neither propagates to the root
    logger, where Django's handler would print them a second time.
    """
    if checked(log_format) == "json":
        error = access = {"()": "portal.logs.JsonFormatter"}
    else:
        error = {
            "()": "portal.logs.UTCFormatter",
            "format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "[%Y-%m-%d %H:%M:%S +0000]",
        }
        access = {"()": "portal.logs.UTCFormatter", "format": "%(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {"portal_error": error, "portal_access": access},
        "handlers": {
            "portal_error": {
                "class": "logging.StreamHandler",
                "formatter": "portal_error",
                "stream": "ext://sys.stderr",
            },
            "portal_access": {
                "class": "logging.StreamHandler",
                "formatter": "portal_access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {
                "level": level.upper(),
                "handlers": ["portal_error"],
                "propagate": False,
            },
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["portal_access"],
                "propagate": False,
            },
        },
    }
