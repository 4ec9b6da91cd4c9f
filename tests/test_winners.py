"""The winners page: every win across contests, filtered and paginated."""

import pytest

from tests.clock import rome
from tests.portal import assert_staff_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def wins(make_contest, make_win):
    first = make_contest("C0001")
    second = make_contest("C0002", name="Altro", prize_code="gadget", prize_name="Gadget")
    make_win(first, rome(2020, 2, 3, 10), player="anna", request_id="a-1")
    make_win(first, rome(2020, 2, 5, 11), player="marco", request_id="m-1")
    make_win(first, rome(2020, 2, 7, 12), player="anna", request_id="a-2")
    make_win(second, rome(2020, 2, 5, 13), player="anna", request_id="a-3")


def request_ids(response) -> list[str]:
    return [row[-1] for row in response.context["rows"]]


def test_it_is_for_staff_only(client, outsider_client, staff_client):
    assert_staff_only("/winners/", client, outsider_client, staff_client)


def test_it_lists_every_win_newest_first(staff_client, wins):
    response = staff_client.get("/winners/")
    assert request_ids(response) == ["a-2", "a-3", "m-1", "a-1"]
    html = response.content.decode()
    assert "4 wins" in html
    assert '<a href="/contests/C0002/?day=2020-02-05">C0002</a>' in html
    assert "2020-02-05 13:00:00" in html
    assert "Gadget" in html


def test_it_filters_by_contest(staff_client, wins):
    assert request_ids(staff_client.get("/winners/?contest=C0002")) == ["a-3"]


def test_it_filters_by_local_day_range(staff_client, wins):
    response = staff_client.get("/winners/?day_from=2020-02-04&day_to=2020-02-06")
    assert request_ids(response) == ["a-3", "m-1"]
    assert request_ids(staff_client.get("/winners/?day_from=2020-02-06")) == ["a-2"]
    assert request_ids(staff_client.get("/winners/?day_to=2020-02-03")) == ["a-1"]


def test_it_filters_by_exact_player(staff_client, wins):
    assert request_ids(staff_client.get("/winners/?player=anna")) == ["a-2", "a-3", "a-1"]
    assert request_ids(staff_client.get("/winners/?player=ann")) == []


def test_it_combines_filters(staff_client, wins):
    response = staff_client.get("/winners/?contest=C0001&player=anna&day_from=2020-02-04")
    assert request_ids(response) == ["a-2"]


def test_it_explains_bad_filters(staff_client, wins):
    response = staff_client.get("/winners/?day_from=2020-02-06&day_to=2020-02-04")
    assert response.status_code == 400
    assert b"The last day cannot be before the first." in response.content
    assert request_ids(response) == []
    response = staff_client.get("/winners/?contest=C0404")
    assert response.status_code == 400
    assert b"Select a valid choice." in response.content


def test_it_paginates_fifty_a_page_and_keeps_the_filters(staff_client, make_contest, make_win):
    contest = make_contest(perday=200)
    for minute in range(60):
        make_win(contest, rome(2020, 2, 3, 10, minute), player="p", request_id=f"r{minute:02d}")
    make_win(contest, rome(2020, 2, 3, 11, 30), player="other", request_id="other")

    response = staff_client.get("/winners/?player=p")
    assert len(response.context["rows"]) == 50
    assert request_ids(response)[0] == "r59"
    html = response.content.decode()
    assert "1–50 of 60" in html
    assert 'href="?player=p&amp;page=2"' in html

    response = staff_client.get("/winners/?player=p&page=2")
    assert request_ids(response) == [f"r{minute:02d}" for minute in range(9, -1, -1)]


def test_it_links_the_export_with_the_same_filters(staff_client, wins):
    html = staff_client.get("/winners/?contest=C0001&player=anna&page=1").content.decode()
    assert 'href="/winners/export/?contest=C0001&amp;player=anna"' in html


def test_it_escapes_what_players_send(staff_client, make_contest, make_win):
    make_win(make_contest(), rome(2020, 2, 3, 10), player="<img src=x onerror=alert(1)>")
    html = staff_client.get("/winners/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
