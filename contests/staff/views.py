"""The staff portal: a dashboard of every contest, a contest's days, its form, the winners
(the closing report's pages are in report_views.py).

Thin views: the figures come from dashboard.py and charts.py, the forms validate, the
CSVs are written by exports.py and the XLSX files by spreadsheets.py. Every view needs a
staff login (access.staff_required). Everything shown is in the staff's language.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, ProtectedError, QuerySet
from django.forms import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..history import contest_history as history_of
from ..models import Contest, ContestStatus, DayPlan, Prize, Win, WinningMoment
from ..moments.planning import day_bounds
from ..play_counts import plays_per_hour
from .access import sees_future_moments, staff_permission_required, staff_required
from .charts import DayScale, day_charts, hourly_chart
from .closing_record import prize_pool
from .dashboard import contests_today
from .draw_rules import contest_rules, day_windows
from .exports import (
    UnknownDialect,
    dialect_named,
    winners_csv_response,
)
from .forms import (
    ContestForm,
    DayForm,
    ReviewForm,
    WinnerFilterForm,
    prize_formset,
)
from .reviews import review_win
from .spreadsheets import winners_xlsx_response
from .winners import DAY_COLUMNS, WINNER_COLUMNS, related_of, table_rows

WINNERS_PER_PAGE = 50
# Superusers see the day's next moments; a page of them is plenty.
FUTURE_MOMENTS_SHOWN = 50


def _get_contest(code: str) -> Contest:
    """Fetch a contest by its code, with its prizes. Every staff member sees every contest."""
    return get_object_or_404(Contest.objects.prefetch_related("prizes"), code=code)


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every contest with its status and, for today, its plays and its wins against perday."""
    now = timezone.now()
    rows = contests_today(now)
    running = [row for row in rows if row.status == ContestStatus.RUNNING]
    status = request.GET.get("status", "")
    search = request.GET.get("q", "").strip()
    shown = [
        row
        for row in rows
        if (not status or row.status == status) and (not search or row.matches(search))
    ]
    return render(
        request,
        "contests/dashboard.html",
        {
            "rows": shown,
            "status": status,
            "search": search,
            "statuses": ContestStatus.choices,
            "running_count": len(running),
            "wins_today": sum(row.wins for row in running),
            "perday_today": sum(row.perday for row in running),
            "plays_today": sum(row.plays or 0 for row in running),
            "contest_count": len(rows),
        },
    )


def _shown_day(request: HttpRequest, contest: Contest, today: dt.date) -> dt.date | None:
    """The day the contest page shows: ?day=YYYY-MM-DD (or as the language writes a date,
    as the page's day field sends it), by default today or its last day.

    Only days of the contest that have begun can be shown; None before it starts.
    """
    last = min(contest.end, today)
    if not request.GET.get("day", ""):
        return last if last >= contest.start else None
    form = DayForm(request.GET)
    if not form.is_valid():
        raise Http404(_("Not a date: use YYYY-MM-DD."))
    day = form.cleaned_data["day"]
    if not contest.start <= day <= last:
        raise Http404(_("That day is not a day of this contest that has begun."))
    return day


@staff_required
def contest_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A contest's day: wins against the ideal line, plays per hour, and the winners."""
    contest = _get_contest(code)
    now = timezone.now()
    today = contest.local_date(now)
    day = _shown_day(request, contest, today)
    context: dict[str, Any] = {
        "contest": contest,
        "today": today,
        "status": contest.status_on(today),
        "prizes": contest.prizes.all(),
        "prize_pool": prize_pool(contest),
        "day": day,
        "rules": contest_rules(contest, now),
    }
    if day is not None:
        context.update(_day_context(request, contest, day, today, now))
    return render(request, "contests/contest_detail.html", context)


def _day_context(
    request: HttpRequest, contest: Contest, day: dt.date, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    day_start, day_end = day_bounds(day, contest.zone)
    scale = DayScale(day_start, day_end, contest.zone)
    plans = list(
        DayPlan.objects.filter(prize__contest=contest, day=day)
        .select_related("prize")
        .order_by("prize__code")
    )
    windows = day_windows(contest, day, plans)
    day_wins = Win.objects.filter(contest=contest, day=day)
    cumulative, wins_per_hour = day_charts(
        scale, windows, day_wins.values_list("won_at", flat=True).iterator(chunk_size=5000), now
    )
    # Unclaimed ones only, through the partial index: a moment still to come is unclaimed.
    moments = WinningMoment.objects.filter(contest=contest, day=day, claimed=False)
    # Moments still to come are secret (docs/design.md): only superusers get them, and
    # everyone else only their number.
    future_moments = None
    if sees_future_moments(request.user):
        future_moments = list(
            moments.filter(at__gt=now)
            .select_related("plan__prize")
            .order_by("at")[:FUTURE_MOMENTS_SHOWN]
        )
    winners = day_wins.select_related(*related_of(DAY_COLUMNS)).order_by("-won_at", "-id")
    page = Paginator(winners, WINNERS_PER_PAGE).get_page(request.GET.get("page"))
    first_day = contest.start
    last_day = min(contest.end, today)
    return {
        "is_today": day == today,
        "day_start": day_start.astimezone(contest.zone),
        "day_hours": scale.hours,
        "previous_day": day - dt.timedelta(days=1) if day > first_day else None,
        "next_day": day + dt.timedelta(days=1) if day < last_day else None,
        "first_day": first_day,
        "last_day": last_day,
        "day_form": DayForm(initial={"day": day}),
        "plans": plans,
        "cumulative": cumulative,
        "wins_per_hour": wins_per_hour,
        "plays_per_hour": hourly_chart(scale, plays_per_hour(contest, day), "play"),
        "unclaimed_moments": moments.count(),
        "future_moments": future_moments,
        "columns": DAY_COLUMNS,
        "page": page,
        "rows": table_rows(page.object_list, DAY_COLUMNS),
    }


HISTORY_PER_PAGE = 100


@staff_required
def contest_history(request: HttpRequest, code: str) -> HttpResponse:
    """Who changed what in a contest, its prizes, clients, tokens and reviews, and when."""
    contest = _get_contest(code)
    page = Paginator(history_of(contest), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contests/contest_history.html", {"contest": contest, "page": page})


@staff_permission_required("contests.add_contest")
def contest_create(request: HttpRequest) -> HttpResponse:
    """A new contest with its prizes, in one form."""
    contest = Contest()
    form = ContestForm(request.POST or None, instance=contest)
    prizes = prize_formset(request.POST or None, contest, extra=0)
    if request.method == "POST" and _save(form, prizes):
        messages.success(request, _("Contest %(code)s created.") % {"code": form.instance.code})
        return redirect("contests:contest_detail", code=form.instance.code)
    return render(
        request, "contests/contest_form.html", {"form": form, "prizes": prizes, "creating": True}
    )


@staff_permission_required("contests.change_contest")
def contest_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Change a contest and its prizes; perday changes apply from the next unplanned day."""
    contest = _get_contest(code)
    form = ContestForm(request.POST or None, instance=contest)
    prizes = prize_formset(request.POST or None, contest, extra=1)
    if request.method == "POST" and _save(form, prizes):
        messages.success(request, _("Contest %(code)s saved.") % {"code": contest.code})
        for prize, applies_from in _perday_changes(prizes, contest.local_date(timezone.now())):
            messages.info(
                request,
                _(
                    "%(prize)s: %(perday)s wins per day from %(day)s. "
                    "Days already planned keep the plan they were made with."
                )
                % {
                    "prize": prize.code,
                    "perday": formats.number_format(prize.perday, force_grouping=True),
                    "day": formats.date_format(applies_from, "WEEKDAY_DATE_FORMAT"),
                },
            )
        return redirect("contests:contest_detail", code=contest.code)
    planned_today = DayPlan.objects.filter(
        prize__contest=contest, day=contest.local_date(timezone.now())
    ).exists()
    return render(
        request,
        "contests/contest_form.html",
        {"form": form, "prizes": prizes, "creating": False, "planned_today": planned_today},
    )


def _save(form: ContestForm, prizes: BaseInlineFormSet) -> bool:
    """Save the contest and its prizes in one transaction; False, with errors, if invalid."""
    contest_valid = form.is_valid()
    prizes_valid = prizes.is_valid()  # both, so that every error shows at once
    if not (contest_valid and prizes_valid):
        return False
    try:
        with transaction.atomic():
            contest = form.save()
            prizes.instance = contest
            prizes.save()
    except ProtectedError:
        # A play planned a prize's day between the check in the formset and the delete.
        form.add_error(
            None,
            _("A prize you removed has just been planned, so it was kept. Nothing was saved."),
        )
        return False
    return True


def _perday_changes(prizes: BaseInlineFormSet, today: dt.date) -> list[tuple[Prize, dt.date]]:
    """The saved prizes whose perday changed, with the first day the new value applies."""
    changes = []
    for prize_form in prizes.forms:
        prize = prize_form.instance
        if prize.pk and prize_form.initial and "perday" in prize_form.changed_data:
            last_planned = prize.plans.filter(day__gte=today).aggregate(last=Max("day"))["last"]
            changes.append((prize, last_planned + dt.timedelta(days=1) if last_planned else today))
    return changes


@staff_required
def winners(request: HttpRequest) -> HttpResponse:
    """Every win across contests, filtered by contest, local days and player, paginated."""
    filters = WinnerFilterForm(request.GET or None)
    wins = Win.objects.none()
    if not filters.is_bound:
        wins = Win.objects.all()
    elif filters.is_valid():
        wins = filters.filter(Win.objects.all())
    wins = wins.select_related(*related_of(WINNER_COLUMNS)).order_by("-won_at", "-id")
    page = Paginator(wins, WINNERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "contests/winners.html",
        {
            "filters": filters,
            "page": page,
            "columns": WINNER_COLUMNS,
            "rows": table_rows(page.object_list, WINNER_COLUMNS),
        },
        status=400 if filters.is_bound and not filters.is_valid() else 200,
    )


def _filtered_winners(request: HttpRequest) -> tuple[WinnerFilterForm, QuerySet[Win] | None]:
    """The winners the page's filters show, newest first; None if the filters are invalid."""
    filters = WinnerFilterForm(request.GET)
    if not filters.is_valid():
        return filters, None
    return filters, filters.filter(Win.objects.all()).order_by("-won_at", "-id")


@staff_required
def winners_export(request: HttpRequest) -> HttpResponse:
    """The winners the same filters show, as a CSV download (newest first);
    ?dialect=excel-it separates its fields with semicolons, for Excel in Italian."""
    try:
        dialect = dialect_named(request.GET.get("dialect"))
    except UnknownDialect as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    filters, wins = _filtered_winners(request)
    if wins is None:
        return winners(request)  # the page, with the filters' errors and a 400
    return winners_csv_response(wins, filters.filename(), dialect)


@staff_required
def winners_export_xlsx(request: HttpRequest) -> HttpResponse:
    """The same winners as the CSV, as an XLSX download with typed cells."""
    filters, wins = _filtered_winners(request)
    if wins is None:
        return winners(request)
    return winners_xlsx_response(wins, filters.filename("xlsx"))


@staff_required
def win_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One win with its review history; staff who may review record a verdict here."""
    win = get_object_or_404(
        Win.objects.select_related("contest", "prize", "client", "moment"), pk=pk
    )
    may_review = request.user.has_perm("contests.add_winreview")
    form = ReviewForm(request.POST or None) if may_review else None
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied(_("Reviewing winners needs the permission to add reviews."))
        if form.is_valid():
            review_win(
                win, form.cleaned_data["status"], form.cleaned_data["reason"], request.user,
                timezone.now(),
            )  # fmt: skip
            messages.success(
                request,
                _("Win %(number)s: %(verdict)s.")
                % {"number": win.pk, "verdict": str(win.get_review_status_display()).lower()},
            )
            return redirect("contests:win_detail", pk=win.pk)
    return render(
        request,
        "contests/win_detail.html",
        {
            "win": win,
            "won_at": win.won_at.astimezone(win.contest.zone),
            "moment_at": win.moment.at.astimezone(win.contest.zone),
            "reviews": win.reviews.select_related("reviewed_by"),
            "form": form,
        },
        status=400 if form is not None and form.is_bound and not form.is_valid() else 200,
    )
