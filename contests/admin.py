"""The admin, for operators: contests and prizes to edit; plans, moments and wins to read.

Plans, moments and wins are the audit record of what was drawn and won: nobody edits or
deletes them here. Moments that have not passed yet are shown to superusers only.
"""

import datetime as dt

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .access import sees_future_moments
from .dashboard import wins_today, with_today_figures
from .exports import winners_csv_response
from .models import Contest, ContestStatus, DayPlan, Prize, Win, WinningMoment

admin.site.site_header = "Contest Portal administration"
admin.site.site_title = "Contest Portal admin"
admin.site.index_title = "Contests, plans and winners"

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


class StatusFilter(admin.SimpleListFilter):
    """Running today / upcoming / ended, by the site's local date.

    Each contest's own zone would need the zone rules in SQL; near midnight a contest
    in a far zone may be listed one day early or late here. The Status column is exact.
    """

    title = "status"
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
    fields = ["code", "name", "perday"]
    # Removing a prize that has plans is refused with a form error by the admin itself
    # (its inline forms check for protected objects, and DayPlan.prize is PROTECT).


@admin.register(Contest)
class ContestAdmin(admin.ModelAdmin):
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

    @admin.display(description="status")
    def status(self, contest: Contest) -> SafeString:
        status = contest.status_on(contest.local_date(timezone.now()))
        colour = {"running": "#166534", "upcoming": "#3730a3", "ended": "#6b7280"}[status]
        return format_html('<strong style="color: {}">{}</strong>', colour, status.label)

    @admin.display(description="wins today / perday")
    def today(self, contest: Contest) -> str:
        if contest.status_on(contest.local_date(timezone.now())) != ContestStatus.RUNNING:
            return "—"
        return f"{wins_today(contest, timezone.now()):,} / {contest.perday_total:,}"

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
    plan_fields = ["prize", "day", "window_start", "window_end", "moment_count", "made_at"]

    def get_fields(self, request: HttpRequest, obj: DayPlan | None = None) -> list[str]:
        # Chosen per request: the admin instance is shared by every thread.
        moments = "all_moments" if sees_future_moments(request.user) else "passed_moments"
        return [*self.plan_fields, moments]

    def get_readonly_fields(self, request: HttpRequest, obj: DayPlan | None = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description="contest", ordering="prize__contest__code")
    def contest(self, plan: DayPlan) -> str:
        return plan.prize.contest.code

    @admin.display(description="moments")
    def passed_moments(self, plan: DayPlan) -> SafeString:
        """The moments that have passed; those to come are only counted."""
        return _moments_html(plan, timezone.now(), include_future=False)

    @admin.display(description="moments")
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
                moment.at.astimezone(zone).strftime("%H:%M:%S"),
                "claimed" if moment.claimed else ("to come" if moment.at > now else "not won"),
            )
            for moment in listed
        ),
    )
    more = moments.count() - len(listed)
    return format_html(
        '<p>{} moments, {} still to come{}.</p><ul class="moment-list">{}</ul>{}',
        plan.moment_count,
        to_come,
        "" if include_future else " (their times are shown to superusers only)",
        rows,
        format_html("<p>… and {} more.</p>", more) if more > 0 else "",
    )


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


@admin.register(Win)
class WinAdmin(ReadOnlyAdmin):
    list_display = ["won_at_local", "contest_link", "prize", "day", "player", "request_id"]
    list_filter = ["contest", "day"]
    list_select_related = ["contest", "prize"]
    date_hierarchy = "day"
    search_fields = ["=player", "=request_id"]
    show_full_result_count = False
    actions = ["export_csv"]

    @admin.display(description="won at (contest's zone)", ordering="won_at")
    def won_at_local(self, win: Win) -> str:
        return win.won_at.astimezone(win.contest.zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    @admin.display(description="contest", ordering="contest__code")
    def contest_link(self, win: Win) -> SafeString:
        url = reverse("admin:contests_contest_change", args=[win.contest_id])
        return format_html('<a href="{}">{}</a>', url, win.contest.code)

    @admin.action(description="Export selected winners as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Win]) -> StreamingHttpResponse:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return winners_csv_response(queryset.order_by("-won_at", "-id"), f"winners-{stamp}.csv")
