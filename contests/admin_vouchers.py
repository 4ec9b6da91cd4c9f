"""The admin's voucher pages: pools (a prize's counts, and the "Import voucher codes" action)
and vouchers, whose codes are shown only once a win took them. Registered by admin.py."""

import io

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin import ReadOnlyAdmin
from .models import Voucher, VoucherPool
from .vouchers.importing import import_vouchers, report_lines


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File of codes"),
        help_text=_("Text (one code a line) or CSV (codes in the first column), in UTF-8."),
    )


@admin.register(VoucherPool)
class VoucherPoolAdmin(ReadOnlyAdmin):
    list_display = ["code", "contest", "name", "imported", "given", "redeemed"]
    list_filter = ["contest"]
    list_select_related = ["contest"]
    search_fields = ["code", "contest__code"]
    actions = ["import_codes"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoucherPool]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                voucher_count=Count("vouchers"),
                given_count=Count("vouchers", filter=Q(vouchers__win__isnull=False)),
                redeemed_count=Count("vouchers", filter=Q(vouchers__redeemed_at__isnull=False)),
            )
        )

    @admin.display(description=_("imported"), ordering="voucher_count")
    def imported(self, pool: VoucherPool) -> int:
        return pool.voucher_count

    @admin.display(description=_("given"), ordering="given_count")
    def given(self, pool: VoucherPool) -> int:
        return pool.given_count

    @admin.display(description=_("redeemed"), ordering="redeemed_count")
    def redeemed(self, pool: VoucherPool) -> int:
        return pool.redeemed_count

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("contests.add_voucher")

    @admin.action(
        description=_("Import voucher codes into the selected prize"), permissions=["import"]
    )
    def import_codes(
        self, request: HttpRequest, queryset: QuerySet[VoucherPool]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one prize."), messages.ERROR)
            return None
        pool = queryset.get()
        form = ImportForm(request.POST if "file" in request.FILES else None, request.FILES or None)
        if form.is_bound and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = io.TextIOWrapper(upload.file, encoding="utf-8", newline="")
                report = import_vouchers(pool, text, is_csv=upload.name.lower().endswith(".csv"))
            except UnicodeDecodeError:
                form.add_error("file", gettext("The file is not UTF-8 text: nothing was imported."))
            else:
                level = messages.SUCCESS if report.ok and report.read else messages.ERROR
                for line in report_lines(report):
                    self.message_user(request, f"{pool.code}: {line}", level)
                return None
        return TemplateResponse(
            request,
            "admin/contests/voucherpool/import.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Import voucher codes into %(prize)s") % {"prize": pool.code},
                "pool": pool,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    """Given codes, by win; codes still in a pool are secrets: shown to nobody."""

    list_display = ["__str__", "prize", "shown_code", "win", "redeemed_at", "redeemed_via"]
    list_filter = ["prize__contest", "redeemed_via", ("win", admin.EmptyFieldListFilter)]
    list_select_related = ["prize__contest", "win"]
    fields = ["prize", "shown_code", "win", "redeemed_at", "redeemed_via"]
    readonly_fields = fields
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Looking a code up finds only given ones: a search must not reveal the pool.
        if search_term:
            return queryset.filter(win__isnull=False, code=search_term.strip()), False
        return queryset, False

    search_fields = ["code"]

    @admin.display(description=_("code"))
    def shown_code(self, voucher: Voucher) -> str:
        return voucher.code if voucher.win_id is not None else "••••••"
