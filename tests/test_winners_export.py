"""The winners' CSV: what the filters show, streamed, UTF-8 with a BOM, local ISO times."""

import csv
import datetime as dt
import io

import pytest

from contests.models import ApiClient
from tests.clock import rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db

HEADER = [
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


def parse(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_it_is_for_staff_only(client, outsider_client, staff_client):
    assert_staff_only("/winners/export/", client, outsider_client, staff_client)


def test_it_downloads_every_win_as_csv(staff_client, make_contest, make_win):
    contest = make_contest(prize_name="Sconto del 5% – caffè")
    make_win(contest, rome(2020, 2, 3, 10, 15, 30), player="anna", request_id="a-1")
    response = staff_client.get("/winners/export/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="winners.csv"'
    assert parse(response) == [
        HEADER,
        [
            "C0001",
            "five-percent-discount",
            "Sconto del 5% – caffè",
            "2020-02-03",
            "2020-02-03T10:15:30+01:00",
            "anna",
            "",
            "Not reviewed",
            "a-1",
        ],
    ]


def test_it_writes_times_in_each_contests_zone(staff_client, make_contest, make_win):
    new_york = make_contest("NYC", time_zone="America/New_York")
    tokyo = make_contest("TYO", time_zone="Asia/Tokyo")
    at = dt.datetime(2020, 2, 3, 23, 30, tzinfo=dt.UTC)
    make_win(new_york, at, request_id="ny")
    make_win(tokyo, at + dt.timedelta(seconds=1), request_id="tyo")
    rows = parse(staff_client.get("/winners/export/"))
    assert [(row[3], row[4]) for row in rows[1:]] == [
        ("2020-02-04", "2020-02-04T08:30:01+09:00"),
        ("2020-02-03", "2020-02-03T18:30:00-05:00"),
    ]


def test_it_exports_what_the_filters_show(staff_client, make_contest, make_win):
    first = make_contest("C0001")
    second = make_contest("C0002")
    make_win(first, rome(2020, 2, 3, 10), player="anna", request_id="keep")
    make_win(first, rome(2020, 2, 9, 10), player="anna", request_id="too-late")
    make_win(first, rome(2020, 2, 4, 10), player="marco", request_id="other-player")
    make_win(second, rome(2020, 2, 3, 10), player="anna", request_id="other-contest")
    response = staff_client.get(
        "/winners/export/?contest=C0001&day_from=2020-02-01&day_to=2020-02-05&player=anna"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="winners-C0001-from-2020-02-01-to-2020-02-05.csv"'
    )
    assert [row[-1] for row in parse(response)[1:]] == ["keep"]


def test_it_quotes_commas_quotes_and_newlines(staff_client, make_contest, make_win):
    make_win(make_contest(), rome(2020, 2, 3, 10), player='a,"b"\nc')
    assert parse(staff_client.get("/winners/export/"))[1][5] == 'a,"b"\nc'


def test_it_streams_many_rows_in_order(staff_client, make_contest, make_win):
    contest = make_contest(perday=5000)
    start = rome(2020, 2, 3, 0)
    for second in range(2500):  # more than one database chunk
        make_win(contest, start + dt.timedelta(seconds=second), request_id=f"r{second:04d}")
    rows = parse(staff_client.get("/winners/export/?contest=C0001"))
    assert len(rows) == 2501
    assert (rows[1][-1], rows[-1][-1]) == ("r2499", "r0000")


def test_it_refuses_bad_filters_with_the_page(staff_client):
    response = staff_client.get("/winners/export/?day_from=2020-02-06&day_to=2020-02-04")
    assert response.status_code == 400
    assert b"The last day cannot be before the first." in response.content


def test_it_names_the_client_and_the_review_of_each_win(staff_client, make_contest, make_win):
    win = make_win(make_contest(), rome(2020, 2, 3, 10), player="anna", request_id="c-1")
    win.client = ApiClient.objects.create(name="Acme")
    win.review_status = "validated"
    win.save(update_fields=["client", "review_status"])
    [_, row] = parse(staff_client.get("/winners/export/"))
    assert dict(zip(HEADER, row, strict=True))["client"] == "Acme"
    assert dict(zip(HEADER, row, strict=True))["review"] == "Validated"
