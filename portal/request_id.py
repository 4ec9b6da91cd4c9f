"""Request ids: one per request, on the answer and on every log line written meanwhile."""

import logging
import re
import uuid
from contextvars import ContextVar

# Ids from upstream (Nginx's $request_id, a client's own) are kept only when harmless.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


class RequestIdMiddleware:
    """Honour an incoming X-Request-ID or make one; expose it as request.id and on the answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = current_request_id.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request.id
        return response


class RequestContextFilter(logging.Filter):
    """Give every record a request_id, "-" outside a request, so formatters never fail."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True
