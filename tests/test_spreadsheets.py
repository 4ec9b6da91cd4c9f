"""The XLSX downloads hold the CSVs' rows, typed and formula-safe, in flat memory; the CSVs'
semicolon dialect for Excel in Italian."""

import csv
import datetime as dt
import io
import re
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from contests.models import ApiClient, ReviewStatus, Win
from contests.staff import spreadsheets
from contests.staff.exports import safe_cell
from contests.staff.reviews import review_win
from contests.staff.spreadsheets import Spreadsheet, excel_format
from tests.clock import rome

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AFTER = rome(2020, 2, 20, 12)
WINNER_KEYS = [
    "contest",
    "prize_code",
    "prize_name",
    "day",
    "won_at",
    "player",
    "client",
    "review",
    "request_id",
]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response, delimiter: str = ",") -> list[list[str]]:
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def workbook(response) -> openpyxl.Workbook:
    assert response["Content-Type"] == XLSX
    assert "no-store" in response["Cache-Control"]
    return openpyxl.load_workbook(io.BytesIO(body(response)))


def as_csv_text(cell) -> str:
    """What the CSV writes for the value an XLSX cell holds."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        offset = re.search(r'"([+-]\d\d:\d\d)"', cell.number_format)
        if offset:  # an instant: the CSV's ISO 8601 with its offset
            return value.isoformat() + offset.group(1)
        return value.date().isoformat()  # a day
    return str(value)


def sheet_rows(sheet) -> list[list[str]]:
    return [[as_csv_text(cell) for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def wins(make_contest, make_win, staff_user):
    """Wins of two contests in two zones, with a client, a review and awkward text."""
    rome_contest = make_contest(prize_name="Sconto del 5% – caffè")
    tokyo = make_contest("TYO", time_zone="Asia/Tokyo", prize_code="tazza", prize_name="Tazza")
    first = make_win(rome_contest, rome(2020, 2, 3, 10, 15, 30), player="anna", request_id="a-1")
    make_win(rome_contest, rome(2020, 2, 4, 23, 59, 59), player='a,"b"\nc', request_id="a-2")
    make_win(tokyo, dt.datetime(2020, 2, 3, 23, 30, tzinfo=dt.UTC), request_id="t-1")
    first.client = ApiClient.objects.create(name="Acme")
    first.save(update_fields=["client"])
    review_win(first, ReviewStatus.VALIDATED, "ok", staff_user, rome(2020, 2, 5))
    return Win.objects.order_by("-won_at", "-id")


def test_the_winners_xlsx_holds_the_rows_of_the_csv(staff_client, wins):
    query = "?day_from=2020-02-01&day_to=2020-02-10"
    as_csv = csv_rows(staff_client.get(f"/winners/export/{query}"))
    response = staff_client.get(f"/winners/export.xlsx{query}")
    assert response["Content-Disposition"] == (
        'attachment; filename="winners-from-2020-02-01-to-2020-02-10.xlsx"'
    )
    [sheet] = workbook(response).worksheets
    rows = sheet_rows(sheet)
    assert as_csv[0] == WINNER_KEYS
    assert rows[0] == [
        "Contest",
        "Prize code",
        "Prize",
        "Day",
        "Won at",
        "Player",
        "Client",
        "Review",
        "Request id",
    ]
    assert rows[1:] == as_csv[1:]
    assert len(rows) == 4


def test_the_winners_xlsx_follows_the_filters(staff_client, wins):
    as_csv = csv_rows(staff_client.get("/winners/export/?contest=TYO"))
    rows = sheet_rows(workbook(staff_client.get("/winners/export.xlsx?contest=TYO")).active)
    assert rows[1:] == as_csv[1:] == [as_csv[1]]
    response = staff_client.get("/winners/export.xlsx?day_from=2020-02-06&day_to=2020-02-04")
    assert response.status_code == 400  # the page, with the filters' errors
    assert b"The last day cannot be before the first." in response.content


def test_the_cells_are_typed(staff_client, wins):
    sheet = workbook(staff_client.get("/winners/export.xlsx?contest=C0001")).active
    anna = next(row for row in sheet.iter_rows(min_row=2) if row[5].value == "anna")
    day, won_at = anna[3], anna[4]
    assert day.is_date and day.value == dt.datetime(2020, 2, 3)
    assert day.number_format == "yyyy\\-mm\\-dd"  # English: ISO order
    assert won_at.is_date and won_at.value == dt.datetime(2020, 2, 3, 10, 15, 30)
    assert won_at.number_format == 'yyyy\\-mm\\-dd hh\\:mm\\:ss "+01:00"'
    assert [cell.data_type for cell in anna] == ["s", "s", "s", "d", "d", "s", "s", "s", "s"]
    assert sheet.freeze_panes == "A2"


def test_in_italian_the_header_and_the_dates_are_italian(staff_client, wins):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    sheet = workbook(staff_client.get("/winners/export.xlsx")).active
    assert sheet.title == "Vincitori"
    assert [cell.value for cell in sheet[1]][:5] == [
        "Concorso",
        "Codice premio",
        "Premio",
        "Giorno",
        "Vinta il",
    ]
    assert sheet["D2"].number_format == "dd\\/mm\\/yyyy"
    assert {cell.value for cell in sheet["H"][1:]} == {"Convalidata", "Da verificare"}
    # The CSV says the same verdicts in Italian, under the same machine keys.
    as_csv = csv_rows(staff_client.get("/winners/export/"))
    assert as_csv[0] == WINNER_KEYS
    assert {row[7] for row in as_csv[1:]} == {"Convalidata", "Da verificare"}


def test_text_that_a_spreadsheet_could_run_is_escaped(staff_client, make_contest, make_win):
    contest = make_contest()
    dangerous = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
    for number, player in enumerate(dangerous):
        make_win(contest, rome(2020, 2, 3, 10, number), player=player, request_id=f"r-{number}")
    sheet = workbook(staff_client.get("/winners/export.xlsx")).active
    # openpyxl leaves the carriage return as the file writes it, _x000D_.
    players = {
        row[5].value.replace("_x000D_", "\r"): row[5].data_type
        for row in sheet.iter_rows(min_row=2)
    }
    assert players == {f"'{player}": "s" for player in dangerous}
    # The CSVs' own rule (exports.safe_cell), one implementation for both downloads.
    assert safe_cell("anna") == "anna"
    assert safe_cell("1-2") == "1-2"  # only a leading sign counts


def test_the_report_xlsx_holds_the_rows_of_the_csv(staff_client, wins, make_win):
    query = "?start=2020-02-01&end=2020-02-10"
    with time_machine.travel(AFTER, tick=False):
        as_csv = csv_rows(staff_client.get(f"/contests/C0001/report.csv{query}"))
        response = staff_client.get(f"/contests/C0001/report.xlsx{query}")
    assert response["Content-Disposition"] == (
        'attachment; filename="report-C0001-2020-02-01-to-2020-02-10.xlsx"'
    )
    days, winners = workbook(response).worksheets
    assert (days.title, winners.title) == ("Days", "Winners")
    blank = as_csv.index([])
    # After the winners, the CSV has the closing record (test_recovery_pages.py).
    day_rows, winner_rows = as_csv[:blank], as_csv[blank + 1 : as_csv.index([], blank + 1)]
    xlsx_days = sheet_rows(days)
    assert xlsx_days[0] == [
        "Day",
        "Plays",
        "Moments planned",
        "Awarded",
        "Disqualified",
        "Unassigned",
        "Commitment (SHA-256)",
    ]
    # The totals line: "total" in the CSV (a key), "Total" in the XLSX (a word).
    assert day_rows[-1][0] == "total" and xlsx_days[-1][0] == "Total"
    assert [row[1:] for row in xlsx_days[1:]] == [row[1:] for row in day_rows[1:]]
    assert [row[0] for row in xlsx_days[1:-1]] == [row[0] for row in day_rows[1:-1]]
    assert sheet_rows(winners)[1:] == winner_rows[1:]
    assert len(winner_rows) == 3
    assert all(cell.data_type == "n" for cell in days[2][1:6])


def test_the_report_xlsx_refuses_what_the_page_refuses(staff_client, make_contest):
    make_contest(start=dt.date(2020, 3, 1), end=dt.date(2020, 3, 31))
    with time_machine.travel(AFTER, tick=False):
        assert staff_client.get("/contests/C0001/report.xlsx").status_code == 404
        bad = staff_client.get("/contests/C0001/report.xlsx?start=2020-02-09&end=2020-02-01")
    assert bad.status_code == 400


def test_the_admin_exports_the_selected_winners_as_xlsx_too(superuser_client, wins):
    selected = list(wins.values_list("pk", flat=True)[:2])

    def export(action: str):
        data = {"action": action, "_selected_action": selected, "index": 0}
        return superuser_client.post("/admin/contests/win/", data)

    as_csv = csv_rows(export("export_csv"))
    response = export("export_xlsx")
    assert re.fullmatch(
        r'attachment; filename="winners-\d{8}T\d{6}Z\.xlsx"', response["Content-Disposition"]
    )
    rows = sheet_rows(workbook(response).active)
    assert rows[1:] == as_csv[1:]
    assert len(rows) == 3


@pytest.mark.parametrize(
    "path",
    ["/winners/export/?dialect=excel-it", "/contests/C0001/report.csv?dialect=excel-it"],
)
def test_the_excel_it_dialect_separates_with_semicolons(staff_client, wins, path):
    with time_machine.travel(AFTER, tick=False):
        semicolons = staff_client.get(path)
        commas = staff_client.get(path.replace("dialect=excel-it", "dialect=excel"))
    data = body(semicolons)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.splitlines()[0].count(b";") >= 6
    assert b"," not in data.splitlines()[0]
    assert csv_rows_of(data, ";") == csv_rows_of(body(commas), ",")


def csv_rows_of(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_an_unknown_dialect_is_refused(staff_client, make_contest):
    make_contest()
    response = staff_client.get("/winners/export/?dialect=tsv")
    assert response.status_code == 400
    assert b"Unknown CSV dialect 'tsv': use one of excel, excel-it." in response.content
    with time_machine.travel(AFTER, tick=False):
        assert staff_client.get("/contests/C0001/report.csv?dialect=x").status_code == 400


def test_the_pages_offer_every_download(staff_client, wins):
    winners = staff_client.get("/winners/?contest=C0001&page=1").content.decode()
    assert 'href="/winners/export/?contest=C0001"' in winners
    assert 'href="/winners/export/?contest=C0001&amp;dialect=excel-it"' in winners
    assert 'href="/winners/export.xlsx?contest=C0001"' in winners
    with time_machine.travel(AFTER, tick=False):
        report = staff_client.get("/contests/C0001/report/").content.decode()
    dates = "start=2020-02-01&amp;end=2020-02-20"
    assert f'href="/contests/C0001/report.xlsx?{dates}"' in report
    assert f'href="/contests/C0001/report.csv?{dates}&amp;dialect=excel-it"' in report


# The writer itself -----------------------------------------------------------------------


def read_back(book: Spreadsheet) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(book.response("t.xlsx").streaming_content)))


def test_money_is_money_and_numbers_are_numbers():
    book = Spreadsheet("t")
    book.sheet("Prizes", ["prize", "value", "count"]).append(["Tazza", Decimal("12.50"), 1234])
    [_, row] = read_back(book).active.iter_rows()
    assert (row[1].value, row[1].number_format) == (12.5, '#,##0.00 "€"')
    assert (row[2].value, row[2].number_format) == (1234, "#,##0")


def test_a_full_sheet_goes_on_in_the_next(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)  # the header and two rows
    book = Spreadsheet("t")
    sheet = book.sheet("Winners", ["n"])
    for number in range(5):
        sheet.append([number])
    sheets = read_back(book).worksheets
    assert [s.title for s in sheets] == ["Winners", "Winners (2)", "Winners (3)"]
    assert [[c.value for c in s["A"]] for s in sheets] == [["n", 0, 1], ["n", 2, 3], ["n", 4]]


def test_django_date_formats_become_excel_ones():
    assert excel_format("d/m/Y") == "dd\\/mm\\/yyyy"
    assert excel_format("Y-m-d H:i:s") == "yyyy\\-mm\\-dd hh\\:mm\\:ss"
    with pytest.raises(ValueError, match="no Excel code for 'F'"):
        excel_format("j F Y")
    with translation.override("it"):
        assert Spreadsheet("t")._datetime_format == "dd\\/mm\\/yyyy hh\\:mm\\:ss"


MEMORY_PROBE = textwrap.dedent(
    """
    import datetime as dt, os, re, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django
    django.setup()
    import xlsxwriter
    from contests.staff.spreadsheets import Spreadsheet
    rows, constant = int(sys.argv[1]), sys.argv[2] == "constant"
    if not constant:  # the check below can fail: the same rows, kept in memory
        Workbook = xlsxwriter.Workbook
        options = {"constant_memory": False}
        xlsxwriter.Workbook = lambda file, given: Workbook(file, {**given, **options})
        import contests.staff.spreadsheets as module
        module.xlsxwriter = xlsxwriter
    def peak_kib():  # this process's own peak: ru_maxrss would start from its parent's
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
    before = peak_kib()
    book = Spreadsheet("t")
    sheet = book.sheet("Winners", ["a", "b", "c", "d", "e", "f"])
    start = dt.datetime(2020, 2, 3, tzinfo=dt.UTC)
    for n in range(rows):
        sheet.append([f"player-{n}", n, start.date(), start + dt.timedelta(seconds=n), "x" * 20, n])
    book.response("t.xlsx").close()
    print(peak_kib() - before)
    """
)


def grown_kib(rows: int, mode: str = "constant") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", MEMORY_PROBE, str(rows), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
@pytest.mark.timeout(600)
def test_a_hundred_thousand_rows_take_no_more_memory_than_ten_thousand():
    probes = {"small": grown_kib(10_000), "large": grown_kib(100_000)}
    grown = {name: int(probe.communicate(timeout=500)[0]) for name, probe in probes.items()}
    assert grown["large"] - grown["small"] < 8 * 1024, grown  # KiB: flat, within noise
    # Without constant memory, a fifth of the rows already takes far more.
    kept = int(grown_kib(20_000, "in-memory").communicate(timeout=300)[0])
    assert kept - grown["small"] > 16 * 1024, (kept, grown)
