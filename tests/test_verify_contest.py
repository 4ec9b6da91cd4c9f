"""manage.py verify_contest (issue 18, item 2): every check holds on an untouched contest,
and each way the database's owner could rewrite the record is caught. The TSA is real
(openssl on loopback, tests/tsa.py), its clock set before the contest by faketime."""

import datetime as dt
import io
import json
import subprocess
import sys

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from contests.evidence import checks, timestamps
from contests.models import DayPlan, Win, WinningMoment
from contests.moments.audit import recompute_commitment
from contests.moments.claiming import claim_moment, ensure_plans
from contests.moments.planning import day_bounds
from contests.staff.closing_seal import closing_seal, whole_contest_report
from tests.servers import ROOT, app_environment
from tests.tsa import local_tsa

DAYS = [dt.date(2020, 2, 10), dt.date(2020, 2, 11)]
# The TSA's clock: the day before the contest (Europe/Rome), when its plans are made.
TSA_CLOCK = "2020-02-09 12:00:00"


@pytest.fixture
def tsa(tmp_path):
    with (
        local_tsa(tmp_path / "tsa", at=TSA_CLOCK) as authority,
        override_settings(TSA_URL=authority.url, TSA_CA_CERTIFICATE=str(authority.ca_certificate)),
    ):
        yield authority


def play_out(make_contest):
    """C0001 over two days, 5 moments a day, 3 of them won each day, its closing record
    sealed: every plan and the record timestamped."""
    contest = make_contest(start=DAYS[0], end=DAYS[-1], perday=5)
    with time_machine.travel(dt.datetime(2020, 2, 9, 11, tzinfo=dt.UTC), tick=False):
        for day in DAYS:
            ensure_plans(contest, day, timezone.now())
        timestamps.request_plan_timestamps(timezone.now())
    assert timestamps.stamp_pending() == (2, 0)
    for day in DAYS:
        _, day_end = day_bounds(day, contest.zone)
        for number in range(3):
            won_at = day_end - dt.timedelta(minutes=10 - number)
            assert claim_moment(contest.id, day, won_at, request_id=f"r-{day}-{number}")
    seal = closing_seal(whole_contest_report(contest), DAYS[-1] + dt.timedelta(days=1))
    assert seal.request is not None
    assert timestamps.stamp_pending() == (1, 0)
    return contest


@pytest.fixture
def contest(db, tsa, make_contest):
    return play_out(make_contest)


def verify(*args: str) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("verify_contest", *args, "--json", stdout=out, stderr=io.StringIO())
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue())


def failures(result: dict) -> dict[str, list[dict]]:
    return {check["check"]: check["failures"] for check in result["checks"] if check["failures"]}


def owner(sql: str, params=()) -> None:
    """Rewrite the record as the database's owner could (the portal's role cannot)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_contest_passes_every_check(contest):
    code, result = verify("C0001")
    assert code == 0, failures(result)
    assert result["ok"] and {check["check"] for check in result["checks"]} == {
        check.__name__ for check in checks.CHECKS
    }
    assert not any(check["skipped"] for check in result["checks"])


def test_the_text_report_names_every_check(contest):
    out = io.StringIO()
    call_command("verify_contest", "C0001", stdout=out)
    assert out.getvalue().count("ok ") == len(checks.CHECKS)


def test_a_moments_time_changed_is_caught(contest):
    moment = WinningMoment.objects.filter(day=DAYS[0], claimed=False).order_by("at").first()
    owner(
        "UPDATE contests_winningmoment SET at = %s WHERE id = %s",
        [moment.at + dt.timedelta(seconds=1), moment.pk],
    )
    code, result = verify("C0001")
    assert code == 1
    [failure] = failures(result)["plans_match_their_commitments"]
    assert failure["day"] == "2020-02-10" and failure["prize"] == "five-percent-discount"
    assert failure["row"] == f"plan {moment.plan_id}"


def test_a_commitment_rewritten_to_match_is_caught_by_its_timestamp(contest):
    plan = DayPlan.objects.get(day=DAYS[1])
    moment = plan.moments.filter(claimed=False).order_by("at").first()
    owner(
        "UPDATE contests_winningmoment SET at = %s WHERE id = %s",
        [moment.at + dt.timedelta(minutes=5), moment.pk],
    )
    owner(
        "UPDATE contests_dayplan SET commitment = %s WHERE id = %s",
        [recompute_commitment(plan), plan.pk],
    )
    code, result = verify("C0001")
    assert code == 1
    found = failures(result)
    assert "plans_match_their_commitments" not in found  # the seal holds again…
    [failure] = found["plans_have_valid_timestamps"]  # …but the TSA signed the old one
    assert failure["day"] == "2020-02-11" and "the token stamps" in failure["problem"]


def test_a_win_moved_to_a_later_moment_is_caught(contest):
    win = Win.objects.filter(day=DAYS[0]).order_by("won_at").first()
    later = WinningMoment.objects.filter(day=DAYS[0], claimed=False).order_by("at").first()
    assert later.at > win.moment.at
    # Everything consistent: the flags follow the move, and the moment was due.
    owner("UPDATE contests_winningmoment SET claimed = false WHERE id = %s", [win.moment_id])
    owner("UPDATE contests_winningmoment SET claimed = true WHERE id = %s", [later.pk])
    owner(
        "UPDATE contests_win SET moment_id = %s, won_at = %s WHERE id = %s",
        [later.pk, max(win.won_at, later.at), win.pk],
    )
    code, result = verify("C0001")
    assert code == 1
    found = failures(result)["each_win_took_the_earliest_due_moment"]
    assert any(
        f["row"] == f"win {win.pk}" and f"earlier moment {win.moment_id}" in f["problem"]
        for f in found
    ), found


# The contest is of 2020: its player ids would be purged by now, and with them the CSV
# whose digest was sealed.
@override_settings(PLAYER_DATA_RETENTION_DAYS=100_000)
def test_a_deleted_win_is_caught(contest):
    win = Win.objects.filter(day=DAYS[1]).order_by("won_at").last()
    owner("DELETE FROM contests_win WHERE id = %s", [win.pk])
    code, result = verify("C0001")
    assert code == 1
    found = failures(result)
    [claimed] = found["each_win_took_the_earliest_due_moment"]
    assert claimed["row"] == f"moment {win.moment_id}" and claimed["day"] == "2020-02-11"
    # And the sealed closing record no longer matches the database.
    assert found["closing_record_matches_the_database"]


def test_a_deleted_win_and_its_claim_are_caught_by_the_later_wins(contest):
    win = Win.objects.filter(day=DAYS[1]).order_by("won_at").first()
    owner("DELETE FROM contests_win WHERE id = %s", [win.pk])
    owner("UPDATE contests_winningmoment SET claimed = false WHERE id = %s", [win.moment_id])
    code, result = verify("C0001")
    assert code == 1
    found = failures(result)["each_win_took_the_earliest_due_moment"]
    assert len(found) == 2  # both later wins of the day passed over the freed moment


def test_more_wins_than_moments_is_caught(contest):
    owner("UPDATE contests_dayplan SET moment_count = 2 WHERE day = %s", [DAYS[0]])
    code, result = verify("C0001")
    found = failures(result)
    assert code == 1 and found["no_day_with_more_wins_than_moments"][0]["day"] == "2020-02-10"


def test_an_unknown_contest_is_an_error(db):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("verify_contest", "NOPE", stdout=io.StringIO())


# From the published documents only, over HTTP -------------------------------------------


def run_verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "verify_contest", *args],
        cwd=ROOT,
        env=app_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_the_published_documents_are_checked_over_http(tsa, make_contest, live_server):
    play_out(make_contest)
    days = ["--start", "2020-02-09", "--end", "2020-02-12"]
    published = ["C0001", "--from-published", live_server.url, *days, "--json"]
    ca = ["--tsa-ca", str(tsa.ca_certificate)]

    passed = run_verify(*published, *ca)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    result = json.loads(passed.stdout)
    assert result["ok"] and result["source"] == live_server.url
    skipped = {check["check"] for check in result["checks"] if check["skipped"]}
    assert "each_win_took_the_earliest_due_moment" in skipped
    assert "plans_have_valid_timestamps" not in skipped

    # Another authority's CA: the same tokens do not chain to it.
    with local_tsa(tsa.directory.parent / "other", "Other TSA") as other:
        refused = run_verify(*published, "--tsa-ca", str(other.ca_certificate))
    assert refused.returncode == 1
    assert "signature does not verify" in refused.stdout


@pytest.mark.django_db(transaction=True)
def test_a_published_document_of_rewritten_moments_fails_on_its_token(
    tsa, make_contest, live_server
):
    play_out(make_contest)
    plan = DayPlan.objects.get(day=DAYS[0])
    moment = plan.moments.filter(claimed=False).order_by("at").last()
    owner(
        "UPDATE contests_winningmoment SET at = %s WHERE id = %s",
        [moment.at - dt.timedelta(minutes=1), moment.pk],
    )
    owner(
        "UPDATE contests_dayplan SET commitment = %s WHERE id = %s",
        [recompute_commitment(plan), plan.pk],
    )
    checked = run_verify(
        "C0001", "--from-published", live_server.url, "--start", "2020-02-10",
        "--end", "2020-02-11", "--tsa-ca", str(tsa.ca_certificate),
    )  # fmt: skip
    assert checked.returncode == 1
    assert "FAIL plans_have_valid_timestamps day=2020-02-10" in checked.stdout
    assert "/contests/C0001/plans/2020-02-10/" in checked.stdout
