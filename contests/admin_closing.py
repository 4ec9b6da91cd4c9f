"""The admin's pages for the closing: the promoter (site-wide settings, one row, edited
here), the participant register and the recovery draws (read only: the draws are held
from the closing report's page or with `manage.py recovery_draw`). Registered by admin.py."""

from django.contrib import admin
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from .admin import ReadOnlyAdmin, ReadOnlyInline
from .models import Participant, Promoter, RecoveryDraw, RecoveryPick
from .recovery_records import RecoveryPrize


@admin.register(Promoter)
class PromoterAdmin(admin.ModelAdmin):
    fields = ["company", "vat_number", "address"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Promoter.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One row: the list is its form.
        if Promoter.objects.exists():
            return redirect(reverse("admin:contests_promoter_change", args=[1]))
        return redirect(reverse("admin:contests_promoter_add"))


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["contest", "day", "client", "player", "plays"]
    list_filter = ["contest"]
    search_fields = ["=player", "contest__code"]
    list_select_related = ["contest", "client"]


class RecoveryPrizeInline(ReadOnlyInline):
    model = RecoveryPrize
    fields = ["prize", "unclaimed", "disqualified", "to_draw"]


class RecoveryPickInline(ReadOnlyInline):
    model = RecoveryPick
    fields = ["prize", "role", "rank", "entrant"]


@admin.register(RecoveryDraw)
class RecoveryDrawAdmin(ReadOnlyAdmin):
    list_display = ["contest", "state", "participants_count", "frozen_at", "drawn_at"]
    fields = [
        "contest",
        "state",
        "entries",
        "reserves",
        "participants_count",
        "excluded_count",
        "participants_sha256",
        "seed_sha256",
        "revealed",
        "frozen_at",
        "frozen_by",
        "drawn_at",
        "drawn_by",
    ]
    readonly_fields = fields
    inlines = [RecoveryPrizeInline, RecoveryPickInline]

    @admin.display(description=RecoveryDraw._meta.get_field("seed").verbose_name)
    def revealed(self, draw: RecoveryDraw) -> str:
        return draw.revealed_seed() or "—"  # kept secret until the draw
