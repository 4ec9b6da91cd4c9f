"""The admin's webhook pages: endpoints (the secret shown once, on the page that made it),
the events of the outbox, and the deliveries with their attempts, which can be replayed.
Registered by admin.py."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .admin import ReadOnlyAdmin, ReadOnlyInline
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .webhooks.addresses import check_url
from .webhooks.delivery import new_secret, replay
from .webhooks.endpoints import check_events
from .webhooks.events import EVENT_KINDS


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=[(kind, kind) for kind in EVENT_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["client", "url", "events", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return url

    def clean_events(self) -> list[str]:
        return check_events(self.cleaned_data["events"])


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "client", "kinds", "is_active", "created_at"]
    list_filter = ["is_active", "client"]
    list_select_related = ["client"]

    @admin.display(description=_("events"))
    def kinds(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    def save_model(self, request, obj: WebhookEndpoint, form, change: bool) -> None:
        if not change:
            obj.secret = new_secret()
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue=None):
        # Shown on this page only: admin pages are sent with Cache-Control: no-store.
        return TemplateResponse(
            request,
            "admin/contests/webhookendpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("New webhook endpoint"),
                "endpoint": obj,
            },
        )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # its deliveries are the record: deactivate it instead


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "error", "duration_ms"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "kind", "contest", "client", "created_at", "fanned_out"]
    list_filter = ["kind", "contest"]
    list_select_related = ["contest", "client"]
    search_fields = ["=event_id"]
    fields = ["event_id", "kind", "contest", "client", "created_at", "fanned_out", "body"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "kind",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__kind", "endpoint__client"]
    list_select_related = ["event", "endpoint__client"]
    search_fields = ["=event__event_id"]
    fields = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "retry_until",
        "delivered_at",
    ]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["replay_deliveries"]

    @admin.display(description=_("event id"), ordering="event__event_id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_id

    @admin.display(description=_("kind"), ordering="event__kind")
    def kind(self, delivery: WebhookDelivery) -> str:
        return delivery.event.kind

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("contests.change_webhookdelivery")

    @admin.action(description=_("Deliver the selected events again"), permissions=["replay"])
    def replay_deliveries(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        now = timezone.now()
        count = 0
        for delivery in queryset:
            replay(delivery, now)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)s delivery will be attempted again now, for another retry period.",
                "%(count)s deliveries will be attempted again now, for another retry period.",
                count,
            )
            % {"count": count},
        )
