"""The JSON API: GET /play/, the published day plans, and the envelope every answer uses.

Answers are the contract in docs/api.md (R1–R8), word for word.
"""

import datetime as dt
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from functools import cache as remember
from functools import wraps
from pathlib import Path

from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from ..models import CODE_PATTERN, CONTEST_CODE_MAX_LENGTH, PLAYER_MAX_LENGTH, Contest
from ..moments import audit
from ..moments.claiming import DailyCapReached
from . import state
from .credentials import Credentials, bearer_digest
from .draw import draw

log = logging.getLogger("contests.play")

_CONTEST_CODE = re.compile(rf"{CODE_PATTERN}")


def error(status: int, title: str, detail: str) -> JsonResponse:
    """Build an answer in the error envelope shared by every API error."""
    return JsonResponse(
        {"error": {"status": str(status), "title": title, "detail": detail}}, status=status
    )


def api_view(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Serve GET only, never from a cache, and answer in the envelope whatever happens.

    CSRF does not apply: the API reads no cookie, and its 405 must stay in the envelope.
    """

    @csrf_exempt
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        if request.method != "GET":
            response = error(
                405, "Method not allowed", f"Use GET; {request.method} is not supported here."
            )
            response["Allow"] = "GET"
            return response
        try:
            return view(request, *args, **kwargs)
        except (DatabaseError, InterfaceError):
            # A claim that failed rolled back: nothing was awarded, so retrying is safe.
            # InterfaceError is not a DatabaseError: a connection the server closed raises it.
            log.exception("database unavailable")
            response = error(
                503, "Service unavailable", "The service is briefly unavailable; try again."
            )
            response["Retry-After"] = "1"
            return response
        except Exception:
            log.exception("unexpected error")
            return error(500, "Internal error", "Something went wrong; nothing was awarded.")

    return wrapper


def _printable(code: str) -> str:
    """Show a code in a log line safely: JSON-quoted and cut short unless it is well formed."""
    if _CONTEST_CODE.fullmatch(code) and len(code) <= CONTEST_CODE_MAX_LENGTH:
        return code
    return json.dumps(code[: CONTEST_CODE_MAX_LENGTH + 8])


@api_view
def play(request: HttpRequest) -> JsonResponse:
    """Play once: every call is one play, and the answer says whether it won."""
    started = time.perf_counter()
    code = ""
    outcome = "error"
    response = None
    try:
        try:
            codes = request.GET.getlist("contest")
        except SuspiciousOperation:
            # More parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django refuses to parse.
            response = error(400, "Bad request", "The query string has too many parameters.")
            outcome = "bad_query"
            return response
        code = codes[0] if codes else ""
        response, outcome = _play(request, codes)
        return response
    finally:
        log.info(
            "play contest=%s outcome=%s status=%s duration_ms=%.2f",
            _printable(code) if code else "-",
            outcome,
            response.status_code if response else 500,
            (time.perf_counter() - started) * 1000,
        )


def _play(request: HttpRequest, codes: list[str]) -> tuple[JsonResponse, str]:
    """Answer in the order the contract gives: 400, 401, 404, 401, 403, 422, 400, 420, 200."""
    if not codes or not codes[0]:
        return error(400, "Contest code missing", "Specify contest code parameter."), "missing"
    if len(codes) > 1:
        return error(
            400, "Contest code repeated", "Specify contest code parameter only once."
        ), "repeated"
    users = request.GET.getlist("user")
    if len(users) > 1:
        return error(400, "User repeated", "Specify user parameter only once."), "bad_user"
    player = users[0] if users else ""
    # Control (Cc) and format (Cf: bidi overrides, zero-width) characters are refused.
    if len(player) > PLAYER_MAX_LENGTH or any(unicodedata.category(c) in "CcCf" for c in player):
        return error(
            400,
            "Invalid user",
            f"The user parameter must be at most {PLAYER_MAX_LENGTH} characters, "
            "without control characters.",
        ), "bad_user"

    code = codes[0]
    digest = bearer_digest(request.headers.get("Authorization"))
    if digest == Credentials.MALFORMED:
        return unauthorized("The Authorization header must be 'Bearer <token>'."), "bad_token"
    # A code that could never have been saved is not looked up anywhere.
    well_formed = len(code) <= CONTEST_CODE_MAX_LENGTH and _CONTEST_CODE.fullmatch(code)
    token_digest = None if digest == Credentials.NONE else digest
    now = timezone.now()

    def admits(contest: state.ContestSnapshot | None, caller: state.Caller | None) -> bool:
        return (
            _caller_refusal(token_digest, caller) is None
            and _contest_refusal(code, contest, caller, now, player) is None
        )

    lookup = state.play_lookup(
        code if well_formed else None, token_digest, now=now, player=player, admits=admits
    )
    caller = None
    if token_digest:
        caller = lookup.caller()
        if refusal := _caller_refusal(token_digest, caller):
            return refusal
    contest = lookup.contest()
    if refusal := _contest_refusal(code, contest, caller, now, player):
        return refusal

    lookup.record_play(contest, now)
    client_id = caller.client_id if caller else None
    if caller:
        lookup.note_token_use(caller, now)
    day = contest.local_date(now)
    if (
        contest.wmax is not None
        and lookup.player_wins(contest, day, caller, player) >= contest.wmax
    ):
        return enhance_your_calm(contest), "capped"
    try:
        win = draw(
            contest,
            now,
            request_id=request.id,
            player=player,
            client_id=client_id,
            remembered=lookup.next_moment(),
        )
    except DailyCapReached:
        return enhance_your_calm(contest), "capped"
    if win is None:
        return _lost(), "lost"
    prize = {"code": win.prize.code, "name": win.prize.name}
    return JsonResponse({"data": {"winner": True, "prize": prize}}), f"won prize={win.prize.code}"


# The answers a play gets before the draw, as functions of what the cache says, so that
# the one-round-trip lookup can tell in advance whether the play will be counted.
Refusal = tuple[JsonResponse, str] | None


def _caller_refusal(token_digest: str | None, caller: state.Caller | None) -> Refusal:
    if token_digest and (caller is None or not caller.usable):
        return unauthorized("The token is not valid, or has been revoked."), "bad_token"
    return None


def _contest_refusal(
    code: str,
    contest: state.ContestSnapshot | None,
    caller: state.Caller | None,
    now: dt.datetime,
    player: str,
) -> Refusal:
    if contest is None:
        return error(404, "Contest not found", f"Contest code {code} not found."), "not_found"
    if contest.is_private:
        if caller is None:
            return unauthorized(
                f"Contest code {code} is played with an API client token."
            ), "no_token"
        if caller.client_id not in contest.client_ids:
            return error(
                403, "Forbidden", f"This API client is not enabled for contest code {code}."
            ), "forbidden"
    if not contest.is_active_on(contest.local_date(now)):
        return error(
            422, "Contest in not active", f"The contest with code {code} is not active."
        ), "inactive"
    if contest.wmax is not None and not player:
        return error(400, "User missing", "Specify user parameter."), "no_user"
    return None


# R5, the answer to about 99 % of plays: its bytes are the same every time.
_LOST = b'{"data": {"winner": false, "prize": null}}'


def _lost() -> HttpResponse:
    return HttpResponse(_LOST, content_type="application/json")


def enhance_your_calm(contest: state.ContestSnapshot) -> JsonResponse:
    response = error(
        420,
        "Enhance your calm",
        f"This player has reached the daily limit of wins ({contest.wmax}) "
        f"in contest code {contest.code}; try again tomorrow.",
    )
    # 420 is not in the HTTP registry, so Django knows no reason phrase for it.
    response.reason_phrase = "Enhance Your Calm"
    return response


def unauthorized(detail: str) -> JsonResponse:
    response = error(401, "Unauthorized", detail)
    response["WWW-Authenticate"] = 'Bearer realm="play"'
    return response


@api_view
def day_plans(request: HttpRequest, code: str, day: str) -> JsonResponse:
    """Publish a contest's sealed plans of a day; the moments only once the day is over."""
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return error(400, "Invalid date", "Use a date in the form YYYY-MM-DD.")
    contest = Contest.objects.filter(code=code).first() if _CONTEST_CODE.fullmatch(code) else None
    if contest is None:
        return error(404, "Contest not found", f"Contest code {code} not found.")
    # A finished day's document is built once, stored, and streamed as stored.
    if document := audit.published_document(contest, date, timezone.now()):
        return StreamingHttpResponse(audit.document_text(document), content_type="application/json")
    described = audit.public_plans(contest, date, timezone.now())
    if described is None:
        return error(404, "Plan not found", f"Contest code {code} has no plan for {date}.")
    return JsonResponse({"data": described})


OPENAPI = Path(__file__).with_name("openapi.json")


@remember
def _openapi_document() -> bytes:
    return OPENAPI.read_bytes()


@require_safe
def openapi_document(request: HttpRequest) -> HttpResponse:
    """Serve the published contract of the API: an OpenAPI 3.1 description of every answer."""
    return HttpResponse(_openapi_document(), content_type="application/json")
