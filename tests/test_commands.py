"""The operators' commands: they do what they say, and refuse bad input clearly."""

import datetime as dt
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from contests.models import Contest, DayPlan, Prize, Win, WinningMoment
from tests.clock import rome

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


CREATE_C0001 = (
    "create_contest", "C0001", "--name", "Vinci uno sconto", "--start", "2020-02-01",
    "--end", "2020-02-29", "--prize-code", "five-percent-discount",
    "--prize-name", "Sconto del 5%", "--perday", "45",
)  # fmt: skip


def test_create_contest_creates_the_spec_example():
    output = run(*CREATE_C0001)
    contest = Contest.objects.get(code="C0001")
    assert (contest.name, contest.start, contest.end) == (
        "Vinci uno sconto",
        dt.date(2020, 2, 1),
        dt.date(2020, 2, 29),
    )
    assert contest.time_zone == "Europe/Rome"
    prize = contest.prizes.get()
    assert (prize.code, prize.name, prize.perday) == ("five-percent-discount", "Sconto del 5%", 45)
    assert output.startswith("Created contest C0001")


def test_create_contest_updates_only_what_it_is_given():
    run(*CREATE_C0001)
    output = run("create_contest", "C0001", "--perday", "60", "--end", "2020-03-31")
    contest = Contest.objects.get(code="C0001")
    assert contest.end == dt.date(2020, 3, 31)
    assert contest.name == "Vinci uno sconto"
    assert contest.prizes.get().perday == 60
    assert output.startswith("Updated contest C0001")


def test_create_contest_adds_a_second_prize():
    run(*CREATE_C0001)
    run("create_contest", "C0001", "--prize-code", "mug", "--prize-name", "Mug", "--perday", "3")
    assert sorted(Prize.objects.values_list("code", flat=True)) == ["five-percent-discount", "mug"]
    with pytest.raises(CommandError, match="several prizes"):
        run("create_contest", "C0001", "--perday", "5")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--end", "2020-01-01"), "end: The end date cannot be before the start date."),
        (("--time-zone", "Mars/Olympus"), "time_zone: 'Mars/Olympus' is not a known time zone."),
    ],
)
def test_create_contest_reports_invalid_fields(args, message):
    run(*CREATE_C0001)
    with pytest.raises(CommandError) as error:
        run("create_contest", "C0001", *args)
    assert message in str(error.value)
    assert Contest.objects.get().end == dt.date(2020, 2, 29)


def test_create_contest_refuses_a_code_that_is_not_url_safe():
    with pytest.raises(CommandError, match="code: Use only letters"):
        run("create_contest", "C 01/x", *CREATE_C0001[2:])
    assert not Contest.objects.exists()


def test_create_contest_lists_what_a_new_contest_is_missing():
    with pytest.raises(CommandError, match="also give --start, --end, --prize-code"):
        run("create_contest", "C0009", "--name", "New")


def test_bad_arguments_exit_non_zero_with_a_message():
    result = subprocess.run(
        [sys.executable, "manage.py", "create_contest", "C1", "--start", "01/02/2020"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "'01/02/2020' is not a date in the form YYYY-MM-DD" in result.stderr


def test_seed_demo_is_idempotent_and_makes_c0001_playable_today():
    with time_machine.travel(rome(2026, 11, 28, 10), tick=False):
        run("seed_demo")
        run("seed_demo")
    demo = Contest.objects.get(code="C0001")
    assert demo.start == dt.date(2026, 11, 28)
    assert demo.end >= dt.date(2026, 12, 27)
    assert demo.prizes.get().perday == 45
    expired = Contest.objects.get(code="C0000")
    assert expired.end < dt.date(2026, 11, 28)
    assert Contest.objects.count() == 2
    assert Prize.objects.count() == 2


def test_seed_demo_runs_a_played_demo_on_without_moving_its_start():
    with time_machine.travel(rome(2026, 11, 28, 10), tick=False):
        run("seed_demo")
        run("plan_days", "--contest", "C0001", "--days", "1")
    # Two months later the demo has ended; its planned first day must stay inside it.
    with time_machine.travel(rome(2027, 1, 28, 10), tick=False):
        run("seed_demo")
        demo = Contest.objects.get(code="C0001")
        assert demo.start == dt.date(2026, 11, 28)
        assert demo.end >= dt.date(2027, 2, 27)
        assert demo.is_active_on(dt.date(2027, 1, 28))


def test_plan_days_plans_ahead_and_leaves_existing_plans_alone(make_contest):
    make_contest(end=dt.date(2020, 2, 11))
    with time_machine.travel(rome(2020, 2, 9, 12), tick=False):
        output = run("plan_days", "--days", "5")
        first = set(WinningMoment.objects.values_list("at", flat=True))
        again = run("plan_days", "--days", "5")
    # Today (the rest of it) and the next two days; the contest ends on the 11th.
    assert list(DayPlan.objects.order_by("day").values_list("day", flat=True)) == [
        dt.date(2020, 2, 9),
        dt.date(2020, 2, 10),
        dt.date(2020, 2, 11),
    ]
    assert "Made 3 plans" in output
    assert "Made 0 plans" in again
    assert set(WinningMoment.objects.values_list("at", flat=True)) == first
    today = DayPlan.objects.get(day=dt.date(2020, 2, 9))
    assert today.window_start == rome(2020, 2, 9, 12)


def test_plan_days_refuses_an_unknown_contest():
    with pytest.raises(CommandError, match=r"Contest C404 not found\."):
        run("plan_days", "--contest", "C404")


def test_simulate_day_on_the_demo_contest_wins_every_prize_and_keeps_nothing():
    with time_machine.travel(rome(2026, 11, 28, 10), tick=True):
        run("seed_demo")
        output = run("simulate_day", "--contest", "C0001", "--seed", "1")
    assert "4500 plays" in output
    assert re.search(r"all prizes\s+45\s+45\s+every prize won", output)
    gap = float(re.search(r"ideal straight line: ([0-9.]+) prizes", output)[1])
    assert gap <= 1
    hours = re.findall(r"^  \d\d:00 CET .* (\d+)$", output, re.MULTILINE)
    assert len(hours) == 24
    assert sum(map(int, hours)) == 45
    # A throwaway copy, rolled back: the real contest has no plan and no win.
    assert not DayPlan.objects.exists()
    assert not Win.objects.exists()
    assert list(Contest.objects.values_list("code", flat=True).order_by("code")) == [
        "C0000",
        "C0001",
    ]


def test_simulate_day_in_place_keeps_the_day(make_contest):
    make_contest(perday=3)
    output = run("simulate_day", "--contest", "C0001", "--date", "2020-02-10", "--in-place")
    assert "Played the real contest" in output
    assert Win.objects.filter(contest__code="C0001", day=dt.date(2020, 2, 10)).count() == 3


def test_simulate_day_refuses_an_unknown_contest():
    with pytest.raises(CommandError, match=r"Contest NOPE not found\."):
        run("simulate_day", "--contest", "NOPE")


def test_the_dev_login_exists_only_on_the_embedded_default(settings):
    settings.DEBUG = True
    if connection.vendor == "sqlite":
        assert "Staff login: admin / admin" in run("create_dev_login")
        assert User.objects.get(username="admin").check_password("admin")
    else:
        with pytest.raises(CommandError, match="embedded default"):
            run("create_dev_login")
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="embedded default"):
        run("create_dev_login")
    assert User.objects.filter(username="admin").count() == (connection.vendor == "sqlite")
