"""The portal's URLs plus a constant JSON view: the ceiling for a Django view on this stack.

Selected only by the benchmark, through bench/settings.py.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

LOST = {"data": {"winner": False, "prize": None}}


def baseline(request: HttpRequest) -> JsonResponse:
    """Answer what a losing play answers, doing nothing else."""
    return JsonResponse(LOST)


urlpatterns = [
    path("bench/baseline/", baseline),
    path("", include("portal.urls")),
]
