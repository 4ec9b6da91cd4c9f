"""GET /healthz: is this process able to serve? Used by Docker, Nginx's operators and monitors.

The answer says only up or down: which part failed, and why, goes to the log, never to
whoever asks (anyone on the internet can, through Nginx).
"""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

log = logging.getLogger("portal.health")


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.exception("health check: database unavailable")
        return "error"
    return "ok"


def _cache() -> str:
    # A key of its own per check: two checks at once must not read each other's value.
    # With IGNORE_EXCEPTIONS a Redis outage makes set() a no-op and get() None, so a value
    # that does not come back is the only sign of it.
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception:
        log.exception("health check: cache unavailable")
        return "error"
    if value != "ok":
        log.error("health check: cache did not return what was stored")
        return "error"
    return "ok"


# CSRF does not apply (no cookie is read), and other methods must get a plain 405.
@csrf_exempt
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Check the database (SELECT 1) and the cache (set and get a key): 200 or 503."""
    # Both, always: the log names every part that failed.
    parts = [_database(), _cache()]
    healthy = all(state == "ok" for state in parts)
    return JsonResponse({"status": "ok" if healthy else "error"}, status=200 if healthy else 503)
