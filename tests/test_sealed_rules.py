"""Sealed plans under the draw rules: the v2 text carries the rules, v1 plans still verify,
and verify_plans catches a rule changed after the plan was sealed."""

import datetime as dt
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contests.models import Contest, DayPlan, Prize
from contests.moments.audit import check_plan
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from tests.clock import ROME

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)  # a Monday


def published(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))["data"]


def outsider_hash(plan_entry: dict, contest: str, day: str) -> str:
    """What docs/auditing.md tells an outsider to compute from the published plan."""
    version = "v2" if "rules" in plan_entry else "v1"
    text = (
        f"contest-portal plan {version}\ncontest: {contest}\nprize: {plan_entry['prize']}\n"
        f"day: {day}\nsalt: {plan_entry['salt']}\n"
    )
    text += "".join(line + "\n" for line in plan_entry.get("rules", []))
    text += "".join(moment + "\n" for moment in plan_entry["moments"])
    return hashlib.sha256(text.encode()).hexdigest()


def contest_with_rules(code="C0001") -> Contest:
    contest = Contest.objects.create(
        code=code,
        name="Rules",
        start=dt.date(2020, 2, 1),
        end=dt.date(2020, 2, 29),
        time_zone="Europe/Rome",
        opening_hours="mon-fri 08:00-22:00; sat 09:00-13:00",
        wmax_total=5,
        play_interval=30,
    )
    Prize.objects.create(
        contest=contest, code="mug", name="Mug", perday=4, stock=50, expire_after_minutes=20
    )
    return contest


def test_a_plan_under_rules_is_sealed_with_the_v2_text(client):
    contest = contest_with_rules()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    plan = DayPlan.objects.get()
    assert plan.rules == (
        "hours: mon-fri 08:00-22:00; sat 09:00-13:00\n"
        "open: 08:00-22:00\n"
        "stock: 50; 50 left over 18 days\n"  # 10–29 February less two Sundays
        "unclaimed: expire after 20 minutes\n"
        "wmax-total: 5\n"
        "play-interval: 30 seconds\n"
    )
    # After the day, anyone recomputes it from the published document alone.
    data = published(client, "/contests/C0001/plans/2020-02-10/")
    [entry] = data["plans"]
    assert entry["version"] == 2
    assert entry["rules"] == plan.rules.splitlines()
    assert outsider_hash(entry, data["contest"], data["day"]) == plan.commitment
    assert check_plan(plan) is None


def test_a_plan_without_rules_stays_v1_and_verifies(client, make_contest):
    make_contest()
    contest = Contest.objects.get()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    [entry] = published(client, "/contests/C0001/plans/2020-02-10/")["plans"]
    assert "rules" not in entry and "version" not in entry
    assert outsider_hash(entry, "C0001", "2020-02-10") == DayPlan.objects.get().commitment
    call_command("verify_plans", stdout=StringIO())


def test_v1_and_v2_plans_verify_side_by_side(make_contest):
    plain = make_contest("C0002")
    ruled = contest_with_rules()
    for contest in (plain, ruled):
        ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    out = StringIO()
    call_command("verify_plans", stdout=out)
    assert "Checked 2 plans" in out.getvalue()


@pytest.mark.parametrize(
    "change",
    [
        {
            "rules": "hours: all day, every day\nopen: 00:00-24:00\nstock: none\n"
            "unclaimed: carry\nwmax-total: none\nplay-interval: none\n"
        },
        {"expire_after": dt.timedelta(hours=5)},
        {"expire_after": None},
    ],
)
def test_verify_plans_catches_a_changed_rule(change):
    contest = contest_with_rules()
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0])
    DayPlan.objects.update(**change)  # as someone with the database's owner role could
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 plan does not match"):
        call_command("verify_plans", stdout=StringIO(), stderr=err)
    assert "MISMATCH C0001/mug 2020-02-10" in err.getvalue()


def test_the_auditing_guides_v2_example_is_true():
    from pathlib import Path

    from contests.moments.sealing import commitment

    guide = (Path(__file__).resolve().parent.parent / "docs" / "auditing.md").read_text()
    rules = (
        "hours: mon-fri 08:00-22:00; sat 09:00-13:00\nopen: 08:00-22:00\n"
        "stock: 100; 96 left over 24 days\nunclaimed: expire after 30 minutes\n"
        "wmax-total: 3\nplay-interval: 60 seconds\n"
    )
    salt = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
    moments = [
        dt.datetime(2026, 11, 27, 7, 41, 5, 1200, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 27, 15, 22, 48, 999001, tzinfo=dt.UTC),
    ]
    digest = commitment("C0001", "mug", dt.date(2026, 11, 27), salt, moments, rules)
    assert f"{digest}  -" in guide
    assert rules.replace("\n", "\\n") in guide
