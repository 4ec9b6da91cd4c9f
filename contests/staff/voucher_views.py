"""The staff portal's voucher pages: a contest's pools (counts, and importing codes for
Contest staff), and marking a win's code redeemed. Codes not won are never shown."""

import io

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Contest, RedeemedVia, Voucher
from ..moments.vouchers import voucher_counts
from ..vouchers.importing import import_vouchers, report_lines
from ..vouchers.redemption import redeem
from .access import staff_permission_required, staff_required

# An upload of a million codes is about 16 MB; Django spools it to a file beyond 2.5 MB.
MAX_UPLOAD = 100 * 1024 * 1024


class VoucherImportForm(forms.Form):
    prize = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Prize"))
    file = forms.FileField(
        label=gettext_lazy("File of codes"),
        help_text=gettext_lazy(
            "Text (one code a line) or CSV (codes in the first column), in UTF-8. "
            "One invalid line and nothing is imported."
        ),
    )

    def __init__(self, contest: Contest, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prize"].queryset = contest.prizes.order_by("code")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 100 MB."))
        return upload


@staff_required
def contest_vouchers(request: HttpRequest, code: str) -> HttpResponse:
    """The codes imported, given and redeemed per prize; the import form for Contest staff."""
    contest = get_object_or_404(Contest, code=code)
    may_import = request.user.has_perm("contests.add_voucher")
    form = VoucherImportForm(contest, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not may_import:
            return render(request, "403.html", status=403)
        if form.is_valid():
            prize = form.cleaned_data["prize"]
            upload = form.cleaned_data["file"]
            try:
                text = io.TextIOWrapper(upload.file, encoding="utf-8", newline="")
                report = import_vouchers(prize, text, is_csv=upload.name.lower().endswith(".csv"))
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text: nothing was imported."))
            else:
                if report.ok and report.read:
                    for line in report_lines(report):
                        messages.success(request, f"{prize.code}: {line}")
                    return redirect("contests:contest_vouchers", code=contest.code)
                for line in report_lines(report):
                    form.add_error("file", line)
        status = 400
    counts = voucher_counts(contest.pk)
    prizes = []
    for prize in contest.prizes.order_by("code"):
        count = counts.get(prize.pk, {"imported": 0, "given": 0, "redeemed": 0})
        prizes.append((prize, {**count, "left": count["imported"] - count["given"]}))
    return render(
        request,
        "contests/contest_vouchers.html",
        {"contest": contest, "prizes": prizes, "form": form if may_import else None},
        status=status,
    )


@staff_permission_required("contests.change_voucher")
def redeem_win_voucher(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the code of a win redeemed (POST), e.g. when the brand reports it by phone."""
    voucher = get_object_or_404(Voucher.objects.select_related("prize__contest", "win"), win__pk=pk)
    if request.method == "POST":
        if redeem(voucher, timezone.now(), RedeemedVia.STAFF):
            messages.success(request, _("Win %(number)s: voucher redeemed.") % {"number": pk})
        else:
            messages.warning(
                request, _("Win %(number)s: the voucher was already redeemed.") % {"number": pk}
            )
    return redirect("contests:win_detail", pk=pk)
