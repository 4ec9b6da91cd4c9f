"""The JSON API: GET /play/ and the envelope every answer uses.

Answers are the contract in SPEC.md (R1–R5), word for word.
"""

import json
import logging
import re
import time
from collections.abc import Callable
from functools import wraps

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import cache, play_counts
from .draw import draw
from .models import CODE_PATTERN, CONTEST_CODE_MAX_LENGTH

log = logging.getLogger("contests.play")

_CONTEST_CODE = re.compile(rf"{CODE_PATTERN}")


def error(status: int, title: str, detail: str) -> JsonResponse:
    """Build an answer in the error envelope shared by every API error."""
    return JsonResponse(
        {"error": {"status": str(status), "title": title, "detail": detail}}, status=status
    )


def api_view(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], JsonResponse]:
    """Serve GET only, never from a cache, and answer in the envelope whatever happens.

    CSRF does not apply: the API reads no cookie, and its 405 must stay in the envelope.
    """

    @csrf_exempt
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method != "GET":
            response = error(
                405, "Method not allowed", f"Use GET; {request.method} is not supported here."
            )
            response["Allow"] = "GET"
            return response
        try:
            return view(request)
        except DatabaseError:
            # A claim that failed rolled back: nothing was awarded, so retrying is safe.
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
    codes = request.GET.getlist("contest")
    code = codes[0] if codes else ""
    outcome = "error"
    response = None
    try:
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
    if not codes or not codes[0]:
        return error(400, "Contest code missing", "Specify contest code parameter."), "missing"
    if len(codes) > 1:
        return error(
            400, "Contest code repeated", "Specify contest code parameter only once."
        ), "repeated"
    code = codes[0]
    not_found = error(404, "Contest not found", f"Contest code {code} not found.")
    # A code that could never have been saved is not looked up anywhere.
    if len(code) > CONTEST_CODE_MAX_LENGTH or not _CONTEST_CODE.fullmatch(code):
        return not_found, "not_found"
    contest, remembered = cache.load(code)
    if contest is None:
        return not_found, "not_found"
    now = timezone.now()
    if not contest.is_active_on(contest.local_date(now)):
        return error(
            422, "Contest in not active", f"The contest with code {code} is not active."
        ), "inactive"
    play_counts.record_play(contest, now)
    win = draw(contest, now, request_id=request.id, remembered=remembered)
    if win is None:
        return JsonResponse({"data": {"winner": False, "prize": None}}), "lost"
    prize = {"code": win.prize.code, "name": win.prize.name}
    return JsonResponse({"data": {"winner": True, "prize": prize}}), f"won prize={win.prize.code}"
