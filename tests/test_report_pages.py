"""The closing report's pages: printable HTML and CSV, agreeing exactly with the database."""

import csv
import datetime as dt
import io
import random
import re
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth.models import User

from contests.models import ApiClient, Contest, DayPlan, ReviewStatus, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.play.simulation import simulate_day
from contests.staff.reports import closing_report
from contests.staff.reviews import review_win
from contests.staff.winners import WINNER_COLUMNS
from tests.clock import ROME, rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2020, 2, 10)
WEEK = [MONDAY + dt.timedelta(days=n) for n in range(7)]
AFTER_THE_WEEK = rome(2020, 2, 20, 12)
WEEK_QUERY = "start=2020-02-10&end=2020-02-16"
DAY_HEADER = [
    "day",
    "plays",
    "moments_planned",
    "awarded",
    "disqualified",
    "unassigned",
    "commitments",
]


def get(client, url, at=AFTER_THE_WEEK):
    with time_machine.travel(at, tick=False):
        return client.get(url)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


class _Cells(HTMLParser):
    """The text of each cell (th or td) of each row of the table with a given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # tables open inside (and including) the one wanted
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_cells(response, table_id: str) -> list[list[str]]:
    parser = _Cells(table_id)
    parser.feed(response.content.decode())
    return parser.rows


def numbers(line) -> list[int]:
    """A report line's figures, in the order of the table's and the CSV's columns."""
    return [line.plays, line.planned, line.awarded, line.disqualified, line.unassigned]


@pytest.fixture
def reviewer():
    return User.objects.create_user("rita", is_staff=True)


@pytest.fixture
def week(make_contest, reviewer) -> Contest:
    """A week played through the real draw; Thursday is quiet, two of Wednesday's wins lose."""
    contest = make_contest(perday=6)
    for day in WEEK:
        plays = 3 if day.weekday() == 3 else 120
        simulate_day([contest], day, {contest.pk: plays}, random.Random(day.day))
    wednesday = list(Win.objects.filter(day=WEEK[2]).order_by("won_at"))
    for win in wednesday[:2]:
        review_win(win, ReviewStatus.DISQUALIFIED, "Invalid receipt", reviewer, rome(2020, 2, 20))
    review_win(wednesday[2], ReviewStatus.VALIDATED, "OK", reviewer, rome(2020, 2, 20))
    acme = ApiClient.objects.create(name="Acme – caffè")
    Win.objects.filter(day=WEEK[0]).update(client=acme, player="player-7")
    return contest


# Who may read it


def test_it_is_for_staff_only(client, outsider_client, staff_client, make_contest):
    make_contest()
    with time_machine.travel(AFTER_THE_WEEK, tick=False):
        assert_staff_only("/contests/C0001/report/", client, outsider_client, staff_client)
        assert_staff_only("/contests/C0001/report.csv", client, outsider_client, staff_client)


def test_it_lets_auditors_read_the_report(auditor_client, make_contest):
    make_contest()
    assert get(auditor_client, "/contests/C0001/report/").status_code == 200
    response = get(auditor_client, "/contests/C0001/report.csv")
    assert response.status_code == 200
    assert csv_rows(response)[0] == DAY_HEADER


def test_it_answers_404_for_an_unknown_contest(staff_client):
    assert get(staff_client, "/contests/C0404/report/").status_code == 404
    assert get(staff_client, "/contests/C0404/report.csv").status_code == 404


# The numbers


def test_its_page_agrees_with_the_database_on_a_simulated_week(staff_client, week):
    response = get(staff_client, f"/contests/C0001/report/?{WEEK_QUERY}")
    assert response.status_code == 200
    report = response.context["report"]
    expected = closing_report(week, WEEK[0], WEEK[-1])
    assert [line.day for line in report.days] == WEEK
    assert [numbers(line) for line in report.days] == [numbers(line) for line in expected.days]
    assert numbers(report.total) == numbers(expected.total) == [723, 42, 39, 2, 5]
    for line in report.days:
        wins = Win.objects.filter(contest=week, day=line.day)
        plans = DayPlan.objects.filter(prize__contest=week, day=line.day)
        unclaimed = WinningMoment.objects.filter(contest=week, day=line.day, claimed=False)
        assert line.planned == sum(plans.values_list("moment_count", flat=True))
        assert line.awarded == wins.count()
        assert line.disqualified == wins.filter(review_status="disqualified").count()
        assert line.unassigned == unclaimed.count() + line.disqualified
        assert line.commitments == list(plans.values_list("commitment", flat=True))

    rows = table_cells(response, "report-days")
    commitment = DayPlan.objects.get(day=WEEK[2]).commitment
    assert rows[3] == ["Wed 12 Feb 2020", "120", "6", "6", "2", "2", commitment]
    assert rows[4][:6] == ["Thu 13 Feb 2020", "3", "6", "3", "0", "3"]
    assert rows[-1] == ["Total", "723", "42", "39", "2", "5", ""]
    assert f'<code class="commitment">{commitment}</code>' in response.content.decode()


def test_its_page_lists_every_winner_in_time_order(staff_client, week):
    response = get(staff_client, f"/contests/C0001/report/?{WEEK_QUERY}")
    rows = table_cells(response, "report-winners")
    assert rows[0] == [
        "Won at",
        "Prize code",
        "Prize",
        "Player",
        "Client",
        "Review",
        "Request id",
    ]
    wins = Win.objects.select_related("prize", "client").order_by("won_at", "id")
    assert len(rows) == 1 + 39
    for row, win in zip(rows[1:], wins, strict=True):
        assert row == [
            win.won_at.astimezone(ROME).strftime("%Y-%m-%d %H:%M:%S"),
            "five-percent-discount",
            "Sconto del 5%",
            win.player or "—",
            win.client.name if win.client else "",
            win.get_review_status_display(),
            win.request_id,
        ]
    cells = [cell for row in rows for cell in row]
    assert "Acme – caffè" in cells and "player-7" in cells
    assert cells.count("Disqualified") == 2


def test_its_csv_agrees_with_the_database_on_a_simulated_week(staff_client, week):
    response = get(staff_client, f"/contests/C0001/report.csv?{WEEK_QUERY}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="report-C0001-2020-02-10-to-2020-02-16.csv"'
    )
    rows = csv_rows(response)
    expected = closing_report(week, WEEK[0], WEEK[-1])
    assert rows[0] == DAY_HEADER
    assert rows[1:8] == [
        [
            line.day.isoformat(),
            *map(str, numbers(line)),
            " ".join(DayPlan.objects.filter(day=line.day).values_list("commitment", flat=True)),
        ]
        for line in expected.days
    ]
    assert rows[8] == ["total", "723", "42", "39", "2", "5", ""]
    assert rows[9] == []
    assert rows[10] == [column.key for column in WINNER_COLUMNS]
    winners = rows[11 : rows.index([], 11)]  # then the closing record (test_recovery_pages.py)
    assert len(winners) == Win.objects.count() == 39


def test_its_csv_lists_every_winner_as_the_winners_export_does(staff_client, week):
    report = csv_rows(get(staff_client, f"/contests/C0001/report.csv?{WEEK_QUERY}"))
    report = report[: report.index([], 11)]  # the days and the winners, not the closing record
    export = csv_rows(
        get(staff_client, "/winners/export/?contest=C0001&day_from=2020-02-10&day_to=2020-02-16")
    )
    assert report[10] == export[0]
    # The report lists winners in time order, the export newest first.
    assert report[11:] == list(reversed(export[1:]))
    wins = Win.objects.select_related("client").order_by("won_at", "id")
    won_at = export[0].index("won_at")
    assert [row[won_at] for row in report[11:]] == [
        win.won_at.astimezone(ROME).isoformat() for win in wins
    ]
    assert all(row[won_at].endswith("+01:00") for row in report[11:])
    client = export[0].index("client")
    assert {row[client] for row in report[11:]} == {"", "Acme – caffè"}


def test_it_gives_times_in_the_contests_own_zone(staff_client, make_contest, make_win):
    contest = make_contest("NYC", time_zone="America/New_York")
    make_win(contest, dt.datetime(2020, 2, 3, 23, 30, 5, tzinfo=dt.UTC), request_id="ny-1")
    url = "/contests/NYC/report/?start=2020-02-03&end=2020-02-03"
    response = get(staff_client, url)
    assert table_cells(response, "report-winners")[1][0] == "2020-02-03 18:30:05"
    assert "America/New_York" in response.content.decode()
    assert response.context["generated_at"].utcoffset() == dt.timedelta(hours=-5)
    rows = csv_rows(get(staff_client, "/contests/NYC/report.csv?start=2020-02-03&end=2020-02-03"))
    assert rows[1][:4] == ["2020-02-03", "0", "45", "1"]
    assert rows[3:5] == [[], [column.key for column in WINNER_COLUMNS]]
    assert rows[5][4] == "2020-02-03T18:30:05-05:00"


# The period


def test_it_reports_from_the_start_to_today_by_default(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/report/")
    report = response.context["report"]
    assert (report.start, report.end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 20))
    assert len(report.days) == 20
    html = response.content.decode()
    assert "Today (20 February 2020) is not over" in html
    assert 'href="/contests/C0001/report.csv?start=2020-02-01&amp;end=2020-02-20" download' in html
    response = get(staff_client, "/contests/C0001/report.csv")
    assert response["Content-Disposition"].endswith(
        'filename="report-C0001-2020-02-01-to-2020-02-20.csv"'
    )
    assert [row[0] for row in csv_rows(response)[1:22]] == [
        *(f"2020-02-{n:02}" for n in range(1, 21)),
        "total",
    ]


def test_it_reports_to_the_last_day_once_the_contest_is_over(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/report/", at=rome(2020, 3, 10, 9))
    report = response.context["report"]
    assert (report.start, report.end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert "is not over" not in response.content.decode()


def test_it_says_so_when_the_contest_has_not_begun(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/report/", at=rome(2020, 1, 15, 9))
    assert response.status_code == 200
    assert response.context["report"] is None
    html = response.content.decode()
    assert "The contest has not begun" in html
    assert "Saturday 1 February 2020" in html
    assert 'id="report-days"' not in html
    assert get(staff_client, "/contests/C0001/report.csv", at=rome(2020, 1, 15, 9)).status_code == (
        404
    )


def test_it_narrows_the_period_to_the_contests_days_so_far(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/report/?start=2020-01-01&end=2020-12-31")
    report = response.context["report"]
    assert (report.start, report.end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 20))


def test_it_explains_a_period_that_ends_before_it_starts(staff_client, make_contest):
    make_contest()
    for url in (
        "/contests/C0001/report/?start=2020-02-10&end=2020-02-09",
        "/contests/C0001/report.csv?start=2020-02-10&end=2020-02-09",
    ):
        response = get(staff_client, url)
        assert response.status_code == 400
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert "The last day cannot be before the first." in response.content.decode()
        assert response.context["report"] is None


def test_it_explains_a_date_that_is_not_one(staff_client, make_contest):
    make_contest()
    for query in ("start=2020-02-31", "end=yesterday"):
        response = get(staff_client, f"/contests/C0001/report/?{query}")
        assert response.status_code == 400
        assert "Enter a valid date." in response.content.decode()
        assert get(staff_client, f"/contests/C0001/report.csv?{query}").status_code == 400


def test_it_explains_a_period_without_a_day_of_the_contest(staff_client, make_contest):
    make_contest()
    response = get(staff_client, "/contests/C0001/report/?start=2020-03-01&end=2020-03-05")
    assert response.status_code == 400
    assert "No day of the contest falls in this period" in response.content.decode()


# The page


def test_it_prints_without_the_portals_navigation(staff_client, make_contest):
    make_contest()
    html = get(staff_client, "/contests/C0001/report/").content.decode()
    # Wired by static/js/portal.js: no inline handler (the Content-Security-Policy).
    print_button = re.search(r"<button [^>]*data-portal-print>Print</button>", html)
    assert print_button, "a Print button"
    assert re.search(r'<script src="/static/js/portal\.[0-9a-f]{12}\.js"></script>', html)
    stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]+\.css)"', html)
    assert stylesheet, "the page links the portal's stylesheet by its hashed name"
    # The very file the page links, as served.
    css = b"".join(staff_client.get(stylesheet.group(1)).streaming_content).decode()
    print_rules = css[css.index("@media print {") :]
    hidden = re.search(r"\n  ([^{\n]*)\{ display: none !important; \}", print_rules)
    assert hidden
    for selector in (".portal-navbar", ".btn", ".report-filters"):
        assert selector in hidden.group(1)
    assert "thead { display: table-header-group; }" in print_rules
    assert "break-inside: avoid" in print_rules
    assert 'class="card mb-4 report-filters"' in html


def test_its_header_says_what_is_reported_and_where_to_verify_it(staff_client, make_contest):
    make_contest()
    html = get(staff_client, "/contests/C0001/report/?start=2020-02-03&end=2020-02-09").content
    html = html.decode()
    assert "Closing report · C0001" in html
    assert "Vinci uno sconto" in html
    assert "Monday 3 February 2020 to Sunday 9 February 2020" in html
    assert "Europe/Rome" in html
    assert "20 February 2020, 12:00:00 CET" in html  # generated, on the contest's clock
    assert "http://testserver/contests/C0001/plans/YYYY-MM-DD/" in html


def test_it_is_linked_from_the_contest_page_and_the_dashboard(staff_client, make_contest):
    make_contest()
    for url in ("/contests/C0001/", "/"):
        html = get(staff_client, url).content.decode()
        assert 'href="/contests/C0001/report/"' in html


def test_it_never_lists_a_moment_still_to_come(staff_client, superuser_client, make_contest):
    contest = make_contest(perday=45)
    noon = rome(2020, 2, 10, 12)
    day = dt.date(2020, 2, 10)
    ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(7))
    future = [
        moment.at.astimezone(ROME).strftime("%H:%M:%S")
        for moment in WinningMoment.objects.filter(contest=contest, at__gt=noon)
    ]
    assert future  # the afternoon's moments
    # Only counts and commitments: not even superusers find a moment in the report.
    for client in (staff_client, superuser_client):
        html = get(client, "/contests/C0001/report/", at=noon).content.decode()
        body = b"".join(get(client, "/contests/C0001/report.csv", at=noon).streaming_content)
        assert DayPlan.objects.get(day=day).commitment in html
        for time in future:
            assert time not in html
            assert time.encode() not in body
