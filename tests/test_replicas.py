"""Replicas proven together (docs/scaling.md, "Replicas proven together").

Three gunicorn masters, each with the memory of its own processes as three machines would
have, their wall clocks 5 s slow, right and 5 s fast (libfaketime), behind one Nginx
upstream, on one PostgreSQL and one Redis, play a compressed day: every contest's moments
fall due within half a minute. Meanwhile a token is revoked, a contest capped, another made
private and a third ended, and each replica must honour each change within
PLAY_MEMORY_MAX_AGE; then the replica on time is killed outright (SIGKILL to its process
group) while moments are still due. In the end every prize is won exactly perday times,
never before its moment by the database's clock, and every winning answer has its row.
"""

import contextlib
import datetime as dt
import itertools
import statistics
import time
import zoneinfo
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from contests.models import ApiClient, Contest, DayPlan, Prize, Win, WinningMoment
from contests.moments.planning import plan_moments
from contests.play.credentials import issue_token
from harness.nginx import start_nginx
from harness.servers import start_gunicorn
from tests.invariants import check_invariants
from tests.plans import contest_with_plan, zone_at_local_hour
from tests.replicas import (
    Driver,
    Play,
    gunicorn_config,
    logged_plays,
    skewed_clock,
    upstreams_by_request,
)
from tests.servers import app_environment, play
from tests.tools import tool

pytestmark = pytest.mark.django_db(transaction=True)

SKEWS = (-5, 0, 5)  # seconds each replica's clock is off
KILLED = 0  # the replica killed mid-run
MAX_AGE = 1.0
SETTINGS = {
    "PLAY_MEMORY_MAX_AGE": str(MAX_AGE),
    "BUFFER_FLUSH_INTERVAL": "1",
    "AWARD_CLOCK": "database",
    "DJANGO_ALLOWED_HOSTS": "portal.test,127.0.0.1",
    # Nginx writes the access line; the play log (stdout) is what the test reads.
    "GUNICORN_ACCESS_LOG": "false",
    "DJANGO_LOG_FORMAT": "text",
}
LEAD = dt.timedelta(seconds=3)  # from making the day to its first moment
WINDOW = dt.timedelta(seconds=24)  # the compressed day: every moment falls due within it
# The day's contests: prize code -> perday, and WMAX.
DAY = {
    "DAY-A": ({"cup": 8, "mug": 6}, None),
    "DAY-B": ({"cap": 10}, None),
    "DAY-P": ({"pen": 8}, None),  # private: played with a token
    "DAY-W": ({"hat": 8}, 1),  # capped: at most one win per player and day
}
PLAYERS = 40


@pytest.fixture
def shared_services():
    if connection.vendor != "postgresql" or "redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.skip(
            "replicas share one PostgreSQL, whose clock judges the claims, and one Redis: "
            "run with DATABASE_URL=postgres://… and REDIS_URL=redis://…"
        )


@pytest.fixture
def replicas(shared_services, tmp_path):
    """{skew: gunicorn master} and the Nginx in front of all three."""
    nginx, openssl = tool("nginx", "apt-get install nginx-light"), tool("openssl", "openssl")
    env = app_environment(**SETTINGS)
    with contextlib.ExitStack() as stack:
        servers = {
            skew: stack.enter_context(
                start_gunicorn(
                    {**env, **skewed_clock(skew)},
                    workers=2,
                    config=gunicorn_config(skew),
                    log=tmp_path / f"gunicorn{skew:+d}.log",
                )
            )
            for skew in SKEWS
        }
        edge = stack.enter_context(
            start_nginx(
                [server.address for server in servers.values()],
                directory=tmp_path / "nginx",
                # Every play comes from 127.0.0.1: no per-address limit here.
                play_rate="100000r/s",
                play_burst=100000,
                nginx=nginx,
                openssl=openssl,
            )
        )
        yield servers, edge


def database_now() -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def make_day(make_contest, start: dt.datetime, end: dt.datetime) -> tuple[list[Play], dict]:
    """The day's contests, plans and moments, and the contests edited during it."""
    zone = zone_at_local_hour(12)
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    for code, (prizes, wmax) in DAY.items():
        (first, perday), *others = prizes.items()
        contest = make_contest(
            code,
            start=today - dt.timedelta(days=1),
            end=today + dt.timedelta(days=1),
            perday=perday,
            prize_code=first,
            prize_name=first,
            time_zone=zone,
            wmax=wmax,
        )
        for prize_code, count in others:
            Prize.objects.create(contest=contest, code=prize_code, name=prize_code, perday=count)
        for prize in contest.prizes.all():
            plan = DayPlan.objects.create(
                prize=prize,
                day=today,
                window_start=start,
                window_end=end,
                moment_count=prize.perday,
                made_at=start - LEAD,
            )
            WinningMoment.objects.bulk_create(
                WinningMoment(plan=plan, contest=contest, day=today, at=at)
                for at in plan_moments(start, end, prize.perday)
            )
    edited = {code: contest_with_plan(make_contest, code, due=0, later=2)
              for code in ("EDIT-CAP", "EDIT-PRIVATE", "EDIT-TOKEN")}  # fmt: skip
    # Never drawn (WMAX, and played without a user), so never planned: its end may still
    # move before today (a played contest's may not, Contest.played_rule_errors).
    make_contest("EDIT-END", start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1),
                 time_zone=zone, wmax=1)  # fmt: skip
    brand = ApiClient.objects.create(name="Brand")
    brand.contests.add(Contest.objects.get(code="DAY-P"), edited["EDIT-TOKEN"])
    _, driving = issue_token(brand)
    revoked, doomed = issue_token(brand)
    plays = [
        Play("DAY-A"),
        Play("DAY-B"),
        Play("DAY-P", headers=(("Authorization", f"Bearer {driving}"),)),
        Play("DAY-W", players=PLAYERS),
    ]
    return plays, {"brand": brand, "driving": driving, "revoked": revoked, "doomed": doomed}


class Direct:
    """Plays sent straight to one replica, bypassing Nginx, all kept for the invariants."""

    def __init__(self):
        self.answers = []
        self._numbers = itertools.count()

    def status(self, server, query: str, headers: dict | None = None) -> int | None:
        answer = play(server.url, query, f"x{next(self._numbers)}", headers)
        self.answers.append(answer)
        return answer.status

    def honoured(self, servers: dict, query: str, wanted: int, headers=None) -> dict[int, float]:
        """Call just after a change committed. Once PLAY_MEMORY_MAX_AGE has passed, every
        answer of every replica must be `wanted` (each has two workers, each worker a memory
        of its own); until then, note how soon each replica first answered so."""
        bound = time.monotonic() + MAX_AGE
        seen: dict[int, float] = {}
        while time.monotonic() < bound:
            for skew, server in servers.items():
                asked = MAX_AGE - (bound - time.monotonic())
                if skew not in seen and self.status(server, query, headers) == wanted:
                    seen[skew] = round(asked, 2)
            time.sleep(0.02)
        # All at once: quicker, and a busy worker leaves the next connection to its sibling.
        asked = [(skew, server) for skew, server in servers.items() for _ in range(8)]
        with ThreadPoolExecutor(len(asked)) as pool:
            statuses = list(pool.map(lambda pair: self.status(pair[1], query, headers), asked))
        for skew in servers:
            theirs = [status for (s, _), status in zip(asked, statuses, strict=True) if s == skew]
            assert theirs == [wanted] * 8, f"replica {skew:+d} s after the bound: {theirs}"
        return seen


def unclaimed_of_the_day() -> int:
    return WinningMoment.objects.filter(contest__code__startswith="DAY-", claimed=False).count()


def test_three_skewed_replicas_award_every_prize_once_in_time_and_survive_a_kill(
    replicas, make_contest
):
    servers, edge = replicas
    # Each replica's clock is what it says in its Date header (whole seconds).
    for skew, server in servers.items():
        before = time.time()
        said = parsedate_to_datetime(server.get("/play/").headers["Date"]).timestamp()
        assert skew - 1.5 <= said - before <= skew + 1.5, (skew, said - before)
    workers = {skew: set(server.worker_pids()) for skew, server in servers.items()}

    start = database_now() + LEAD
    end = start + WINDOW
    with transaction.atomic():  # the replicas see the whole day or none of it
        plays, edits = make_day(make_contest, start, end)
    direct = Direct()
    bearer = {"Authorization": f"Bearer {edits['doomed']}"}
    kept = {"Authorization": f"Bearer {edits['driving']}"}
    for server in servers.values():  # every replica remembers the contests and tokens
        assert direct.status(server, "contest=EDIT-CAP") == 200
        assert direct.status(server, "contest=EDIT-PRIVATE") == 200
        assert direct.status(server, "contest=EDIT-TOKEN", bearer) == 200
        assert direct.status(server, "contest=EDIT-END") == 400  # "User missing"

    seen = {}
    with Driver(edge, plays) as driver:
        edits_started = time.monotonic()
        edits["revoked"].revoked_at = timezone.now()
        edits["revoked"].save()  # as the admin's "revoke" action does
        seen["revoked"] = direct.honoured(servers, "contest=EDIT-TOKEN", 401, bearer)
        assert {direct.status(s, "contest=EDIT-TOKEN", kept) for s in servers.values()} == {200}

        capped = Contest.objects.get(code="EDIT-CAP")
        capped.wmax = 1
        capped.save()
        seen["capped"] = direct.honoured(servers, "contest=EDIT-CAP", 400)  # "User missing"

        edits["brand"].contests.add(Contest.objects.get(code="EDIT-PRIVATE"))
        seen["private"] = direct.honoured(servers, "contest=EDIT-PRIVATE", 401)

        ended = Contest.objects.get(code="EDIT-END")
        ended.end = ended.start  # yesterday: the contest is over
        ended.save()
        seen["ended"] = direct.honoured(servers, "contest=EDIT-END", 422)

        edited_after = time.monotonic() - edits_started
        # Mid-run: some prizes won, some still to fall due. Kill the replica on time.
        while dt.datetime.now(dt.UTC) < start + WINDOW * 0.4:
            time.sleep(0.05)
        won_before_kill = Win.objects.count()
        left_at_kill = unclaimed_of_the_day()
        killed = servers[KILLED]
        killed.kill()

        deadline = time.monotonic() + (end - dt.datetime.now(dt.UTC)).total_seconds() + 30
        while unclaimed_of_the_day() and time.monotonic() < deadline:
            time.sleep(0.2)
    survivors = {skew: s for skew, s in servers.items() if skew != KILLED}
    workers_after = {skew: set(s.worker_pids()) for skew, s in survivors.items()}
    for server in survivors.values():
        server.stop()  # graceful: the play logs are written out
    sent = driver.sent
    print(f"\nplays through Nginx: {len(sent)}; the edits took {edited_after:.1f} s")
    print(f"first seen changed by each replica after (s): {seen}")

    assert won_before_kill > 0 and left_at_kill > 0
    # Every prize won exactly perday times.
    plans = DayPlan.objects.filter(prize__contest__code__startswith="DAY-").annotate(
        won=Count("moments__win")
    )
    assert [(p.prize.code, p.won) for p in plans] == [(p.prize.code, p.prize.perday) for p in plans]
    # Never before its moment by the database's clock (won_at is the claim's own time).
    assert not Win.objects.filter(won_at__lt=F("moment__at")).exists()
    # Every winning answer has its row; no moment twice; no wrong win (a play whose
    # replica died, or whose answer was Nginx's 502, may have won).
    outcome = check_invariants(
        [s.answer for s in sent] + direct.answers, wins_may_follow=frozenset({502})
    )
    print(f"statuses: {dict(outcome.statuses)}; wins {outcome.wins}")
    # The cap held across replicas: at most one win per player and day.
    most = (
        Win.objects.filter(contest__code="DAY-W")
        .values("player")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    assert most[0]["n"] == 1

    upstream = upstreams_by_request((edge.directory / "nginx-access.log").read_text())
    by_replica = {skew: {rid for rid, a in upstream.items() if a == s.address}
                  for skew, s in servers.items()}  # fmt: skip
    assert all(by_replica.values()), "Nginx balanced over all three"
    winners = {w.request_id for w in Win.objects.all()}
    print({skew: len(rids & winners) for skew, rids in by_replica.items()}, "wins per replica")
    # The killed replica had won prizes, whose rows are there (check_invariants), and the
    # first play Nginx passed to it after the kill was answered 502.
    assert by_replica[KILLED] & winners and outcome.statuses[502] >= 1

    # The fast replica's own clock said a moment was due, the database's said not yet:
    # it asked, and lost. Its play log's times are its own clock's.
    received = {s.answer.request_id: s for s in sent}
    moments = {}
    for code, at in WinningMoment.objects.filter(contest__code__startswith="DAY-").values_list(
        "contest__code", "at"
    ):
        moments.setdefault(code, []).append(at.timestamp())
    fast = logged_plays(servers[5])
    early = [
        p
        for p in fast.values()
        if p.request_id in received
        and any(received[p.request_id].received < at <= p.started for at in moments[p.contest])
    ]
    # Lost: a moment not yet due by the database, due by its clock, was there to take. (Those
    # that won took an earlier moment, due by both; a capped player is refused first.)
    outcomes = Counter(p.outcome.split()[0] for p in early)
    assert outcomes["lost"] > 0, outcomes
    # And every win was decided between its moment and its answer, on the database's clock.
    for win in Win.objects.filter(request_id__in=received).select_related("moment"):
        assert (
            win.moment.at
            <= win.won_at
            <= dt.datetime.fromtimestamp(received[win.request_id].received, dt.UTC)
        )
    print(f"plays the fast replica's clock thought due, the database's not: {dict(outcomes)}")

    # The clocks really were skewed, all run long: from the play logs, to the millisecond.
    for skew, server in survivors.items():
        lines = logged_plays(server)
        offsets = [
            lines[r].started - (received[r].sent + received[r].received) / 2
            for r in lines
            if r in received
        ]
        assert abs(statistics.median(offsets) - skew) < 0.5, (skew, statistics.median(offsets))
        # …without breaking gunicorn's worker heartbeats: no worker timed out or restarted.
        assert "WORKER TIMEOUT" not in server.log_text()
        assert workers_after[skew] == workers[skew]
    assert not killed.running()
