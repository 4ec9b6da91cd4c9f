"""The draw rules where operators set and read them: create_contest's flags, the staff
form, the admin, the contest page, the dashboard (stock below 10 % flagged), the closing
report, and the ideal line in open time."""

import datetime as dt
import random
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from contests.models import Contest, DayPlan, Prize
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.staff.charts import Window
from contests.staff.draw_rules import day_windows
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
NOON = rome(2020, 2, 10, 12)
CREATE = (
    "create_contest", "C0001", "--name", "Vinci", "--start", "2020-02-01", "--end",
    "2020-02-29", "--prize-code", "mug", "--prize-name", "Mug", "--perday", "10",
)  # fmt: skip


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_contest_takes_every_rule_by_its_flag():
    output = run(
        *CREATE,
        "--hours", "mon-fri 08:00-22:00; sat 09:00-13:00",
        "--stock", "100",
        "--unclaimed", "expire:30",
        "--wmax-total", "3",
        "--play-interval", "60",
    )  # fmt: skip
    contest = Contest.objects.get()
    prize = contest.prizes.get()
    assert contest.opening_hours == "mon-fri 08:00-22:00; sat 09:00-13:00"
    assert (contest.wmax_total, contest.play_interval) == (3, 60)
    assert (prize.stock, prize.expire_after_minutes) == (100, 30)
    assert "open mon-fri 08:00-22:00; sat 09:00-13:00" in output
    assert "mug: stock 100" in output
    # Later runs change one rule and keep the others; the defaults come back on request.
    run("create_contest", "C0001", "--unclaimed", "carry", "--no-wmax-total", "--hours", "")
    contest.refresh_from_db()
    prize.refresh_from_db()
    assert (contest.opening_hours, contest.wmax_total, contest.play_interval) == ("", None, 60)
    assert (prize.stock, prize.expire_after_minutes) == (100, None)
    run("create_contest", "C0001", "--no-stock", "--no-play-interval")
    prize.refresh_from_db()
    contest.refresh_from_db()
    assert (prize.stock, contest.play_interval) == (None, None)


def test_hours_are_stored_canonically():
    run(*CREATE, "--hours", "sat 09:00-13:00;mon-fri 08:00-22:00")
    assert Contest.objects.get().opening_hours == "mon-fri 08:00-22:00; sat 09:00-13:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hours", "mon 22:00-08:00"], "must end after it starts"),
        (["--hours", "weekdays 08:00-10:00"], "is not a weekday"),
        (["--unclaimed", "expire"], "is not carry or expire:MINUTES"),
        (["--unclaimed", "expire:0"], "is not carry or expire:MINUTES"),
        (["--stock", "0"], "must be 1 or more"),
        (["--play-interval", "x"], "is not a whole number"),
    ],
)
def test_bad_rule_flags_exit_non_zero_with_a_message(args, message):
    result = subprocess.run(
        [sys.executable, "manage.py", *CREATE[:1], "C1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_a_rule_out_of_range_is_refused_by_the_model():
    with pytest.raises(CommandError, match="expire"):
        run(*CREATE, "--unclaimed", "expire:5000")


def form_data(**overrides) -> dict:
    data = {
        "code": "C0007",
        "name": "Vinci un caffè",
        "start": "2020-02-10",
        "end": "2020-02-20",
        "time_zone": "Europe/Rome",
        "opening_hours": "mon-fri 08:00-20:00",
        "wmax_total": "2",
        "play_interval": "30",
        "prizes-TOTAL_FORMS": "1",
        "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "1",
        "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-code": "coffee",
        "prizes-0-name": "Un caffè",
        "prizes-0-perday": "30",
        "prizes-0-stock": "200",
        "prizes-0-expire_after_minutes": "15",
    }
    data.update(overrides)
    return data


def test_the_staff_form_sets_every_rule(staff_client):
    with time_machine.travel(NOON, tick=False):
        response = staff_client.post("/new-contest/", form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    contest = Contest.objects.get(code="C0007")
    prize = contest.prizes.get()
    assert (contest.opening_hours, contest.wmax_total, contest.play_interval) == (
        "mon-fri 08:00-20:00",
        2,
        30,
    )
    assert (prize.stock, prize.expire_after_minutes) == (200, 15)


def test_the_staff_form_shows_what_is_wrong_with_the_hours(staff_client):
    with time_machine.travel(NOON, tick=False):
        response = staff_client.post("/new-contest/", form_data(opening_hours="mon 9-5"))
    assert response.status_code == 200
    assert "These are not opening hours" in response.content.decode()
    assert not Contest.objects.exists()


def contest_with_stock(stock=20, perday=10, hours="mon-fri 09:00-18:00", expire=9) -> Contest:
    contest = Contest.objects.create(
        code="C0001",
        name="Vinci",
        start=dt.date(2020, 2, 10),
        end=dt.date(2020, 2, 12),
        time_zone="Europe/Rome",
        opening_hours=hours,
        wmax_total=4,
        play_interval=45,
    )
    Prize.objects.create(
        contest=contest,
        code="mug",
        name="Mug",
        perday=perday,
        stock=stock,
        expire_after_minutes=expire,
    )
    return contest


def plan_days(contest, days):
    for day in days:
        ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(day.toordinal()))


def test_the_contest_page_and_the_report_show_the_rules_and_the_stock(staff_client):
    contest = contest_with_stock()
    plan_days(contest, [dt.date(2020, 2, 10)])  # 7 of 20 moments: ⌈20 / 3⌉
    # Before opening: no moment has expired yet (expired ones go back to the stock).
    with time_machine.travel(rome(2020, 2, 10, 8), tick=False):
        page = staff_client.get("/contests/C0001/").content.decode()
        report = staff_client.get("/contests/C0001/report/").content.decode()
    for html in (page, report):
        assert "Draw rules" in html
        assert "mon-fri 09:00-18:00" in html
        assert "stock 20: 7 used, 13 left" in html
        assert "45 seconds between plays of a player" in html
        assert "expires 9 minutes after it falls due" in html
        assert "stock-low" not in html


def test_the_dashboard_flags_a_stock_below_ten_percent(staff_client):
    contest = contest_with_stock(stock=20, perday=10, expire=None)
    with time_machine.travel(NOON, tick=False):
        plan_days(contest, [dt.date(2020, 2, 10)])
        html = staff_client.get("/").content.decode()
        assert "mug stock: 7 used, 13 left" in html
        assert "stock-low" not in html
        plan_days(contest, [dt.date(2020, 2, 11), dt.date(2020, 2, 12)])
        html = staff_client.get("/").content.decode()
    assert "mug stock: 20 used, 0 left" in html
    assert "below 10 % left" in html


def test_a_contest_without_rules_shows_none(staff_client, make_contest):
    make_contest(start=dt.date(2020, 2, 1))
    with time_machine.travel(NOON, tick=False):
        page = staff_client.get("/contests/C0001/").content.decode()
        dashboard = staff_client.get("/").content.decode()
    assert "Draw rules" not in page
    assert "stock" not in dashboard.lower().replace("stockholm", "")


def test_the_ideal_line_rises_only_in_open_time():
    contest = contest_with_stock(stock=None, perday=9, hours="mon-fri 09:00-12:00 14:00-17:00")
    day = dt.date(2020, 2, 10)
    plan_days(contest, [day])
    [window] = day_windows(contest, day, list(DayPlan.objects.all()))
    assert window.ideal_by(rome(2020, 2, 10, 9)) == 0
    assert window.ideal_by(rome(2020, 2, 10, 12)) == pytest.approx(4.5)
    assert window.ideal_by(rome(2020, 2, 10, 13, 30)) == pytest.approx(4.5)  # closed: flat
    assert window.ideal_by(rome(2020, 2, 10, 17)) == pytest.approx(9)
    assert window.ideal_by(rome(2020, 2, 10, 23)) == pytest.approx(9)
    # Unplanned days are drawn from the hours too; a closed day from nothing.
    [unplanned] = day_windows(contest, dt.date(2020, 2, 11), [])
    assert unplanned.ideal_by(rome(2020, 2, 11, 12)) == pytest.approx(4.5)
    [closed] = day_windows(contest, dt.date(2020, 2, 15), [])
    assert closed.count == 0
    # Without hours the line is straight from the window's start, as before.
    plain = Window(rome(2020, 2, 10), rome(2020, 2, 11), 24)
    assert plain.ideal_by(rome(2020, 2, 10, 6)) == pytest.approx(6)


def test_the_admin_edits_the_rules(superuser_client):
    contest = contest_with_stock()
    response = superuser_client.get(f"/admin/contests/contest/{contest.pk}/change/")
    html = response.content.decode()
    for field in ("opening_hours", "wmax_total", "play_interval", "prizes-0-stock"):
        assert f'name="{field}"' in html
    assert 'name="prizes-0-expire_after_minutes"' in html


def test_simulate_day_plays_the_open_time_of_a_copy():
    contest = contest_with_stock(stock=None, perday=8, hours="mon-fri 09:00-13:00 14:00-18:00")
    output = run("simulate_day", "--contest", "C0001", "--date", "2020-02-10", "--seed", "1")
    assert "Open 8 hours (mon-fri 09:00-13:00 14:00-18:00): plays fall only then." in output
    assert "every prize won" in output
    assert not DayPlan.objects.filter(prize__contest=contest).exists()
