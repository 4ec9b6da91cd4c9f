"""In a real browser: staff sign in, create a contest, watch its first win, export it;
in English and, chosen with the header's switcher, in Italian.

Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python against the live
server; `playwright install` is never run. CI installs the chromium package, so these
tests skip only on a machine without it, and say so.
"""

import csv
import datetime as dt
import io
import json
import re
import time
import urllib.request
import zoneinfo
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.db import connections

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Bounds the wait for the first win: with 50 000 moments a day the first one is due
# within about a second of the plan being made, however late in the day.
PLAY_FOR_AT_MOST_SECONDS = 30
PLAN_FOR_AT_MOST_SECONDS = 120
PERDAY = 50_000

# What the test reads and types, in each language; dates are typed in the language's order.
LABELS = {
    "en": {
        "switch": None,
        "sign in page": "Staff sign in",
        "username": "Username",
        "password": "Password",
        "sign in": "Sign in",
        "contests": "Contests",
        "new contest": "New contest",
        "contest": "Contest",
        "code": "Code",
        "name": "Name",
        "start": "Start",
        "end": "End",
        "time zone": "Time zone",
        "prize 1": "Prize 1",
        "wins per day": "Wins per day",
        "create": "Create contest",
        "created": "Contest BROWSER1 created.",
        "chart": "Cumulative wins",
        "export csv": "Export CSV",
        "export xlsx": "Export XLSX",
        "date": "%Y-%m-%d",
        "request id": "Request id",
    },
    "it": {
        "switch": "Italiano",
        "sign in page": "Accesso del personale",
        "username": "Nome utente",
        "password": "Password",
        "sign in": "Accedi",
        "contests": "Concorsi",
        "new contest": "Nuovo concorso",
        "contest": "Concorso",
        "code": "Codice",
        "name": "Nome",
        "start": "Inizio",
        "end": "Fine",
        "time zone": "Fuso orario",
        "prize 1": "Premio 1",
        "wins per day": "Vincite al giorno",
        "create": "Crea il concorso",
        "created": "Concorso BROWSER1 creato.",
        "chart": "Vincite cumulate",
        "export csv": "Esporta CSV",
        "export xlsx": "Esporta XLSX",
        "date": "%d/%m/%Y",
        "request id": "ID richiesta",
    },
}


@pytest.fixture
def staff_login(live_server, staff_user) -> tuple[str, str]:
    """Made before the browser starts, so that the database sees a plain sync caller."""
    return staff_user.username, "alice-pw-1"


@pytest.fixture
def page(staff_login, monkeypatch, request):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM
    # calls where a loop runs; those calls are plain synchronous ones. Only for this test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        call = getattr(request.node, "rep_call", None)
        if call is not None and call.failed:
            failure = output_dir(request) / "failure.png"
            page.screenshot(path=str(failure), full_page=True)
            print(f"\nscreenshot at the failure: {failure}")
        context.close()
        browser.close()
        # Django keeps connections per async context: close any opened while the loop
        # ran, or dropping the test database at the end finds it still in use.
        connections.close_all()


def output_dir(request) -> Path:
    path = request.config.rootpath / "test-results" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def play_until_a_win(url: str) -> tuple[dict, str]:
    """Play over plain HTTP until a play wins; return its answer and request id.

    The first play plans the day's 50 000 moments, which takes seconds on a busy machine
    (16 s seen with other test suites running): it gets its own time, and a client that
    gave up on it sooner would only race a second play against the planning.
    """
    deadline = None
    while deadline is None or time.monotonic() < deadline:
        timeout = PLAN_FOR_AT_MOST_SECONDS if deadline is None else 10
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (ours)
            answer = json.load(response)
            if answer["data"]["winner"]:
                return answer, response.headers["X-Request-ID"]
        deadline = deadline or time.monotonic() + PLAY_FOR_AT_MOST_SECONDS
        time.sleep(0.1)
    pytest.fail(f"no win within {PLAY_FOR_AT_MOST_SECONDS} s of plays")


@pytest.mark.parametrize("language", ["en", "it"])
def test_staff_create_a_contest_watch_its_first_win_and_export_it(
    page, live_server, staff_login, request, language
):
    from playwright.sync_api import expect

    text = LABELS[language]
    username, password = staff_login
    today = dt.datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    # Chromium reports what the Content-Security-Policy blocked (an inline style or script)
    # on its console: no page of the walk below may have any.
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    # Signing in from the portal's home comes back to it, in the language chosen there.
    page.goto(live_server.url + "/")
    if text["switch"]:
        page.get_by_role("button", name=text["switch"]).click()
    expect(page.get_by_text(text["sign in page"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_label(text["username"]).fill(username)
    page.get_by_label(text["password"]).fill(password)
    page.get_by_role("button", name=text["sign in"]).click()
    expect(page.get_by_role("heading", name=text["contests"])).to_be_visible()

    page.get_by_role("main").get_by_role("link", name=text["new contest"]).click()
    contest = page.get_by_role("group", name=text["contest"])
    # Whole label: "Code" is also in the beneficiary's fiscal code's.
    code = re.compile(rf"^{re.escape(text['code'])}\*?$")
    contest.get_by_role("textbox", name=code).fill("BROWSER1")
    contest.get_by_label(text["name"]).fill("Vinci subito – browser")
    contest.get_by_label(text["start"]).fill(today.strftime(text["date"]))
    contest.get_by_label(text["end"]).fill((today + dt.timedelta(days=7)).strftime(text["date"]))
    expect(contest.get_by_label(text["time zone"])).to_have_value(settings.TIME_ZONE)
    prize = page.get_by_role("group", name=text["prize 1"])
    prize.get_by_label(text["code"]).fill("instant-gift")
    prize.get_by_label(text["name"]).fill("Un regalo immediato")
    prize.get_by_label(text["wins per day"]).fill(str(PERDAY))
    page.get_by_role("button", name=text["create"]).click()

    expect(page).to_have_url(live_server.url + "/contests/BROWSER1/")
    expect(page.get_by_text(text["created"])).to_be_visible()
    expect(page.get_by_role("heading", name="Vinci subito – browser")).to_be_visible()

    answer, request_id = play_until_a_win(live_server.url + "/play/?contest=BROWSER1")
    assert answer == {
        "data": {"winner": True, "prize": {"code": "instant-gift", "name": "Un regalo immediato"}}
    }

    page.reload()
    expect(page.get_by_role("cell", name=request_id)).to_be_visible()
    expect(page.get_by_role("cell", name="Un regalo immediato").first).to_be_visible()
    expect(page.get_by_role("img", name=text["chart"])).to_be_visible()
    screenshot = output_dir(request) / f"contest-page-{language}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot of the contest page: {screenshot}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=text["export csv"]).click()
    download = download_info.value
    assert download.suggested_filename == (
        f"winners-BROWSER1-from-{today.isoformat()}-to-{today.isoformat()}.csv"
    )
    body = Path(download.path()).read_bytes()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    won = [row for row in rows if row["request_id"] == request_id]
    assert len(won) == 1
    assert (won[0]["contest"], won[0]["prize_code"]) == ("BROWSER1", "instant-gift")
    assert dt.datetime.fromisoformat(won[0]["won_at"]).utcoffset() is not None

    # The same winner in the XLSX, under the language's headings.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=text["export xlsx"]).click()
    xlsx = Path(download_info.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(2)]
    assert [row[text["request id"]] for row in rows] == [request_id]

    # The other pages staff open, the admin's too, with nothing blocked by the CSP.
    for path in ["/", "/winners/", "/contests/BROWSER1/report/", "/contests/BROWSER1/history/"]:
        page.goto(live_server.url + path)
        expect(page.get_by_role("main")).to_be_visible()
    for path in ["/admin/", "/admin/contests/contest/", "/admin/contests/win/"]:
        page.goto(live_server.url + path)
        expect(page.locator("#content")).to_be_visible()
    assert blocked == []
