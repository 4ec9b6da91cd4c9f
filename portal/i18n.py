"""The staff's language for the portal; the contract's English for the API, always.

Django's LocaleMiddleware picks each request's language from the language cookie (set by
the header's switcher through set_language), then Accept-Language, then LANGUAGE_CODE.
The API's bodies are a published contract, byte for byte in English: its views run in
English whatever a client's Accept-Language says, and their answers get no
Content-Language or Vary: Accept-Language, since they never depend on it.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware import locale
from django.utils import translation

# The modules of the views that answer machines, not staff: /play/, the public plans,
# /openapi.json and /healthz.
API_VIEW_MODULES = frozenset({"contests.play.views", "portal.health"})
API_LANGUAGE = "en"


def is_api_view(view: Callable) -> bool:
    return getattr(view, "__module__", None) in API_VIEW_MODULES


class LocaleMiddleware(locale.LocaleMiddleware):
    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> None:
        if is_api_view(view):
            request._api_language = True
            translation.activate(API_LANGUAGE)
            request.LANGUAGE_CODE = API_LANGUAGE

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_api_language", False):
            return response
        return super().process_response(request, response)
