"""The checks of `manage.py verify_contest`: each an independent function of the Evidence
(sources.py) that yields what it finds wrong. CHECKS lists them in the order they run; a
new check is one function and one line there.

A check that needs the database (the wins, the closing record) says so with
@needs_database, and is skipped when only the published documents are at hand.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone, translation

from ..models import RecoveryDraw, Timestamp, TimestampRequest, Win, WinningMoment
from ..moments.sealing import Seal
from ..recovery.service import recompute
from ..staff.closing_seal import closing_record_digest, whole_contest_report
from . import timestamps
from .sources import Evidence

# Claims that ran at the same time may take their moments in either order (each locks
# the earliest it can, skipping those locked by the others, and a claim's time is when
# its transaction began): a win may pass over an earlier moment that another win took
# up to this long after it.
CONCURRENT_CLAIMS = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Failure:
    check: str
    day: str  # YYYY-MM-DD, or "" for the whole contest
    prize: str
    row: str  # which record: "plan 12", "win 40", "moment 7", a URL
    problem: str

    def as_dict(self) -> dict:
        return asdict(self)


Check = Callable[[Evidence], Iterable[Failure]]


def needs_database(check: Check) -> Check:
    check.needs_database = True
    return check


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


# The plans ---------------------------------------------------------------------------------


def plans_match_their_commitments(evidence: Evidence) -> Iterator[Failure]:
    """Each revealed plan's moments and salt (and rules, a v2 plan) hash to its commitment
    (docs/auditing.md)."""
    name = "plans_match_their_commitments"
    for plan in evidence.plans:
        if plan.moment_lines is None:
            continue  # not revealed yet: its token is still checked
        if not plan.commitment:
            yield Failure(name, _day(plan.day), plan.prize, plan.row, "not sealed")
            continue
        seal = Seal(evidence.code, plan.prize, plan.day, plan.salt or "", plan.rules)
        count = 0
        for line in plan.moment_lines():
            seal.add_lines([line])
            count += 1
        if count != plan.moment_count:
            yield Failure(
                name,
                _day(plan.day),
                plan.prize,
                plan.row,
                f"{count} moments, {plan.moment_count} planned",
            )
        if seal.hexdigest() != plan.commitment:
            yield Failure(
                name,
                _day(plan.day),
                plan.prize,
                plan.row,
                f"the moments and salt hash to {seal.hexdigest()}, not to the commitment "
                f"{plan.commitment}",
            )


def plans_have_valid_timestamps(evidence: Evidence) -> Iterator[Failure]:
    """Each plan's token stamps its commitment, chains to the TSA's CA, and is older than
    the plan's first moment."""
    name = "plans_have_valid_timestamps"
    if not evidence.roots and any(plan.tokens for plan in evidence.plans):
        yield Failure(name, "", "", "", "no CA certificate to check the tokens against (--tsa-ca)")
        return
    for plan in evidence.plans:
        if not plan.tokens:
            passed = plan.first_moment is not None and plan.first_moment <= timezone.now()
            if plan.token_expected and passed:
                yield Failure(name, _day(plan.day), plan.prize, plan.row, "no timestamp token")
            continue
        problem = timestamps.token_problem(
            plan.tokens, plan.commitment, plan.first_moment, evidence.roots
        )
        if problem:
            yield Failure(name, _day(plan.day), plan.prize, plan.row, problem)


def published_days_were_read(evidence: Evidence) -> Iterator[Failure]:
    for day, problem in evidence.unreadable:
        yield Failure("published_days_were_read", _day(day), "", "", problem)


# The wins ----------------------------------------------------------------------------------


@needs_database
def no_moment_awarded_twice(evidence: Evidence) -> Iterator[Failure]:
    name = "no_moment_awarded_twice"
    wins = Win.objects.filter(contest=evidence.contest)
    for row in wins.values("moment_id").annotate(count=Count("id")).filter(count__gt=1):
        ids = sorted(wins.filter(moment_id=row["moment_id"]).values_list("pk", flat=True))
        win = Win.objects.select_related("prize").get(pk=ids[0])
        yield Failure(
            name,
            _day(win.day),
            win.prize.code,
            f"moment {row['moment_id']}",
            f"awarded {row['count']} times: wins {', '.join(map(str, ids))}",
        )
    for win in wins.select_related("moment__plan__prize", "prize").exclude(
        moment__contest=F("contest"), moment__day=F("day"), moment__plan__prize=F("prize")
    ):
        yield Failure(
            name,
            _day(win.day),
            win.prize.code,
            f"win {win.pk}",
            f"its moment {win.moment_id} is of another day or prize",
        )


@needs_database
def no_day_with_more_wins_than_moments(evidence: Evidence) -> Iterator[Failure]:
    name = "no_day_with_more_wins_than_moments"
    contest = evidence.contest
    moments = dict(
        WinningMoment.objects.filter(contest=contest)
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )
    planned = defaultdict(int)
    for plan in evidence.plans:
        planned[plan.day] += plan.moment_count
    for day, won in (
        Win.objects.filter(contest=contest)
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    ):
        limit = min(moments.get(day, 0), planned.get(day, 0))
        if won > limit:
            yield Failure(
                name,
                _day(day),
                "",
                "",
                f"{won} wins, {moments.get(day, 0)} moments stored, {planned.get(day, 0)} planned",
            )


@needs_database
def each_win_took_the_earliest_due_moment(evidence: Evidence) -> Iterator[Failure]:
    """Replay each day's claims: every win took a moment already due at its time, and no
    earlier moment was left unclaimed when it did (within CONCURRENT_CLAIMS). A claimed
    moment has its win, and a win's moment is claimed."""
    contest = evidence.contest
    for day in sorted({plan.day for plan in evidence.plans}):
        yield from _replay_day(contest, day)


def _replay_day(contest, day: dt.date) -> Iterator[Failure]:
    name = "each_win_took_the_earliest_due_moment"
    wins = {
        moment_id: (pk, won_at, prize)
        for pk, moment_id, won_at, prize in Win.objects.filter(contest=contest, day=day)
        .order_by("won_at", "id")
        .values_list("pk", "moment_id", "won_at", "prize__code")
    }
    moments = (
        WinningMoment.objects.filter(plan__prize__contest=contest, day=day)
        .order_by("at", "id")
        .values_list("pk", "at", "claimed", "plan__prize__code", "plan__expire_after")
        .iterator(chunk_size=10_000)
    )
    # The latest claim of any moment so far in (at, id) order, and that moment: a win is
    # wrong if an earlier moment was still unclaimed at its time.
    latest_claim, latest_moment = None, None
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    for pk, at, claimed, prize, expire_after in moments:
        win = wins.get(pk)
        if claimed and win is None:
            yield Failure(name, _day(day), prize, f"moment {pk}", "claimed, but no win has it")
        if win is not None and not claimed:
            yield Failure(name, _day(day), prize, f"win {win[0]}", f"its moment {pk} is unclaimed")
        if win is not None:
            win_pk, won_at, _ = win
            if at > won_at:
                yield Failure(
                    name,
                    _day(day),
                    prize,
                    f"win {win_pk}",
                    f"won at {won_at.isoformat()} a moment not due until {at.isoformat()}",
                )
            if latest_claim is not None and latest_claim > won_at + CONCURRENT_CLAIMS:
                taken = (
                    "never won" if latest_claim == never else f"won at {latest_claim.isoformat()}"
                )
                yield Failure(
                    name,
                    _day(day),
                    prize,
                    f"win {win_pk}",
                    f"won at {won_at.isoformat()} moment {pk}, while the earlier moment "
                    f"{latest_moment} was due and unclaimed ({taken})",
                )
        # A moment nobody claimed stood until the day's end, or until it expired (a plan
        # whose rule expires moments, docs/design.md "Draw rules").
        unclaimed_until = never if expire_after is None else at + expire_after
        claim = win[1] if win is not None else (unclaimed_until if not claimed else None)
        if claim is not None and (latest_claim is None or claim > latest_claim):
            latest_claim, latest_moment = claim, pk


# The closing record ------------------------------------------------------------------------


@needs_database
def closing_record_matches_the_database(evidence: Evidence) -> Iterator[Failure]:
    """The closing report's totals are the database's, and every sealed closing record
    (its CSV's SHA-256, timestamped) is still what the database gives."""
    name = "closing_record_matches_the_database"
    contest = evidence.contest
    report = whole_contest_report(contest)
    if report is None:
        return
    stored = dict(
        WinningMoment.objects.filter(
            plan__prize__contest=contest, day__range=(report.start, report.end)
        )
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )
    won = dict(
        Win.objects.filter(contest=contest, day__range=(report.start, report.end))
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )
    for line in report.days:
        if line.planned != stored.get(line.day, 0):
            yield Failure(
                name,
                _day(line.day),
                "",
                "",
                f"the report plans {line.planned} moments, the database stores "
                f"{stored.get(line.day, 0)}",
            )
        if line.awarded != won.get(line.day, 0):
            yield Failure(
                name,
                _day(line.day),
                "",
                "",
                f"the report awards {line.awarded}, the database has {won.get(line.day, 0)} wins",
            )
    sealed = TimestampRequest.objects.filter(
        kind=timestamps.CLOSING_RECORD, reference=contest.code
    ).order_by("requested_at")
    latest = sealed.last()
    if latest is None:
        return
    stamp = Timestamp.objects.filter(request=latest).first()
    if stamp is not None and (
        problem := timestamps.token_problem(
            [bytes(stamp.token)], latest.digest, None, evidence.roots
        )
    ):
        yield Failure(name, "", "", f"timestamp {stamp.pk}", problem)
    # purge_player_data blanks the player ids, which the CSV lists: past that, the sealed
    # digest can no longer be recomputed (its token still proves when it was made).
    purge_after = contest.end + dt.timedelta(days=settings.PLAYER_DATA_RETENTION_DAYS)
    if contest.local_date(timezone.now()) > purge_after:
        return
    digests = set()
    for language, _ in settings.LANGUAGES:
        with translation.override(language):
            digests.add(closing_record_digest(report))
    if latest.digest not in digests:
        yield Failure(
            name,
            "",
            "",
            f"timestamp request {latest.pk}",
            f"the closing record sealed on {latest.requested_at.isoformat()} "
            f"({latest.digest}) is not what the database gives now",
        )


# The recovery draw -------------------------------------------------------------------------


@needs_database
def recovery_draw_recomputes(evidence: Evidence) -> Iterator[Failure]:
    """The recovery draw's list and seed match their published digests, and its winners
    and reserves are what the published procedure picks from them (docs/auditing.md)."""
    record = RecoveryDraw.objects.filter(contest=evidence.contest).first()
    if record is None:
        return
    for problem in recompute(record):
        yield Failure("recovery_draw_recomputes", "", "", f"recovery draw {record.pk}", problem)


CHECKS: list[Check] = [
    published_days_were_read,
    plans_match_their_commitments,
    plans_have_valid_timestamps,
    no_moment_awarded_twice,
    no_day_with_more_wins_than_moments,
    each_win_took_the_earliest_due_moment,
    closing_record_matches_the_database,
    recovery_draw_recomputes,
]


@dataclass
class Outcome:
    check: str
    failures: list[Failure]
    skipped: bool = False


def run_checks(evidence: Evidence, checks: list[Check] | None = None) -> list[Outcome]:
    outcomes = []
    for check in CHECKS if checks is None else checks:
        if getattr(check, "needs_database", False) and evidence.contest is None:
            outcomes.append(Outcome(check.__name__, [], skipped=True))
            continue
        outcomes.append(Outcome(check.__name__, list(check(evidence))))
    return outcomes
