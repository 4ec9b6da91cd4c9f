"""The admin's read-only lists of the trusted timestamps (docs/auditing.md): what was to be
stamped, and the TSA's tokens. Registered by admin.py."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .admin import ReadOnlyAdmin
from .evidence.timestamps import encoded
from .models import Timestamp, TimestampRequest


@admin.register(TimestampRequest)
class TimestampRequestAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "kind", "reference", "digest", "stamped"]
    list_filter = ["kind"]
    search_fields = ["=reference", "=digest"]
    date_hierarchy = "requested_at"
    list_select_related = ["timestamp"]

    @admin.display(boolean=True, description=_("stamped"))
    def stamped(self, request: TimestampRequest) -> bool:
        return hasattr(request, "timestamp")


@admin.register(Timestamp)
class TimestampAdmin(ReadOnlyAdmin):
    list_display = ["stamped_at", "request", "tsa_url", "received_at"]
    list_select_related = ["request"]
    date_hierarchy = "stamped_at"
    fields = ["request", "stamped_at", "tsa_url", "received_at", "token_base64"]
    readonly_fields = fields

    @admin.display(description=_("token (base64 DER)"))
    def token_base64(self, stamp: Timestamp) -> str:
        return encoded(stamp.token)
