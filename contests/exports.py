"""The winners' CSV: one writer for the portal's export and the admin's action.

Streamed row by row over a database iterator, so an export of a whole contest never
holds all its wins in memory. UTF-8 with a byte order mark: without it Excel, which is
what most people open a CSV with, reads the file as the local code page and garbles
prize and player names such as "Sconto del 5% – caffè"; every CSV reader that knows
UTF-8 skips the mark (Python's "utf-8-sig", pandas, LibreOffice).
"""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from .models import Win
from .winners import WINNER_COLUMNS, related_of

BYTE_ORDER_MARK = "\ufeff"
# Rows fetched per round trip (and per server-side cursor fetch on PostgreSQL).
CHUNK_SIZE = 2000


class _Echo:
    """A file-like object that hands back what the csv writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def winner_lines(wins: QuerySet[Win]) -> Iterator[str]:
    """The CSV's lines: the header, then one line per win in the queryset's order."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK + writer.writerow([column.key for column in WINNER_COLUMNS])
    rows = wins.select_related(*related_of(WINNER_COLUMNS))
    for win in rows.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow([column.text(win) for column in WINNER_COLUMNS])


def winners_csv_response(wins: QuerySet[Win], filename: str) -> StreamingHttpResponse:
    """A download of `wins` as CSV named `filename` (letters, digits, "-", "_", "." only)."""
    response = StreamingHttpResponse(winner_lines(wins), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
