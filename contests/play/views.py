"""The JSON API: GET /play/, the published day plans, and the published contract.

Answers are the contract in docs/api.md, word for word. A losing play of a contest this
process knows is answered from memory (contests/play/memory.py): no database, no Redis.
"""

import datetime as dt
import json
import time
import unicodedata
from functools import cache as remember
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .. import metrics, participants, play_counts
from ..models import CONTEST_CODE_MAX_LENGTH, PLAYER_MAX_LENGTH, Contest, is_contest_code
from ..moments import audit
from ..moments.claiming import ContestCapReached, DailyCapReached
from . import caps, idempotency, interval
from .credentials import Credentials, bearer_digest, note_token_use
from .draw import draw
from .envelope import (
    api_view,
    contest_cap_reached,
    enhance_your_calm,
    error,
    too_many_plays,
    unauthorized,
)
from .log import play_log
from .memory import memory

# R5, the answer to about 99 % of plays: its bytes are the same every time.
LOST = b'{"data": {"winner": false, "prize": null}}'
# Characters that control or reorder text, which no player id needs (bidi overrides hide
# what a cell in an export really says).
_REFUSED_IN_PLAYERS = frozenset(("Cc", "Cf"))


@api_view
def play(request: HttpRequest) -> HttpResponse:
    """Play once: every call is one play, and the answer says whether it won."""
    started = time.perf_counter()
    code, outcome, response = "-", "error", None
    try:
        try:
            params = _params(request)
        except SuspiciousOperation:
            response = error(400, "Bad request", "The query string has too many parameters.")
            outcome = "bad_query"
            return response
        codes = params.get("contest", ())
        if codes and codes[0]:
            code = _printable(codes[0])
        response, outcome = _play(request, codes, params.get("user", ()))
        return response
    finally:
        seconds = time.perf_counter() - started
        status = response.status_code if response is not None else 500
        play_log.play(code, outcome, status, seconds, request.id)
        metrics.observe_play(code, outcome, seconds)


def _printable(code: str) -> str:
    """Show a code in a log line safely: JSON-quoted and cut short unless it is well formed."""
    return code if is_contest_code(code) else json.dumps(code[: CONTEST_CODE_MAX_LENGTH + 8])


def _params(request: HttpRequest) -> dict[str, list[str]]:
    """The query's parameters; plain ASCII queries without escapes skip QueryDict's cost."""
    query = request.META.get("QUERY_STRING", "")
    if not query.isascii() or "%" in query or "+" in query:
        return {name: request.GET.getlist(name) for name in ("contest", "user")}
    fields = query.split("&") if query else []
    if len(fields) > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
        raise TooManyFieldsSent("The number of GET/POST parameters exceeded the limit.")
    params: dict[str, list[str]] = {}
    for field in fields:
        if field:
            name, _, value = field.partition("=")
            params.setdefault(name, []).append(value)
    return params


def _play(request: HttpRequest, codes, users) -> tuple[HttpResponse, str]:
    """Answer in the order of docs/api.md: 400, 401, 404, 401, 403, 422, 400, 429, 420, 200."""
    if not codes or not codes[0]:
        return error(400, "Contest code missing", "Specify contest code parameter."), "missing"
    if len(codes) > 1:
        return error(
            400, "Contest code repeated", "Specify contest code parameter only once."
        ), "repeated"
    if len(users) > 1:
        return error(400, "User repeated", "Specify user parameter only once."), "bad_user"
    player = users[0] if users else ""
    if len(player) > PLAYER_MAX_LENGTH or any(
        unicodedata.category(c) in _REFUSED_IN_PLAYERS for c in player
    ):
        return error(
            400,
            "Invalid user",
            f"The user parameter must be at most {PLAYER_MAX_LENGTH} characters, "
            "without control characters.",
        ), "bad_user"

    code = codes[0]
    caller = None
    digest = bearer_digest(request.headers.get("Authorization"))
    if digest == Credentials.MALFORMED:
        return unauthorized("The Authorization header must be 'Bearer <token>'."), "bad_token"
    if digest != Credentials.NONE:
        caller = memory.caller(digest)
        if caller is None or not caller.usable:
            return unauthorized("The token is not valid, or has been revoked."), "bad_token"
    # A code that could never have been saved is not looked up anywhere.
    contest = memory.contest(code) if is_contest_code(code) else None
    if contest is None:
        return error(404, "Contest not found", f"Contest code {code} not found."), "not_found"
    if contest.is_private:
        if caller is None:
            return unauthorized(f"Contest code {code} is played with an API client token."), (
                "no_token"
            )
        if caller.client_id not in contest.client_ids:
            return error(
                403, "Forbidden", f"This API client is not enabled for contest code {code}."
            ), "forbidden"
    now = timezone.now()
    if not contest.is_active_on(contest.local_date(now)):
        return error(
            422, "Contest in not active", f"The contest with code {code} is not active."
        ), "inactive"
    if contest.needs_player and not player:
        return error(400, "User missing", "Specify user parameter."), "no_user"

    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _draw(request, contest, caller, player, now)
    if not idempotency.KEY.fullmatch(key):
        return idempotency.invalid_key(), "bad_key"
    client_id = caller.client_id if caller else None
    return idempotency.answer_once(
        key, client_id, code, player, now, lambda: _draw(request, contest, caller, player, now)
    )


def _draw(request, contest, caller, player: str, now: dt.datetime) -> tuple[HttpResponse, str]:
    """Count the play and draw: the answers of a play that every check let through."""
    client_id = caller.client_id if caller is not None else None
    if contest.play_interval is not None and (
        wait := interval.wait_before_play(contest, client_id, player)
    ):
        # Refused before it counts: it is no play, and cannot win.
        return too_many_plays(contest.play_interval, contest.code, wait), "too_soon"
    day, hour = contest.local_day(now)
    play_counts.count_play(contest.id, day, hour)
    if caller is not None:
        note_token_use(caller.token_id, now)
    if player:  # the participant register, for the recovery draw (in memory, like the counts)
        participants.register_play(contest.id, client_id, player, day)
    if contest.wmax_total is not None and caps.is_capped_overall(
        contest, now, day, client_id, player
    ):
        return contest_cap_reached(contest.wmax_total, contest.code), "capped"
    if contest.wmax is not None and caps.is_capped(contest, now, day, client_id, player):
        return enhance_your_calm(contest.wmax, contest.code), "capped"
    try:
        win = draw(contest, now, request_id=request.id, player=player, client_id=client_id)
    except ContestCapReached:
        return contest_cap_reached(contest.wmax_total, contest.code), "capped"
    except DailyCapReached:
        return enhance_your_calm(contest.wmax, contest.code), "capped"
    if win is None:
        return HttpResponse(LOST, content_type="application/json"), "lost"
    prize = {"code": win.prize.code, "name": win.prize.name}
    if win.prize.has_voucher_pool:
        prize["voucher"] = win.voucher.code  # taken by the claim, already in memory
    return JsonResponse({"data": {"winner": True, "prize": prize}}), f"won prize={win.prize.code}"


@api_view
def day_plans(request: HttpRequest, code: str, day: str) -> JsonResponse:
    """Publish a contest's sealed plans of a day; the moments only once the day is over."""
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return error(400, "Invalid date", "Use a date in the form YYYY-MM-DD.")
    contest = Contest.objects.filter(code=code).first() if is_contest_code(code) else None
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
