"""Importing a prize's voucher codes from a text or CSV file: all of it, or nothing.

The file is read a batch at a time, so memory stays flat whatever its size. Every line is
checked first; one invalid line and nothing is stored (the report names each one, by line
number). Codes already in the pool, or twice in the file, are skipped and counted.
PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING; elsewhere
batched INSERTs … ON CONFLICT DO NOTHING. Codes never appear in the report: only line numbers.
"""

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Prize, Voucher
from ..voucher_records import VOUCHER_CODE_MAX_LENGTH

BATCH = 10_000
# Invalid lines named in the report; the rest are only counted.
INVALID_LISTED = 50
# Header cells taken for a header, not for a code, on the first line of a CSV.
HEADERS = {"code", "codes", "voucher", "vouchers", "voucher_code"}


@dataclass
class ImportReport:
    read: int = 0  # valid codes read, duplicates included
    added: int = 0
    duplicates: int = 0
    invalid: int = 0
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.invalid == 0


_VALID = re.compile(rf"[!-~]{{1,{VOUCHER_CODE_MAX_LENGTH}}}")


def code_problem(code: str) -> str | None:
    """Why `code` cannot be a voucher code, or None: 1–64 printable ASCII, no spaces."""
    if _VALID.fullmatch(code):
        return None
    if not code:
        return _("empty code")
    if len(code) > VOUCHER_CODE_MAX_LENGTH:
        return _("longer than %(max)s characters") % {"max": VOUCHER_CODE_MAX_LENGTH}
    return _("only printable ASCII characters without spaces are allowed")


def read_codes(lines: Iterable[str], *, is_csv: bool) -> Iterator[tuple[int, str]]:
    """(line number, code) for each line that holds one: the first cell of a CSV."""
    if not is_csv:
        for number, line in enumerate(lines, start=1):
            if code := line.strip():
                yield number, code
        return
    for number, row in enumerate(csv.reader(lines), start=1):
        code = row[0].strip() if row else ""
        if code and not (number == 1 and code.lower() in HEADERS):
            yield number, code


def import_vouchers(prize: Prize, stream: io.TextIOBase, *, is_csv: bool = False) -> ImportReport:
    """Add the file's codes to the prize's pool: all of them, or none if a line is invalid."""
    report = ImportReport()
    codes = _valid_codes(read_codes(stream, is_csv=is_csv), report)
    with transaction.atomic():
        # The prize first: two imports to one pool run one after the other.
        Prize.objects.select_for_update().filter(pk=prize.pk).update(has_voucher_pool=True)
        if connection.vendor == "postgresql":
            read = _copy_codes(prize, codes)
        else:
            read = _insert_codes(prize, codes, report)
        report.read = read
        if not report.ok or read == 0:
            transaction.set_rollback(True)
            report.added = report.duplicates = 0
            return report
        if connection.vendor == "postgresql":
            report.added = _insert_copied(prize)
        report.duplicates = read - report.added
    prize.has_voucher_pool = True
    return report


def _valid_codes(numbered: Iterator[tuple[int, str]], report: ImportReport) -> Iterator[str]:
    for number, code in numbered:
        problem = code_problem(code)
        if problem is None:
            yield code
            continue
        report.invalid += 1
        if len(report.invalid_lines) < INVALID_LISTED:
            report.invalid_lines.append((number, problem))


def _insert_codes(prize: Prize, codes: Iterator[str], report: ImportReport) -> int:
    """Batched INSERTs that skip the codes already there; return how many codes were read."""
    table = connection.ops.quote_name(Voucher._meta.db_table)
    statement = (
        f"INSERT INTO {table} (prize_id, code, redeemed_via) "  # noqa: S608 (our names)
        "VALUES (%s, %s, '') ON CONFLICT DO NOTHING"
    )
    read = 0
    before = Voucher.objects.filter(prize=prize).count()
    with connection.cursor() as cursor:
        while batch := list(itertools.islice(codes, BATCH)):
            read += len(batch)
            if report.ok:  # after an invalid line, only the checking goes on
                cursor.executemany(statement, [(prize.pk, code) for code in batch])
    report.added = Voucher.objects.filter(prize=prize).count() - before
    return read


_STAGING = "voucher_import"


def _copy_codes(prize: Prize, codes: Iterator[str]) -> int:
    """COPY the codes into a temporary table dropped at commit; return how many were read."""
    counted = _Counted(codes)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Dropped at commit, and before: an outer transaction may import twice.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGING}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING} (code text) ON COMMIT DROP")
        # Valid codes hold no tabs nor newlines; their backslashes are escaped (_Lines).
        lines = _Lines(counted)
        cursor.copy_expert(f"COPY {_STAGING} (code) FROM STDIN", lines, 256 * 1024)
    if lines.failure is not None:
        raise lines.failure  # the file's own error (unreadable, not UTF-8), not COPY's
    return counted.count


def _insert_copied(prize: Prize) -> int:
    """Insert the staged codes the pool lacks; return how many.

    A plain INSERT of the distinct new codes, not ON CONFLICT (several times slower per row):
    the prize's row, locked by import_vouchers(), keeps a second import of this pool out.
    """
    table = connection.ops.quote_name(Voucher._meta.db_table)
    with connection.cursor() as cursor:
        # The planner's row counts for the staged codes: a hash join, not a million lookups.
        cursor.execute(f"ANALYZE {_STAGING}")
        cursor.execute(
            f"INSERT INTO {table} (prize_id, code, redeemed_via) "  # noqa: S608 (our names)
            f"SELECT %s, staged.code, '' FROM (SELECT DISTINCT code FROM {_STAGING}) staged "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} pool "
            "WHERE pool.code = staged.code AND pool.prize_id = %s)",
            [prize.pk, prize.pk],
        )
        return cursor.rowcount


class _Counted:
    def __init__(self, codes: Iterator[str]):
        self.codes, self.count = codes, 0

    def __iter__(self):
        for code in self.codes:
            self.count += 1
            yield code


class _Lines(io.RawIOBase):
    """The codes as COPY's input, a batch at a time as COPY reads them."""

    def __init__(self, codes: Iterable[str]):
        self._codes = iter(codes)
        self._pending = memoryview(b"")
        self.failure: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                batch = list(itertools.islice(self._codes, BATCH))
            except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
                self.failure, batch = exc, []
            if not batch:
                return 0
            text = "\n".join(batch).replace("\\", "\\\\") + "\n"
            self._pending = memoryview(text.encode())
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def report_lines(report: ImportReport) -> list[str]:
    """What an import did, for people: the counts, or why nothing was imported."""
    if not report.ok:
        lines = [
            ngettext(
                "Nothing imported: %(count)s line is invalid.",
                "Nothing imported: %(count)s lines are invalid.",
                report.invalid,
            )
            % {"count": report.invalid}
        ]
        lines += [
            _("Line %(number)s: %(problem)s.") % {"number": number, "problem": problem}
            for number, problem in report.invalid_lines
        ]
        if report.invalid > len(report.invalid_lines):
            lines.append(
                _("… and %(count)s more.") % {"count": report.invalid - len(report.invalid_lines)}
            )
        return lines
    if not report.read:
        return [_("Nothing imported: the file holds no codes.")]
    return [
        _("%(added)s code(s) added, %(duplicates)s duplicate(s) skipped, 0 invalid lines.")
        % {"added": report.added, "duplicates": report.duplicates}
    ]
