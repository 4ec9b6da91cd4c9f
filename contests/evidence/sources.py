"""What `manage.py verify_contest` checks, from either source: the database (or a copy of
it), or only the documents the portal published (GET /contests/CODE/plans/DAY/).

Both give the same Evidence: the contest's plans with their commitments, salts, moments
and timestamp tokens. Only the database also gives the wins and the closing record, so
the checks that need them (checks.py) are skipped for published documents.
"""

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..models import Contest, DayPlan, WinningMoment
from ..moments.sealing import moment_line
from . import timestamps

READ_BATCH = 10_000


@dataclass
class PlanEvidence:
    day: dt.date
    prize: str
    moment_count: int
    commitment: str
    made_at: dt.datetime
    # Where the plan comes from, for failures: "plan 12", or the published document's URL.
    row: str
    tokens: list[bytes] = field(default_factory=list)
    # Revealed only once the day is over: None before.
    salt: str | None = None
    moment_lines: Callable[[], Iterable[str]] | None = None
    first_moment: dt.datetime | None = None
    # Whether a token is owed: the portal was using a TSA when the plan was made.
    token_expected: bool = False
    # A v2 plan's sealed rule lines, each ending in "\n" (docs/auditing.md); "" for v1.
    rules: str = ""


@dataclass
class Evidence:
    code: str
    plans: list[PlanEvidence]
    # The database's contest; None when only the published documents are at hand.
    contest: Contest | None
    # The CA certificates the tokens must chain to.
    roots: tuple
    # What could not be read (a day whose document did not come), as failures to report.
    unreadable: list[tuple[dt.date, str]] = field(default_factory=list)


class SourceError(Exception):
    """The evidence cannot be read at all (the portal does not answer, say)."""


def from_database(contest: Contest, roots: tuple) -> Evidence:
    plans = (
        DayPlan.objects.filter(prize__contest=contest)
        .select_related("prize")
        .order_by("day", "prize__code")
    )
    stamps = timestamps.plan_stamps(plans)
    first_request = timestamps.first_request_time()
    return Evidence(
        contest.code,
        [_plan_from_database(plan, stamps.get(plan.pk, []), first_request) for plan in plans],
        contest,
        roots,
    )


def _plan_from_database(plan: DayPlan, stamps, first_request) -> PlanEvidence:
    def lines() -> Iterator[str]:
        moments = plan.moments.order_by("at", "id").values_list("at", flat=True)
        return (moment_line(at) for at in moments.iterator(chunk_size=READ_BATCH))

    return PlanEvidence(
        day=plan.day,
        prize=plan.prize.code,
        moment_count=plan.moment_count,
        commitment=plan.commitment,
        made_at=plan.made_at,
        row=f"plan {plan.pk}",
        tokens=[bytes(stamp.token) for stamp in stamps],
        salt=plan.salt,
        moment_lines=lines,
        first_moment=WinningMoment.objects.filter(plan=plan)
        .order_by("at")
        .values_list("at", flat=True)
        .first(),
        token_expected=first_request is not None and plan.made_at >= first_request,
        rules=plan.rules,
    )


def from_published(
    base_url: str, code: str, days: Iterable[dt.date], roots: tuple, timeout: float = 30
) -> Evidence:
    """Read the published document of each day; days with no plan are left out."""
    plans: list[PlanEvidence] = []
    unreadable = []
    for day in days:
        url = urllib.parse.urljoin(
            base_url.rstrip("/") + "/", f"contests/{urllib.parse.quote(code)}/plans/{day}/"
        )
        try:
            document = _fetch(url, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and _title(exc) == "Plan not found":
                continue
            if exc.code == 404 and _title(exc) == "Contest not found":
                raise SourceError(f"{base_url} knows no contest {code}") from None
            unreadable.append((day, f"{url} answered {exc.code}"))
            continue
        except (OSError, ValueError) as exc:
            raise SourceError(f"{url} cannot be read: {exc}") from None
        plans.extend(_plans_of_document(document["data"], url))
    stamped = sorted(plan.made_at for plan in plans if plan.tokens)
    for plan in plans:
        plan.token_expected = bool(stamped) and plan.made_at >= stamped[0]
    return Evidence(code, plans, None, roots, unreadable)


def _fetch(url: str, timeout: float) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return json.load(answer)


def _title(error: urllib.error.HTTPError) -> str:
    try:
        return json.load(error)["error"]["title"]
    except (ValueError, KeyError, TypeError):
        return ""


def _plans_of_document(data: dict, url: str) -> Iterator[PlanEvidence]:
    day = dt.date.fromisoformat(data["day"])
    for entry in data["plans"]:
        moments = entry.get("moments") if data.get("revealed") else None
        token = entry.get("timestamp_token")
        yield PlanEvidence(
            day=day,
            prize=entry["prize"],
            moment_count=entry["moment_count"],
            commitment=entry["commitment"],
            made_at=dt.datetime.fromisoformat(entry["made_at"]),
            row=url,
            tokens=[base64.b64decode(token)] if token else [],
            salt=entry.get("salt") if moments is not None else None,
            moment_lines=(lambda moments=moments: moments) if moments is not None else None,
            first_moment=_parsed_moment(moments[0]) if moments else None,
            rules="".join(f"{line}\n" for line in entry.get("rules", ())),
        )


def _parsed_moment(line: str) -> dt.datetime:
    return dt.datetime.strptime(line, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
