"""The staff portal's recovery draw: the Freeze and Draw buttons and the disqualification of
a recovery winner (Contest staff only), and the eligible list as CSV (staff and auditors).

Auditors read but never act; staff without the role are refused; every refusal is
logged with who tried (contests/recovery/service.py).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import Contest, RecoveryDraw, RecoveryPick
from ..recovery import service
from .access import staff_permission_required, staff_required
from .closing_exports import participant_lines
from .exports import UnknownDialect, csv_response, dialect_named

HOLD = "contests.hold_recovery_draw"
REVIEW = "contests.add_winreview"


def _allowed(request: HttpRequest, contest: Contest, action: str, permission: str) -> None:
    if not request.user.has_perm(permission):
        service.refuse(
            contest,
            action,
            service.Actor.of_request(request),
            _("This account may not do this (permission %(permission)s).")
            % {"permission": permission},
        )
        raise PermissionDenied(_("Only Contest staff hold the recovery draw."))


def _back(contest: Contest) -> HttpResponse:
    return redirect("contests:closing_report", contest.code)


def _act(request: HttpRequest, code: str, action: str) -> HttpResponse:
    contest = get_object_or_404(Contest, code=code)
    _allowed(request, contest, action, HOLD)
    act = service.freeze if action == "freeze" else service.draw
    try:
        act(contest, service.Actor.of_request(request))
    except service.RecoveryRefused as refusal:
        messages.error(request, str(refusal))
        return _back(contest)
    done = (
        _("The recovery draw is frozen: its digests are published.")
        if action == "freeze"
        else _("The recovery draw is drawn: its seed and winners are published.")
    )
    messages.success(request, done)
    return _back(contest)


@require_POST
@staff_required
def recovery_freeze(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "freeze")


@require_POST
@staff_required
def recovery_draw(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "draw")


@require_POST
@staff_required
def recovery_disqualify(request: HttpRequest, code: str) -> HttpResponse:
    """Disqualify a recovery winner (a reason is required); the next reserve takes the prize."""
    contest = get_object_or_404(Contest, code=code)
    _allowed(request, contest, "disqualify", REVIEW)
    chosen = RecoveryPick.objects.filter(
        draw__contest=contest, pk=request.POST.get("pick", "").strip() or None
    ).first()
    if chosen is None:
        return HttpResponseBadRequest(_("No such recovery winner."), content_type="text/plain")
    try:
        reason = request.POST.get("reason", "")
        service.disqualify(chosen, reason, service.Actor.of_request(request))
    except service.RecoveryRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("%(who)s is disqualified from the recovery draw.") % {"who": chosen.entrant}
        )
    return _back(contest)


@staff_permission_required("contests.view_recoverydraw")
def recovery_participants_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The frozen eligible list, as a CSV download (formula-safe)."""
    try:
        dialect = dialect_named(request.GET.get("dialect"))
    except UnknownDialect as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    draw = RecoveryDraw.objects.filter(contest__code=code).first()
    if draw is None:
        raise Http404(_("This contest has no frozen recovery draw."))
    return csv_response(participant_lines(draw, dialect), f"recovery-participants-{code}.csv")
