"""In a real browser: staff sign in, create a contest, watch its first win, export it.

Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python against the live
server; `playwright install` is never run. CI installs the chromium package, so these
tests skip only on a machine without it, and say so.
"""

import csv
import datetime as dt
import io
import json
import time
import urllib.request
import zoneinfo
from pathlib import Path

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
PERDAY = 50_000


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
    """Play over plain HTTP until a play wins; return its answer and request id."""
    deadline = time.monotonic() + PLAY_FOR_AT_MOST_SECONDS
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our live server)
            answer = json.load(response)
            if answer["data"]["winner"]:
                return answer, response.headers["X-Request-ID"]
        time.sleep(0.1)
    pytest.fail(f"no win within {PLAY_FOR_AT_MOST_SECONDS} s of plays")


def test_staff_create_a_contest_watch_its_first_win_and_export_it(
    page, live_server, staff_login, request
):
    from playwright.sync_api import expect

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

    # Signing in from the portal's home comes back to it.
    page.goto(live_server.url + "/")
    expect(page.get_by_text("Staff sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Contests")).to_be_visible()

    page.get_by_role("main").get_by_role("link", name="New contest").click()
    contest = page.get_by_role("group", name="Contest")
    contest.get_by_label("Code").fill("BROWSER1")
    contest.get_by_label("Name").fill("Vinci subito – browser")
    contest.get_by_label("Start").fill(today.isoformat())
    contest.get_by_label("End").fill((today + dt.timedelta(days=7)).isoformat())
    expect(contest.get_by_label("Time zone")).to_have_value(settings.TIME_ZONE)
    prize = page.get_by_role("group", name="Prize 1")
    prize.get_by_label("Code").fill("instant-gift")
    prize.get_by_label("Name").fill("Un regalo immediato")
    prize.get_by_label("Wins per day").fill(str(PERDAY))
    page.get_by_role("button", name="Create contest").click()

    expect(page).to_have_url(live_server.url + "/contests/BROWSER1/")
    expect(page.get_by_text("Contest BROWSER1 created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Vinci subito – browser")).to_be_visible()

    answer, request_id = play_until_a_win(live_server.url + "/play/?contest=BROWSER1")
    assert answer == {
        "data": {"winner": True, "prize": {"code": "instant-gift", "name": "Un regalo immediato"}}
    }

    page.reload()
    expect(page.get_by_role("cell", name=request_id)).to_be_visible()
    expect(page.get_by_role("cell", name="Un regalo immediato").first).to_be_visible()
    expect(page.get_by_role("img", name="Cumulative wins")).to_be_visible()
    screenshot = output_dir(request) / "contest-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot of the contest page: {screenshot}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
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

    # The other pages staff open, the admin's too, with nothing blocked by the CSP.
    for path in ["/", "/winners/", "/contests/BROWSER1/report/", "/contests/BROWSER1/history/"]:
        page.goto(live_server.url + path)
        expect(page.get_by_role("main")).to_be_visible()
    for path in ["/admin/", "/admin/contests/contest/", "/admin/contests/win/"]:
        page.goto(live_server.url + path)
        expect(page.locator("#content")).to_be_visible()
    assert blocked == []
