"""The admin, for operators: contests and prizes to edit; plans, moments and wins to read.

Plans, moments and wins are the audit record of what was drawn and won: nobody edits or
deletes them here. Moments that have not passed yet are shown to nobody unless
SHOW_FUTURE_MOMENTS allows it to superusers (only with DEBUG on). Contests, API clients,
tokens and reviews keep their history ("History" on each, and the history lists); audit
events (sign-ins, lockouts, plans made by commands) are listed read-only; staff users
with history are deactivated, never deleted.
"""

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Contest,
    ContestStatus,
    DayPlan,
    Prize,
    Win,
    WinningMoment,
    WinReview,
)
from .staff.access import sees_future_moments
from .staff.dashboard import wins_today, with_today_figures
from .staff.exports import winners_csv_response
from .staff.spreadsheets import winners_xlsx_response

admin.site.site_header = _("Contest Portal administration")
admin.site.site_title = _("Contest Portal admin")
admin.site.index_title = _("Contests, plans and winners")

# A plan can hold up to a million moments; a page lists this many of them.
MOMENTS_LISTED = 100


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit record: viewable by whoever has the view permission, never changed here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """A "History" page on each object (django-simple-history), to read only.

    Reverting is off (SIMPLE_HISTORY_REVERT_DISABLED), and a version's page is only ever
    shown: a POST there would save the old version back, past ReadOnlyAdmin's refusals.
    """

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such object.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied("The history is read only.")
        if not (str(object_id).isdigit() and str(version_id).isdigit()):
            raise Http404("No such version.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class StatusFilter(admin.SimpleListFilter):
    """Running today / upcoming / ended, by the site's local date.

    Each contest's own zone would need the zone rules in SQL; near midnight a contest
    in a far zone may be listed one day early or late here. The Status column is exact.
    """

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return ContestStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Contest]) -> QuerySet[Contest]:
        today = timezone.localdate()
        match self.value():
            case ContestStatus.RUNNING:
                return queryset.filter(start__lte=today, end__gte=today)
            case ContestStatus.UPCOMING:
                return queryset.filter(start__gt=today)
            case ContestStatus.ENDED:
                return queryset.filter(end__lt=today)
        return queryset


class PrizeInline(admin.TabularInline):
    model = Prize
    extra = 0
    min_num = 1
    fields = ["code", "name", "perday", "value", "stock", "expire_after_minutes"]
    # Removing a prize that has plans is refused with a form error by the admin itself
    # (its inline forms check for protected objects, and DayPlan.prize is PROTECT).


@admin.register(Contest)
class ContestAdmin(HistoryAdmin):
    inlines = [PrizeInline]
    list_display = ["code", "name", "start", "end", "time_zone", "status", "today"]
    list_display_links = ["code", "name"]
    list_filter = [StatusFilter, "start", "end"]
    search_fields = ["code", "name"]
    date_hierarchy = "start"
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contest]:
        # Today's wins and perday come with the rows: no query per row.
        return with_today_figures(super().get_queryset(request), timezone.now())

    @admin.display(description=_("status"))
    def status(self, contest: Contest) -> SafeString:
        status = contest.status_on(contest.local_date(timezone.now()))
        # Coloured by static/css/admin.css: no style attribute (Content-Security-Policy).
        return format_html('<strong class="contest-status {}">{}</strong>', status, status.label)

    @admin.display(description=_("wins today / perday"))
    def today(self, contest: Contest) -> str:
        if contest.status_on(contest.local_date(timezone.now())) != ContestStatus.RUNNING:
            return "—"
        wins = formats.number_format(wins_today(contest, timezone.now()), force_grouping=True)
        return f"{wins} / {formats.number_format(contest.perday_total, force_grouping=True)}"

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting in bulk would list the protected moments of every contest, future ones
        # included; contests are deleted one by one, and only before any plan exists.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Contest | None = None) -> bool:
        if obj is not None and DayPlan.objects.filter(prize__contest=obj).exists():
            return False  # it has been played: its plans and wins are the record
        return super().has_delete_permission(request, obj)


@admin.register(DayPlan)
class DayPlanAdmin(ReadOnlyAdmin):
    list_display = ["day", "contest", "prize", "moment_count", "window_start", "made_at"]
    list_filter = ["prize__contest"]
    list_select_related = ["prize__contest"]
    date_hierarchy = "day"
    search_fields = ["prize__contest__code", "prize__code"]
    show_full_result_count = False
    plan_fields = ["prize", "day", "window_start", "window_end", "moment_count", "made_at", "rules"]

    def get_fields(self, request: HttpRequest, obj: DayPlan | None = None) -> list[str]:
        # Chosen per request: the admin instance is shared by every thread.
        moments = "all_moments" if sees_future_moments(request.user) else "passed_moments"
        return [*self.plan_fields, moments]

    def get_readonly_fields(self, request: HttpRequest, obj: DayPlan | None = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description=_("contest"), ordering="prize__contest__code")
    def contest(self, plan: DayPlan) -> str:
        return plan.prize.contest.code

    @admin.display(description=_("moments"))
    def passed_moments(self, plan: DayPlan) -> SafeString:
        """The moments that have passed; those to come are only counted."""
        return _moments_html(plan, timezone.now(), include_future=False)

    @admin.display(description=_("moments"))
    def all_moments(self, plan: DayPlan) -> SafeString:
        return _moments_html(plan, timezone.now(), include_future=True)


def _moments_html(plan: DayPlan, now: dt.datetime, *, include_future: bool) -> SafeString:
    moments = plan.moments.order_by("at")
    to_come = moments.filter(at__gt=now).count()
    if not include_future:
        moments = moments.filter(at__lte=now)
    zone = plan.prize.contest.zone
    listed = list(moments[:MOMENTS_LISTED])
    rows = format_html_join(
        "",
        '<li><time datetime="{}">{}</time> {}</li>',
        (
            (
                moment.at.isoformat(),
                formats.time_format(moment.at.astimezone(zone), "H:i:s"),
                _moment_state(moment, now),
            )
            for moment in listed
        ),
    )
    more = moments.count() - len(listed)
    counts = ngettext(
        "%(count)s moment, %(to_come)s still to come",
        "%(count)s moments, %(to_come)s still to come",
        plan.moment_count,
    ) % {
        "count": formats.number_format(plan.moment_count, force_grouping=True),
        "to_come": formats.number_format(to_come, force_grouping=True),
    }
    if not include_future:
        counts = gettext("%(counts)s (their times are shown to superusers only)") % {
            "counts": counts
        }
    return format_html(
        '<p>{}.</p><ul class="moment-list">{}</ul>{}',
        counts,
        rows,
        format_html(
            "<p>{}</p>",
            gettext("… and %(more)s more.")
            % {"more": formats.number_format(more, force_grouping=True)},
        )
        if more > 0
        else "",
    )


def _moment_state(moment: WinningMoment, now: dt.datetime) -> str:
    if moment.claimed:
        return gettext("claimed")
    return gettext("to come") if moment.at > now else gettext("not won")


@admin.register(WinningMoment)
class WinningMomentAdmin(ReadOnlyAdmin):
    """Listed on its own to superusers only: the list would show the moments to come."""

    list_display = ["at", "contest", "day", "claimed"]
    list_filter = ["claimed", "contest"]
    list_select_related = ["contest"]
    date_hierarchy = "day"
    show_full_result_count = False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return sees_future_moments(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_future_moments(request.user)


class ReadOnlyInline(admin.TabularInline):
    """Rows of the audit record shown beside their parent, never added or changed here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WinReviewInline(ReadOnlyInline):
    """A win's verdicts, newest first: read here, recorded on the portal's win page."""

    model = WinReview
    fields = ["status", "reason", "reviewed_by", "reviewed_at"]


@admin.register(Win)
class WinAdmin(ReadOnlyAdmin):
    list_display = [
        "won_at_local",
        "contest_link",
        "prize",
        "day",
        "player",
        "client",
        "review_status",
        "request_id",
    ]
    list_filter = ["contest", "day", "review_status", "client"]
    list_select_related = ["contest", "prize", "client"]
    inlines = [WinReviewInline]
    readonly_fields = ["review_page"]
    date_hierarchy = "day"
    search_fields = ["=player", "=request_id"]
    show_full_result_count = False
    actions = ["export_csv", "export_xlsx"]

    @admin.display(description=_("won at (contest's zone)"), ordering="won_at")
    def won_at_local(self, win: Win) -> str:
        local = win.won_at.astimezone(win.contest.zone)
        return f"{formats.date_format(local, 'SECONDS_DATETIME_FORMAT')} {local.tzname()}"

    @admin.display(description=_("contest"), ordering="contest__code")
    def contest_link(self, win: Win) -> SafeString:
        url = reverse("admin:contests_contest_change", args=[win.contest_id])
        return format_html('<a href="{}">{}</a>', url, win.contest.code)

    @admin.display(description=_("review"))
    def review_page(self, win: Win) -> SafeString:
        url = reverse("contests:win_detail", args=[win.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Review this win on the portal"))

    @admin.action(description=_("Export selected winners as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Win]) -> StreamingHttpResponse:
        return winners_csv_response(queryset.order_by("-won_at", "-id"), _export_name("csv"))

    @admin.action(description=_("Export selected winners as XLSX"), permissions=["view"])
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Win]) -> FileResponse:
        return winners_xlsx_response(queryset.order_by("-won_at", "-id"), _export_name("xlsx"))


def _export_name(extension: str) -> str:
    """winners-20200203T091530Z.csv: when it was exported, in UTC."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"winners-{stamp}.{extension}"


@admin.register(WinReview)
class WinReviewAdmin(ReadOnlyAdmin, HistoryAdmin):
    list_display = ["reviewed_at", "win", "status", "reviewed_by", "reason"]
    list_filter = ["status"]
    list_select_related = ["win__prize", "reviewed_by"]
    search_fields = ["=win__request_id", "=win__player", "reason"]
    show_full_result_count = False


# The API clients and their tokens: contests/admin_clients.py. The history, audit events,
# users and two-factor devices: contests/admin_accounts.py. The promoter, the participant
# register and the recovery draws: contests/admin_closing.py. The trusted timestamps:
# contests/admin_evidence.py. Vouchers and webhooks: contests/admin_vouchers.py and
# contests/admin_webhooks.py.
from . import (  # noqa: E402, F401
    admin_accounts,
    admin_clients,
    admin_closing,
    admin_evidence,
    admin_vouchers,
    admin_webhooks,
)
