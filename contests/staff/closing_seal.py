"""The sealed closing record (issue 18, item 4): the SHA-256 of the closing report's CSV,
shown on the printed report and, once the contest is over and the report covers all of
it, timestamped by the TSA (contests/evidence/timestamps.py).

The digest is of the exact bytes of "Download CSV" (comma-separated, UTF-8 with its byte
order mark) for the same period and language: `sha256sum` of the downloaded file gives
it. A later change to the record (a win reviewed, a row rewritten) gives another digest.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from ..evidence import timestamps
from ..models import Contest, Timestamp, TimestampRequest
from .closing_exports import closing_record_lines
from .closing_record import closing_record
from .reports import ClosingReport, closing_report


def closing_record_digest(report: ClosingReport) -> str:
    """SHA-256 (hex) of the report's CSV, as downloaded in the active language: the days,
    the winners and the closing record (contests/staff/closing_exports.py)."""
    digest = hashlib.sha256()
    for line in closing_record_lines(report, closing_record(report.contest)):
        digest.update(line.encode())
    return digest.hexdigest()


def whole_contest_report(contest: Contest) -> ClosingReport | None:
    """The closing report of all the contest's days; None before it has begun."""
    return closing_report(contest, contest.start, contest.end)


@dataclass(frozen=True)
class ClosingSeal:
    digest: str
    # The closing record proper: the whole contest, once it is over. Only that is stamped.
    final: bool
    request: TimestampRequest | None
    timestamp: Timestamp | None


def closing_seal(report: ClosingReport, today: dt.date) -> ClosingSeal:
    """The report's digest; for the closing record, its timestamp (requested if need be)."""
    contest = report.contest
    digest = closing_record_digest(report)
    final = report.start == contest.start and report.end == contest.end and today > contest.end
    request = None
    if final:
        request = timestamps.request_timestamp(timestamps.CLOSING_RECORD, contest.code, digest)
    stamp = Timestamp.objects.filter(request=request).first() if request else None
    return ClosingSeal(digest, final, request, stamp)


# Contests over for at most this long get their closing record sealed by the job.
SEAL_WITHIN = dt.timedelta(days=7)


def seal_closed_contests(now: dt.datetime) -> int:
    """Request a timestamp for the closing record of every contest over (in its zone) for
    at most SEAL_WITHIN that has none yet, in the portal's language; return how many.
    The job stamp_timestamps runs it, so a record is sealed even if nobody prints it."""
    sealed = set(
        TimestampRequest.objects.filter(kind=timestamps.CLOSING_RECORD).values_list(
            "reference", flat=True
        )
    )
    utc_today = now.date()
    recent = Contest.objects.filter(
        end__lt=utc_today + dt.timedelta(days=1), end__gte=utc_today - SEAL_WITHIN
    ).exclude(code__in=sealed)
    requested = 0
    for contest in recent:
        today = contest.local_date(now)
        if today <= contest.end:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            if closing_seal(whole_contest_report(contest), today).request is not None:
                requested += 1
    return requested
