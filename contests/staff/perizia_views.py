"""The perizia data sheet as a page, for Auditors (and superusers): what the expert who
certifies the software attaches to the sworn statement. The same sheet as
`manage.py perizia --json`, which /perizia.json downloads."""

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ..evidence.perizia import data_sheet
from ..roles import AUDITOR
from .access import View, staff_required


def auditor_required(view: View) -> View:
    @staff_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or user.groups.filter(name=AUDITOR).exists()):
            raise PermissionDenied(_("The perizia data sheet is for auditors."))
        return view(request, *args, **kwargs)

    return wrapper


@auditor_required
def perizia_page(request: HttpRequest) -> HttpResponse:
    return render(request, "contests/perizia.html", {"sheet": data_sheet()})


@auditor_required
def perizia_json(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(json.dumps(data_sheet(), indent=2), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="perizia.json"'
    response["Cache-Control"] = "no-store"
    return response
