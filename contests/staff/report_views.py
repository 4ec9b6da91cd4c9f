"""The staff portal's closing report: the printable page and its CSV and XLSX downloads."""

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import Contest, Win
from .access import staff_required
from .closing_exports import closing_record_lines
from .closing_record import closing_record
from .closing_seal import closing_seal
from .draw_rules import contest_rules
from .exports import (
    CHUNK_SIZE,
    UnknownDialect,
    closing_report_filename,
    csv_response,
    dialect_named,
)
from .forms import ReportPeriodForm
from .reports import ClosingReport, closing_report
from .spreadsheets import closing_report_xlsx_response
from .views import _get_contest
from .winners import DAY_COLUMNS, WinnerColumn, related_of

# The report covers one contest, in time order: the time comes first, the contest goes.
REPORT_COLUMNS = tuple(sorted(DAY_COLUMNS, key=lambda column: column.key != "won_at"))


class _LazyRows:
    """The report's winners as table rows, read from the database while the page renders.

    Django's {% for %} copies an iterable without a length into a list first; with one it
    just iterates, so a long report never holds all its wins at once. The length is the
    report's count of wins, used only for forloop's counters.
    """

    def __init__(self, wins: QuerySet[Win], columns: Sequence[WinnerColumn], count: int) -> None:
        self.wins = wins.select_related(*related_of(columns))
        self.columns = columns
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[list[str | SafeString]]:
        for win in self.wins.iterator(chunk_size=CHUNK_SIZE):
            yield [column.cell(win) for column in self.columns]


def _report_period(request: HttpRequest, contest: Contest, today: dt.date) -> ReportPeriodForm:
    return ReportPeriodForm(request.GET or None, contest=contest, today=today)


@staff_required
def closing_report_page(request: HttpRequest, code: str) -> HttpResponse:
    """The closing report of a contest's days, printable: per day, totals, every winner."""
    contest = _get_contest(code)
    now = timezone.now()
    today = contest.local_date(now)
    filters = _report_period(request, contest, today)
    invalid = filters.is_bound and not filters.is_valid()
    period = None if invalid else filters.period()
    context: dict[str, Any] = {
        "contest": contest,
        "filters": filters,
        "has_begun": filters.has_begun,
        "report": None,
        "rules": contest_rules(contest, now),
        # Anyone can check a day's commitments there; the day goes in place of YYYY-MM-DD.
        "plans_url": request.build_absolute_uri(
            reverse("contests:day_plans", args=[contest.code, "YYYY-MM-DD"])
        ),
    }
    if period is not None:
        report = closing_report(contest, *period)
        context.update(
            record=closing_record(contest, now),
            recovery_url=request.build_absolute_uri(
                reverse("contests:recovery_draw", args=[contest.code])
            ),
            report=report,
            generated_at=now.astimezone(contest.zone),
            includes_today=report.end >= today,
            columns=REPORT_COLUMNS,
            winners=_LazyRows(report.winners(), REPORT_COLUMNS, report.total.awarded),
            seal=closing_seal(report, today),
        )
    return render(request, "contests/closing_report.html", context, status=400 if invalid else 200)


def _report_download(request: HttpRequest, code: str) -> HttpResponse | ClosingReport:
    """The report a download asks for, or the answer when it cannot be made."""
    contest = _get_contest(code)
    filters = _report_period(request, contest, contest.local_date(timezone.now()))
    if filters.is_bound and not filters.is_valid():
        return closing_report_page(request, code)  # the page, with the errors and a 400
    period = filters.period()
    if period is None:
        raise Http404(_("The contest has not begun: there is nothing to report yet."))
    return closing_report(contest, *period)


@staff_required
def closing_report_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The same report as a CSV download: the days, their totals, then every winner;
    ?dialect=excel-it separates its fields with semicolons, for Excel in Italian."""
    try:
        dialect = dialect_named(request.GET.get("dialect"))
    except UnknownDialect as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    report = _report_download(request, code)
    if isinstance(report, HttpResponse):
        return report
    lines = closing_record_lines(report, closing_record(report.contest), dialect)
    return csv_response(lines, closing_report_filename(report))


@staff_required
def closing_report_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    """The same report as an XLSX download: a sheet of the days, one of the winners."""
    report = _report_download(request, code)
    if isinstance(report, HttpResponse):
        return report
    return closing_report_xlsx_response(report, closing_report_filename(report, "xlsx"))
