"""The admin's pages for who did what: the change history, audit events, users (deactivated,
never deleted, once they have history) and two-factor devices. Registered by admin.py."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .accounts import deactivate, has_history
from .admin import ReadOnlyAdmin
from .models import ApiClient, ApiToken, AuditEvent, Contest, Prize, WinReview

# History and audit events -------------------------------------------------------------


class HistoryRecordAdmin(ReadOnlyAdmin):
    """One model's history: every version, who made it and when; never changed here."""

    list_display = ["history_date", "history_type", "record", "history_user", "reason"]
    list_filter = ["history_type"]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"
    show_full_result_count = False

    @admin.display(description="object")
    def record(self, record) -> str:
        return str(record.instance)

    @admin.display(description="by command")
    def reason(self, record) -> str:
        return record.history_change_reason or ""


for _model in (Contest, Prize, ApiClient, ApiToken, WinReview):
    admin.site.register(_model.history.model, HistoryRecordAdmin)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "address", "contest", "detail", "request_id"]
    list_filter = ["kind", "contest"]
    list_select_related = ["contest"]
    search_fields = ["=username", "=address", "=request_id"]
    date_hierarchy = "at"
    show_full_result_count = False


# Users: deactivated, never deleted, once they have history -----------------------------

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    actions = ["deactivate_users"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and has_history(obj):
            return False  # deactivate instead: the history names them
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting in bulk would reach users with history; deactivate them instead.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Deactivate the selected users", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset) -> None:
        count = sum(deactivate(user, by=request.user) for user in queryset)
        self.message_user(
            request, f"Deactivated {count} user(s); their history stays.", messages.SUCCESS
        )


# Two-factor devices -------------------------------------------------------------------


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class PortalTOTPDeviceAdmin(TOTPDeviceAdmin):
    """django-otp's admin for TOTP devices ("QR code" shows a device to scan, once made),
    answering 404 rather than failing for a device that does not exist."""

    def config_view(self, request: HttpRequest, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request: HttpRequest, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)
