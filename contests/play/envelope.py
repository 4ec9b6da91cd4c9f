"""The API's envelope: every error answer's body, and the wrapper that keeps answers in it."""

import logging
from collections.abc import Callable
from functools import wraps

from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger("contests.play")

# What never_cache() would set, without computing it per answer: every play is new.
NO_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


def error(status: int, title: str, detail: str) -> JsonResponse:
    """Build an answer in the error envelope shared by every API error."""
    return JsonResponse(
        {"error": {"status": str(status), "title": title, "detail": detail}}, status=status
    )


def unauthorized(detail: str) -> JsonResponse:
    response = error(401, "Unauthorized", detail)
    response["WWW-Authenticate"] = 'Bearer realm="play"'
    return response


def enhance_your_calm(wmax: int, code: str) -> JsonResponse:
    response = error(
        420,
        "Enhance your calm",
        f"This player has reached the daily limit of wins ({wmax}) "
        f"in contest code {code}; try again tomorrow.",
    )
    # 420 is not in the HTTP registry, so Django knows no reason phrase for it.
    response.reason_phrase = "Enhance Your Calm"
    return response


def contest_cap_reached(wmax_total: int, code: str) -> JsonResponse:
    """420 for the cap over the whole contest (wmax_total)."""
    response = error(
        420,
        "Enhance your calm",
        f"This player has reached the limit of wins ({wmax_total}) in contest code {code}.",
    )
    response.reason_phrase = "Enhance Your Calm"
    return response


def too_many_plays(interval: int, code: str, retry_after: int) -> JsonResponse:
    """429 for a play sooner than the contest's play interval."""
    response = error(
        429, "Too many plays", f"Wait {interval} seconds between plays in contest code {code}."
    )
    response["Retry-After"] = str(retry_after)
    return response


def unavailable() -> JsonResponse:
    # A claim that failed rolled back: nothing was awarded, so retrying is safe.
    response = error(503, "Service unavailable", "The service is briefly unavailable; try again.")
    response["Retry-After"] = "1"
    return response


def internal_error() -> JsonResponse:
    return error(500, "Internal error", "Something went wrong; nothing was awarded.")


def not_cached(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_CACHE
    response["Expires"] = EXPIRED
    return response


def api_view(
    view: Callable[..., HttpResponse] | None = None, *, method: str = "GET"
) -> Callable[..., HttpResponse]:
    """Serve `method` only (GET unless said: `@api_view(method="POST")`), never from a
    cache, and answer in the envelope whatever happens.

    CSRF does not apply: the API reads no cookie, and its 405 must stay in the envelope.
    """
    if view is None:
        return lambda view: api_view(view, method=method)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != method:
            response = error(
                405, "Method not allowed", f"Use {method}; {request.method} is not supported here."
            )
            response["Allow"] = method
            return not_cached(response)
        try:
            return not_cached(view(request, *args, **kwargs))
        except (DatabaseError, InterfaceError):
            # InterfaceError is not a DatabaseError: a connection the server closed raises it.
            log.exception("database unavailable")
            return not_cached(unavailable())
        except Exception:
            log.exception("unexpected error")
            return not_cached(internal_error())

    return wrapper
