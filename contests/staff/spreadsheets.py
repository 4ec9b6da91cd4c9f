"""The XLSX downloads beside the CSVs: the winners (the portal's export and the admin's
action) and the closing report, with the same rows as their CSVs (exports.py).

xlsxwriter in constant-memory mode: each row goes to a temporary file as it is written and
is never kept, so 10⁵ rows or a million take the same memory, and the wins are read from
the database in chunks as for the CSVs. An XLSX file is a zip archive that is complete
only once its last row is in, so the workbook is assembled in a temporary file, then sent
from disk. A sheet holds at most 1,048,576 rows (Excel's limit): longer lists go on in a
next sheet, under the same header.

Typed cells: days are dates and instants date-times (on the contest's clock, its UTC
offset written beside, as the CSV's ISO 8601 has it), counts are numbers and amounts of
money are money, each shown in the staff's language's own way (01/12/2026 in Italian);
text is text. The header is the columns' names in the staff's language, where the CSV
has machine keys. Text cells are formula-safe as OWASP asks of CSVs: a cell that starts
with = + - @, a tab or a carriage return gets a leading "'" (xlsxwriter's write_string
never makes a formula of text anyway; the mark keeps the cell as the CSV's), by the CSVs'
own exports.safe_cell.
"""

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..models import Win
from .exports import CHUNK_SIZE, safe_cell
from .reports import ClosingReport, DayLine
from .winners import WINNER_COLUMNS, related_of

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_576  # per sheet, the header included
MAX_TEXT = 32_767  # characters per cell
# A sheet's name: at most 31 characters, none of these.
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "-" for c in "[]:*?/\\"})

# Django's date format letters and Excel's number format codes for them.
_EXCEL_CODES = {
    "d": "dd",
    "j": "d",
    "m": "mm",
    "n": "m",
    "Y": "yyyy",
    "y": "yy",
    "H": "hh",
    "G": "h",
    "i": "mm",
    "s": "ss",
}


def excel_format(django_format: str) -> str:
    """The Excel number format of a Django date format made of d j m n Y y H G i s and
    separators: "d/m/Y" → dd/mm/yyyy, "Y-m-d H:i:s" → yyyy-mm-dd hh:mm:ss."""
    parts = []
    for char in django_format:
        if char in _EXCEL_CODES:
            parts.append(_EXCEL_CODES[char])
        elif char.isalpha():
            raise ValueError(f"no Excel code for {char!r} in {django_format!r}")
        else:
            parts.append(f"\\{char}" if char not in " " else char)
    return "".join(parts)


def _utc_offset(value: dt.datetime) -> str:
    """+01:00, as ISO 8601 writes it."""
    offset = value.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(offset) // dt.timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class Spreadsheet:
    """A workbook being written, one sheet after another, each row once and in order."""

    def __init__(self, title: str) -> None:
        # Deleted as soon as it is closed: when the response has been sent.
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response)
        self.workbook = xlsxwriter.Workbook(
            self.file,
            {
                "constant_memory": True,
                # Text stays text: never a formula, a link or a number.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.workbook.set_properties({"title": title, "author": _("Contest Portal")})
        self._formats: dict[str, Any] = {}
        self.header_format = self.workbook.add_format({"bold": True, "bottom": 1})
        self.date_format = self._number_format(
            excel_format(formats.get_format("SHORT_DATE_FORMAT"))
        )
        self._datetime_format = excel_format(formats.get_format("SECONDS_DATETIME_FORMAT"))
        self.integer_format = self._number_format("#,##0")
        self.money_format = self._number_format('#,##0.00 "€"')

    def _number_format(self, code: str) -> Any:
        if code not in self._formats:
            self._formats[code] = self.workbook.add_format({"num_format": code})
        return self._formats[code]

    def sheet(self, name: str, header: Sequence[str], widths: Sequence[int] = ()) -> "Sheet":
        return Sheet(self, name, [str(label) for label in header], widths)

    def datetime_format(self, value: dt.datetime) -> Any:
        """The date-time's format, with its UTC offset written after it (Excel has no zones)."""
        if value.tzinfo is None:
            return self._number_format(self._datetime_format)
        return self._number_format(f'{self._datetime_format} "{_utc_offset(value)}"')

    def response(self, filename: str) -> FileResponse:
        """Finish the workbook and send it as a download named `filename`."""
        self.workbook.close()
        self.file.seek(0)
        response = FileResponse(
            self.file, as_attachment=True, filename=filename, content_type=CONTENT_TYPE
        )
        response["Cache-Control"] = "no-store"
        return response


class Sheet:
    """Rows added in order to a worksheet, and to the next ones when it is full."""

    def __init__(
        self, book: Spreadsheet, name: str, header: list[str], widths: Sequence[int]
    ) -> None:
        self.book = book
        self.name = name.translate(_SHEET_NAME_FORBIDDEN)[:25]
        self.header = header
        self.widths = list(widths) or [max(12, len(label) + 2) for label in header]
        self.count = 0
        self._start()

    def _start(self) -> None:
        self.count += 1
        name = self.name if self.count == 1 else f"{self.name} ({self.count})"
        self.worksheet = self.book.workbook.add_worksheet(name)
        for column, width in enumerate(self.widths):
            self.worksheet.set_column(column, column, width)
        self.worksheet.freeze_panes(1, 0)
        for column, label in enumerate(self.header):
            self.worksheet.write_string(0, column, label, self.book.header_format)
        self.row = 1

    def append(self, values: Iterable[object]) -> None:
        if self.row == MAX_ROWS:
            self._start()
        for column, value in enumerate(values):
            self._write(column, value)
        self.row += 1

    def skip(self) -> None:
        """An empty row."""
        self.append(())

    def _write(self, column: int, value: object) -> None:
        sheet, row, book = self.worksheet, self.row, self.book
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, Decimal):
            sheet.write_number(row, column, float(value), book.money_format)
        elif isinstance(value, int):
            sheet.write_number(row, column, value, book.integer_format)
        elif isinstance(value, float):
            sheet.write_number(row, column, value)
        elif isinstance(value, dt.datetime):
            local = value.replace(tzinfo=None)
            sheet.write_datetime(row, column, local, book.datetime_format(value))
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, column, value, book.date_format)
        else:
            sheet.write_string(row, column, str(safe_cell(str(value)))[:MAX_TEXT])


def _winner_rows(wins: QuerySet[Win]) -> Iterable[list[object]]:
    rows = wins.select_related(*related_of(WINNER_COLUMNS))
    for win in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [column.typed(win) for column in WINNER_COLUMNS]


WINNER_WIDTHS = [12, 22, 28, 12, 30, 20, 20, 16, 36]


def _winners_sheet(book: Spreadsheet, wins: QuerySet[Win]) -> None:
    header = [column.label for column in WINNER_COLUMNS]
    sheet = book.sheet(_("Winners"), header, WINNER_WIDTHS)
    for row in _winner_rows(wins):
        sheet.append(row)


def winners_xlsx_response(wins: QuerySet[Win], filename: str) -> FileResponse:
    """A download of `wins` as XLSX named `filename`, in the queryset's order."""
    book = Spreadsheet(_("Winners"))
    _winners_sheet(book, wins)
    return book.response(filename)


def report_day_header() -> list[str]:
    """The days' columns, named as the report page names them."""
    return [
        _("Day"),
        _("Plays"),
        _("Moments planned"),
        _("Awarded"),
        _("Disqualified"),
        _("Unassigned"),
        _("Commitment (SHA-256)"),
    ]


def report_day_row(day: object, line: DayLine) -> list[object]:
    return [
        day,
        line.plays,
        line.planned,
        line.awarded,
        line.disqualified,
        line.unassigned,
        " ".join(line.commitments),
    ]


def closing_report_xlsx_response(report: ClosingReport, filename: str) -> FileResponse:
    """The report as XLSX: a sheet of the days and their total, then one of every winner."""
    title = _("Closing report · %(code)s") % {"code": report.contest.code}
    book = Spreadsheet(title)
    days = book.sheet(_("Days"), report_day_header(), [14, 12, 16, 12, 14, 16, 70])
    for line in report.days:
        days.append(report_day_row(line.day, line))
    days.append(report_day_row(pgettext("report", "Total"), report.total))
    _winners_sheet(book, report.winners())
    return book.response(filename)
