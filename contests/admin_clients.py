"""The admin's pages for the API clients and their tokens: a new token is shown once, on the
page that issued it. Registered by admin.py."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .admin import HistoryAdmin, ReadOnlyInline
from .models import ApiClient, ApiToken
from .play.credentials import issue_token


class ApiTokenInline(ReadOnlyInline):
    """A client's tokens, by their first characters; the full token was shown only once.

    Tokens are issued with the client's "Issue a new token" action, revoked from their list.
    """

    model = ApiToken
    fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


def _tokens_issued(
    request: HttpRequest, admin_site: admin.AdminSite, issued: list[tuple[ApiClient, str]]
) -> TemplateResponse:
    """Show new plain tokens once, in this answer only: never stored, never in a message.

    Admin pages are already sent with Cache-Control: no-store.
    """
    return TemplateResponse(
        request,
        "admin/contests/apiclient/tokens_issued.html",
        {**admin_site.each_context(request), "title": gettext("New API tokens"), "issued": issued},
    )


@admin.register(ApiClient)
class ApiClientAdmin(HistoryAdmin):
    list_display = ["name", "is_active", "enabled_contests", "active_tokens", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    filter_horizontal = ["contests"]
    inlines = [ApiTokenInline]
    actions = ["issue_tokens"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        return super().get_queryset(request).prefetch_related("contests", "tokens")

    @admin.display(description=_("contests"))
    def enabled_contests(self, client: ApiClient) -> str:
        return ", ".join(contest.code for contest in client.contests.all()) or "—"

    @admin.display(description=_("active tokens"))
    def active_tokens(self, client: ApiClient) -> int:
        return sum(1 for token in client.tokens.all() if not token.is_revoked)

    def response_add(self, request: HttpRequest, obj: ApiClient, post_url_continue=None):
        # A new client gets its first token now, shown on this page and never again.
        _, plain = issue_token(obj)
        return _tokens_issued(request, self.admin_site, [(obj, plain)])

    @admin.action(
        description=_("Issue a new token to the selected clients"), permissions=["change"]
    )
    def issue_tokens(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> HttpResponse:
        issued = [(client, issue_token(client)[1]) for client in queryset.order_by("name")]
        return _tokens_issued(request, self.admin_site, issued)


@admin.register(ApiToken)
class ApiTokenAdmin(HistoryAdmin):
    list_display = ["prefix", "client", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["client", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client"]
    fields = ["client", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued from the client, so that the plain token can be shown once

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # revoke instead: the token stays, with when it was last used

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])  # save(), so the play cache forgets it
            revoked += 1
        self.message_user(
            request,
            ngettext(
                "Revoked %(count)s token; it is refused from now on.",
                "Revoked %(count)s tokens; they are refused from now on.",
                revoked,
            )
            % {"count": revoked},
        )
