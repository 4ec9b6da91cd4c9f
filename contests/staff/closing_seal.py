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

from ..evidence import timestamps
from ..models import Contest, Timestamp, TimestampRequest
from .exports import closing_report_lines
from .reports import ClosingReport, closing_report


def closing_record_digest(report: ClosingReport) -> str:
    """SHA-256 (hex) of the report's CSV, as downloaded in the active language."""
    digest = hashlib.sha256()
    for line in closing_report_lines(report):
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
