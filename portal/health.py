"""GET /healthz (liveness) and GET /readyz (readiness), for Docker, Nginx's operators and monitors.

- /healthz: this process answers. Nothing else is asked, so an outage elsewhere never makes
  an orchestrator restart replicas that would come back to the same outage. With
  `?verbose`, staff also see the build (commit and version).
- /readyz: this process can serve plays: PostgreSQL answers. Redis down is "degraded" and
  still ready (200), since every play is then answered from the database.

See docs/monitoring.md ("Health").
"""

import logging
import uuid

from django.conf import settings
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
        log.exception("readiness: database unavailable")
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
        log.exception("readiness: cache unavailable")
        return "error"
    if value != "ok":
        log.warning("readiness: the cache did not return what was stored (degraded)")
        return "error"
    return "ok"


# CSRF does not apply (no cookie is read), and other methods must get a plain 405.
@csrf_exempt
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 whenever this process answers; `?verbose` adds the build for staff."""
    body = {"status": "ok"}
    if "verbose" in request.GET and request.user.is_authenticated and request.user.is_staff:
        body |= {"commit": settings.PORTAL_COMMIT, "version": settings.PORTAL_VERSION}
    return JsonResponse(body)


@csrf_exempt
@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 only when the database fails; a failing cache is "degraded"."""
    parts = {"database": _database(), "cache": _cache()}
    if parts["database"] != "ok":
        status = "error"
    elif parts["cache"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse({"status": status, **parts}, status=503 if status == "error" else 200)
