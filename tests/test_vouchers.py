"""Voucher pools: import, a code per win inside the claim, the winning answer, redemption."""

import datetime as dt
import io
import json
import logging
import threading
import tracemalloc

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from contests.models import ApiClient, Prize, Voucher, Win, WinningMoment
from contests.moments.claiming import ensure_plans, make_plan
from contests.moments.vouchers import voucher_counts
from contests.play.credentials import issue_token
from contests.vouchers.importing import import_vouchers
from tests.clock import rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)
PLAYING = rome(2020, 2, 10, 23, 59)


def pool(contest, codes, prize=None) -> Prize:
    prize = prize or contest.prizes.get()
    report = import_vouchers(prize, io.StringIO("".join(f"{code}\n" for code in codes)))
    assert report.ok, report
    prize.refresh_from_db()
    return prize


def write(tmp_path, name, text) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# Import --------------------------------------------------------------------------------------


def test_the_command_adds_codes_and_skips_duplicates(make_contest, tmp_path):
    contest = make_contest()
    pool(contest, ["A-1"])
    path = write(tmp_path, "codes.txt", "A-1\nB-2\n\nB-2\r\nC~3\\x\n")
    out = run("import_vouchers", "C0001", "five-percent-discount", path)
    assert "2 code(s) added, 2 duplicate(s) skipped, 0 invalid lines." in out
    prize = contest.prizes.get()
    assert sorted(prize.vouchers.values_list("code", flat=True)) == ["A-1", "B-2", "C~3\\x"]
    assert prize.has_voucher_pool


def test_a_csv_takes_its_first_column_after_a_header(make_contest, tmp_path):
    contest = make_contest()
    path = write(tmp_path, "codes.csv", 'code,note\nX1,first\n"X,2",second\nX1,again\n')
    out = run("import_vouchers", "C0001", "five-percent-discount", path)
    assert "2 code(s) added, 1 duplicate(s) skipped" in out
    assert set(contest.prizes.get().vouchers.values_list("code", flat=True)) == {"X1", "X,2"}


def test_bad_lines_import_nothing_and_are_named_by_number(make_contest, tmp_path):
    contest = make_contest()
    path = write(tmp_path, "codes.txt", "GOOD-1\nhas space\nGOOD-2\n" + "x" * 65 + "\nè\n")
    with pytest.raises(CommandError) as raised:
        run("import_vouchers", "C0001", "five-percent-discount", path)
    message = str(raised.value)
    assert "Nothing imported: 3 lines are invalid." in message
    assert "Line 2:" in message and "Line 4:" in message and "Line 5:" in message
    assert "GOOD" not in message and "has space" not in message  # codes never in a report
    prize = contest.prizes.get()
    assert not prize.vouchers.exists()
    assert not prize.has_voucher_pool


def test_an_unknown_prize_or_an_unreadable_file_fails(make_contest, tmp_path):
    make_contest()
    with pytest.raises(CommandError, match="not found"):
        run("import_vouchers", "C0001", "nope", write(tmp_path, "a.txt", "A\n"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_vouchers", "C0001", "five-percent-discount", str(tmp_path / "missing.txt"))
    (tmp_path / "latin.txt").write_bytes(b"A1\n" * 20_000 + b"\xe8\n")
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_vouchers", "C0001", "five-percent-discount", str(tmp_path / "latin.txt"))
    assert not Voucher.objects.exists()  # nothing half-done


class GeneratedCodes(io.TextIOBase):
    """A huge file of codes that never is in memory at once: each line made as it is read."""

    def __init__(self, count: int):
        self.lines = (f"CODE-{number:09d}\n" for number in range(count))

    def readable(self) -> bool:
        return True

    def __iter__(self):
        return self.lines


def test_a_huge_file_imports_in_flat_memory(make_contest):
    contest = make_contest()
    prize = contest.prizes.get()
    tracemalloc.start()
    try:
        report = import_vouchers(prize, GeneratedCodes(120_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.added, report.duplicates) == (120_000, 0)
    assert prize.vouchers.count() == 120_000
    # 120 000 codes held at once would be ~9 MB of strings alone; a batch at a time is ~2 MB.
    assert peak < 5 * 1024 * 1024, peak


# Planning and claiming ----------------------------------------------------------------------


def test_a_pool_prize_never_plans_more_moments_than_codes_left(make_contest):
    contest = make_contest(perday=10)
    prize = pool(contest, [f"V{n}" for n in range(14)])
    first = make_plan(prize, DAY, rome(2020, 2, 10, 0))
    assert first.moment_count == 10
    # Tomorrow: 14 codes, 10 of them awaited by today's unclaimed moments.
    second = make_plan(prize, DAY + dt.timedelta(days=1), rome(2020, 2, 10, 12))
    assert second.moment_count == 4
    assert make_plan(prize, DAY + dt.timedelta(days=2), rome(2020, 2, 10, 12)) is None


def test_a_prize_without_a_pool_plans_perday_as_before(make_contest):
    contest = make_contest(perday=7)
    assert make_plan(contest.prizes.get(), DAY, rome(2020, 2, 10, 0)).moment_count == 7


def play(client, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    with time_machine.travel(PLAYING, tick=False):
        return client.get("/play/?contest=C0001", **headers)


def test_each_win_carries_its_own_code(client, make_contest):
    contest = make_contest(perday=3)
    pool(contest, ["AAA", "BBB", "CCC", "DDD"])
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    bodies = [play(client).json() for _ in range(4)]
    won = [body for body in bodies if body["data"]["winner"]]
    assert len(won) == 3
    codes = [body["data"]["prize"]["voucher"] for body in won]
    assert len(set(codes)) == 3
    given = Voucher.objects.filter(win__isnull=False).values_list("code", flat=True)
    assert set(codes) == set(given)
    for win in Win.objects.select_related("voucher"):
        assert win.voucher.code in codes
    prize = {"code": "five-percent-discount", "name": "Sconto del 5%", "voucher": codes[0]}
    assert won[0] == {"data": {"winner": True, "prize": prize}}


def test_a_prize_without_a_pool_answers_exactly_as_before(client, make_contest):
    contest = make_contest(perday=1)
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    response = play(client)
    assert response.content == (
        b'{"data": {"winner": true, "prize": {"code": "five-percent-discount", '
        b'"name": "Sconto del 5%"}}}'
    )


def test_no_win_lacks_its_code_when_the_pool_runs_dry(client, make_contest):
    contest = make_contest(perday=3)
    prize = pool(contest, ["ONLY"])
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))  # one moment: one code
    # Plans made before the pool shrank could outnumber it: such moments go to no one.
    moment = WinningMoment.objects.get()
    WinningMoment.objects.create(plan=moment.plan, contest=contest, day=DAY, at=moment.at)
    bodies = [play(client).json() for _ in range(3)]
    assert sum(body["data"]["winner"] for body in bodies) == 1
    assert Win.objects.count() == 1
    assert WinningMoment.objects.filter(claimed=False).count() == 0
    assert prize.vouchers.get().win == Win.objects.get()


# Redemption --------------------------------------------------------------------------------


@pytest.fixture
def won_codes(client, make_contest, django_capture_on_commit_callbacks):
    """Two wins of C0001 by the brand, with two of the codes W1–W3; its and another's tokens."""
    contest = make_contest(perday=2)
    pool(contest, ["W1", "W2", "W3"])
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        brand = ApiClient.objects.create(name="Brand")
        brand.contests.add(contest)
        other = ApiClient.objects.create(name="Other")
        _, token = issue_token(brand)
        _, other_token = issue_token(other)
    codes = [play(client, token).json()["data"]["prize"]["voucher"] for _ in range(2)]
    return codes, token, other_token


def redeem(client, body, token=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        "/vouchers/redeem/", data, content_type="application/json", **headers, **extra
    )


def error_of(response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == str(response.status_code)
    return response.status_code, body["error"]["title"]


def test_the_five_answers_of_redemption(client, won_codes):
    (code, _), token, other_token = won_codes
    first = redeem(client, {"voucher": code}, token)
    assert first.status_code == 200
    data = first.json()["data"]
    assert data["voucher"] == code
    assert dt.datetime.fromisoformat(data["redeemed_at"]).tzinfo is not None
    assert error_of(redeem(client, {"voucher": code}, token)) == (409, "Voucher already redeemed")
    assert error_of(redeem(client, {"voucher": "NOPE"}, token)) == (404, "Voucher not found")
    # A code of the pool that no win took yet is a secret: unknown.
    unwon = Voucher.objects.get(win__isnull=True).code
    assert error_of(redeem(client, {"voucher": unwon}, token)) == (404, "Voucher not found")
    assert error_of(redeem(client, {"voucher": won_codes[0][1]}, other_token)) == (
        403,
        "Forbidden",
    )
    for body in ["{", "[]", {"code": code}, {"voucher": 7}, {"voucher": "a b"}, {"voucher": ""}]:
        assert error_of(redeem(client, body, token)) == (400, "Invalid body"), body
    assert error_of(redeem(client, {"voucher": code})) == (401, "Unauthorized")
    assert error_of(redeem(client, {"voucher": code}, "nope")) == (401, "Unauthorized")
    response = client.get("/vouchers/redeem/")
    assert error_of(response) == (405, "Method not allowed") and response["Allow"] == "POST"
    voucher = Voucher.objects.get(code=code)
    assert voucher.redeemed_at is not None and voucher.redeemed_via == "api"


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_exactly_one_succeeds(won_codes):
    (code, _), token, _ = won_codes
    barrier = threading.Barrier(2)
    statuses = []

    def attempt():
        try:
            barrier.wait(timeout=30)
            statuses.append(redeem(Client(), {"voucher": code}, token).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]


def test_codes_are_never_in_the_logs(client, make_contest, stdout_log, caplog):
    caplog.set_level(logging.DEBUG)
    contest = make_contest(perday=1)
    pool(contest, ["W1", "W2", "W3"])
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    with time_machine.travel(PLAYING, tick=False):
        answer = client.get("/play/?contest=C0001", HTTP_X_REQUEST_ID="req-won")
    code = answer.json()["data"]["prize"]["voucher"]
    _, token = issue_token(ApiClient.objects.create(name="Brand"))
    assert redeem(client, {"voucher": code}, token).status_code == 403
    assert redeem(client, {"voucher": code + "x"}, token).status_code == 404
    logged = stdout_log.getvalue() + caplog.text
    assert "req-won" in logged  # the play's line is there…
    for secret in ["W1", "W2", "W3"]:  # …without the codes
        assert secret not in logged


def test_the_counts_of_codes_given_and_redeemed(client, won_codes):
    (code, _), token, _ = won_codes
    redeem(client, {"voucher": code}, token)
    prize = Prize.objects.get()
    assert voucher_counts(prize.contest_id) == {
        prize.pk: {"imported": 3, "given": 2, "redeemed": 1}
    }


# The race ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twelve_threads_racing_for_a_voucher_prize_on_postgresql(make_contest, postgres_only):
    from tests.test_concurrency import run_together

    contest = make_contest(perday=40)
    pool(contest, [f"RACE-{n:03d}" for n in range(60)])
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))

    def plays(index):
        client, answers = Client(), []
        for number in range(6):  # 72 plays for 40 due moments
            request_id = f"t{index}-{number}"
            response = client.get("/play/?contest=C0001", HTTP_X_REQUEST_ID=request_id)
            answers.append((request_id, response.status_code, response.json()))
        return answers

    with time_machine.travel(PLAYING, tick=False):
        answers = [answer for batch in run_together(plays) for answer in batch]

    assert {status for _, status, _ in answers} == {200}
    won = {
        request_id: body["data"]["prize"]["voucher"]
        for request_id, _, body in answers
        if body["data"]["winner"]
    }
    assert len(won) == 40
    assert len(set(won.values())) == 40  # no code twice
    rows = {
        voucher.win.request_id: voucher.code
        for voucher in Voucher.objects.filter(win__isnull=False).select_related("win")
    }
    assert rows == won  # the answers' codes are the rows' codes
    assert Win.objects.count() == 40 and not Win.objects.filter(voucher__isnull=True).exists()
    assert Voucher.objects.filter(win__isnull=True).count() == 20


def test_redemptions_keep_to_the_published_contract(client, won_codes):
    from jsonschema_rs import Draft202012Validator

    from contests.play.views import OPENAPI

    document = json.loads(OPENAPI.read_text())
    operation = document["paths"]["/vouchers/redeem/"]["post"]

    def conforms(response) -> dict:
        documented = operation["responses"][str(response.status_code)]
        schema = documented["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(
            response.json()
        )
        for header, spec in documented.get("headers", {}).items():
            assert response.has_header(header), header
            if "const" in spec.get("schema", {}):
                assert response[header] == spec["schema"]["const"]
        return response.json()

    def example(status: int, name: str) -> dict:
        examples = operation["responses"][str(status)]["content"]["application/json"]["examples"]
        return examples[name]["value"]

    (code, _), token, other_token = won_codes
    assert conforms(redeem(client, {"voucher": code})) == example(401, "no_token")
    assert conforms(redeem(client, {"voucher": code}, "nope")) == example(401, "bad_token")
    malformed = redeem(client, {"voucher": code}, HTTP_AUTHORIZATION="Basic x")
    assert conforms(malformed) == example(401, "malformed")
    assert conforms(redeem(client, "{", token)) == example(400, "invalid_body")
    assert conforms(redeem(client, {"voucher": "NOPE"}, token)) == example(404, "unknown")
    assert conforms(redeem(client, {"voucher": code}, other_token)) == example(403, "forbidden")
    assert conforms(client.get("/vouchers/redeem/")) == example(405, "get")
    assert conforms(redeem(client, {"voucher": code}, token))["data"]["voucher"] == code
    again = conforms(redeem(client, {"voucher": code}, token))
    assert again["error"]["title"] == example(409, "again")["error"]["title"]
