"""The staff portal's forms: a contest with its prizes, the winners' filters, a review,
the closing report's period, the contest page's day."""

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils import formats
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..models import PLAYER_MAX_LENGTH, Contest, Prize, ReviewStatus, Win, default_time_zone


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this machine knows, sorted; read from disk once per process."""
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def date_placeholder() -> str:
    """The order the date fields show, in the active language: gg/mm/aaaa, yyyy-mm-dd."""
    pattern = formats.get_format("DATE_INPUT_FORMATS")[0]
    for code, letters in (
        ("%d", pgettext("date field placeholder", "dd")),
        ("%m", pgettext("date field placeholder", "mm")),
        ("%Y", pgettext("date field placeholder", "yyyy")),
        ("%y", pgettext("date field placeholder", "yy")),
    ):
        pattern = pattern.replace(code, letters)
    return pattern


class DateInput(forms.DateInput):
    """A date typed in the language's own order: 01/12/2026 in Italian, 2026-12-01 in English.

    Not the browser's date picker (type="date"): it shows dates in the order of the
    browser's language, not the page's, so an Italian with a browser in English sees
    12/01/2026 for the first of December. Here the field shows the first of the language's
    DATE_INPUT_FORMATS (portal/formats/) and accepts any of them, ISO 8601 in every
    language, so links and scripts that send 2026-12-01 keep working.
    """

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def get_context(self, name: str, value: object, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", date_placeholder())
        return context


class ContestForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        initial=default_time_zone,
        help_text=_("Days run from midnight to midnight in this zone."),
    )

    class Meta:
        model = Contest
        # One field per line: a new field (Contest.wmax, say) is one more line here and
        # is rendered after the others (render_unmentioned_fields below).
        fields = [
            "code",
            "name",
            "start",
            "end",
            "time_zone",
            "wmax",
            "wmax_total",
            "play_interval",
            "opening_hours",
            "beneficiary_name",
            "beneficiary_fiscal_code",
            "recovery_draw",
            "recovery_entries",
            "recovery_reserves",
        ]
        widgets = {"start": DateInput(), "end": DateInput()}
        help_texts = {
            "code": _("Players' apps send it as ?contest=…: letters, digits, - and _ only."),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in ("recovery_entries", "recovery_reserves"):  # left out: the defaults
            self.fields[name].required = False
        self.helper = FormHelper()
        self.helper.form_tag = False  # one <form> holds the contest and its prizes
        self.helper.disable_csrf = True
        self.helper.render_unmentioned_fields = True
        self.helper.layout = Layout(
            Row(Column("code", css_class="col-md-4"), Column("name", css_class="col-md-8")),
            Row(
                Column("start", css_class="col-md-4"),
                Column("end", css_class="col-md-4"),
                Column("time_zone", css_class="col-md-4"),
            ),
            Row(
                Column("wmax", css_class="col-md-4"),
                Column("wmax_total", css_class="col-md-4"),
                Column("play_interval", css_class="col-md-4"),
            ),
            Row(Column("opening_hours", css_class="col-md-12")),
            Row(
                Column("beneficiary_name", css_class="col-md-8"),
                Column("beneficiary_fiscal_code", css_class="col-md-4"),
            ),
            Row(
                Column("recovery_draw", css_class="col-md-4"),
                Column("recovery_entries", css_class="col-md-4"),
                Column("recovery_reserves", css_class="col-md-4"),
            ),
        )


class PrizeForm(forms.ModelForm):
    class Meta:
        model = Prize
        fields = ["code", "name", "perday", "value", "stock", "expire_after_minutes"]
        labels = {"perday": _("Wins per day"), "expire_after_minutes": _("Expire after (min)")}
        help_texts = {"perday": ""}  # the form says once, above the prizes, when it applies

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Left empty: 0.00; a blank row for a new prize stays blank (not "changed").
        self.fields["value"].required = False
        if self.instance.pk is None:
            self.fields["value"].initial = None

    def clean_value(self):
        value = self.cleaned_data.get("value")
        return Decimal(0) if value is None else value


class BasePrizeFormSet(BaseInlineFormSet):
    default_error_messages = {
        "too_few_forms": _("A contest needs at least one prize."),
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        columns = [
            Column("code", css_class="col-md-2"),
            Column("name", css_class="col-md-3"),
            Column("perday", css_class="col-md-1"),
            Column("value", css_class="col-md-2"),
            Column("stock", css_class="col-md-1"),
            Column("expire_after_minutes", css_class="col-md-2"),
        ]
        if "DELETE" in form.fields:  # saved prizes only
            form.fields["DELETE"].label = _("Remove")
            columns.append(Column(Field("DELETE"), css_class="col-md-1 prize-remove"))
        form.helper = FormHelper()
        form.helper.form_tag = False
        form.helper.disable_csrf = True
        form.helper.render_hidden_fields = True  # the prize's id and contest
        form.helper.layout = Layout(Row(*columns))

    def clean(self) -> None:
        """Refuse to remove a prize that has day plans: they are the record of its days."""
        super().clean()
        for form in self.deleted_forms:
            prize = form.instance
            if prize.pk and prize.plans.exists():
                raise ValidationError(
                    gettext(
                        "Prize %(code)s cannot be removed: it already has day plans, the "
                        "record of the days it was played. Set its contest's end date instead."
                    )
                    % {"code": prize.code}
                )


def prize_formset(data: dict | None, instance: Contest, *, extra: int) -> BaseInlineFormSet:
    """The prizes of `instance`, at least one, plus `extra` blank rows to add more."""
    formset_class = inlineformset_factory(
        Contest,
        Prize,
        form=PrizeForm,
        formset=BasePrizeFormSet,
        extra=extra,
        min_num=1,
        validate_min=True,
        can_delete=True,
        can_delete_extra=False,  # only a saved prize can be removed
    )
    return formset_class(data, instance=instance, prefix="prizes")


class WinnerFilterForm(forms.Form):
    contest = forms.ModelChoiceField(
        label=_("Contest"),
        queryset=Contest.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All contests"),
    )
    day_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    day_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    player = forms.CharField(
        label=_("Player"),
        required=False,
        max_length=PLAYER_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": _("exact player id")}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "winner-filters"
        self.helper.layout = Layout(
            Row(
                Column("contest", css_class="col-md-3"),
                Column("day_from", css_class="col-md-2"),
                Column("day_to", css_class="col-md-2"),
                Column("player", css_class="col-md-3"),
                Column(
                    Submit("", _("Filter"), css_class="btn-primary w-100"),
                    css_class="col-md-2 d-flex align-items-end mb-3",
                ),
            )
        )

    def clean(self) -> dict:
        data = super().clean()
        day_from: dt.date | None = data.get("day_from")
        day_to: dt.date | None = data.get("day_to")
        if day_from and day_to and day_to < day_from:
            self.add_error("day_to", _("The last day cannot be before the first."))
        return data

    def filter(self, wins: QuerySet[Win]) -> QuerySet[Win]:
        """Narrow `wins` to what the (valid) form asks for; days are the contests' local days."""
        data = self.cleaned_data
        if data.get("contest"):
            wins = wins.filter(contest=data["contest"])
        if data.get("day_from"):
            wins = wins.filter(day__gte=data["day_from"])
        if data.get("day_to"):
            wins = wins.filter(day__lte=data["day_to"])
        if data.get("player"):
            wins = wins.filter(player=data["player"])
        return wins

    def filename(self, extension: str = "csv") -> str:
        """A download name that says what was filtered, e.g. winners-C0001-2020-02-01.csv."""
        data = self.cleaned_data
        parts = ["winners"]
        if data.get("contest"):
            parts.append(data["contest"].code)  # codes are letters, digits, - and _
        if data.get("day_from"):
            parts.append(f"from-{data['day_from'].isoformat()}")
        if data.get("day_to"):
            parts.append(f"to-{data['day_to'].isoformat()}")
        return "-".join(parts) + f".{extension}"


class ReviewForm(forms.Form):
    """A verdict on a win; the reason is required, it is part of the audit record."""

    status = forms.ChoiceField(
        label=_("Verdict"),
        choices=[
            (ReviewStatus.VALIDATED, _("Validate")),
            (ReviewStatus.DISQUALIFIED, _("Disqualify")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Kept with your name and the time. A disqualified prize is not awarded again."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ReportPeriodForm(forms.Form):
    """The days a contest's closing report covers: by default every day that has begun.

    Only the contest's days that have begun are reported: a period reaching beyond them is
    narrowed to them, and one with none of them in it is an error.
    """

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(
        self, data: dict | None = None, *, contest: Contest, today: dt.date, **kwargs: object
    ) -> None:
        self.contest = contest
        self.today = today
        self.last_day = min(contest.end, today)  # the last day of the contest so far
        kwargs.setdefault("initial", {"start": contest.start, "end": self.last_day})
        super().__init__(data, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "report-filters"
        self.helper.layout = Layout(
            Row(
                Column("start", css_class="col-md-3"),
                Column("end", css_class="col-md-3"),
                Column(
                    Submit("", _("Show"), css_class="btn-primary w-100"),
                    css_class="col-md-2 d-flex align-items-end mb-3",
                ),
            )
        )

    @property
    def has_begun(self) -> bool:
        return self.today >= self.contest.start

    def clean(self) -> dict:
        data = super().clean()
        start: dt.date | None = data.get("start")
        end: dt.date | None = data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The last day cannot be before the first."))
        elif self.has_begun and not self.errors and self.period() is None:
            self.add_error(
                None,
                gettext(
                    "No day of the contest falls in this period: it runs from %(start)s and "
                    "its last day so far is %(last)s."
                )
                % {
                    "start": formats.date_format(self.contest.start),
                    "last": formats.date_format(self.last_day),
                },
            )
        return data

    def period(self) -> tuple[dt.date, dt.date] | None:
        """The first and last day to report, or None if no day of the contest is in it."""
        data = self.cleaned_data if self.is_bound else {}
        first = max(data.get("start") or self.contest.start, self.contest.start)
        last = min(data.get("end") or self.last_day, self.last_day)
        return (first, last) if first <= last else None


class DayForm(forms.Form):
    """The contest page's day, typed in the language's order (or ISO, as its links send it)."""

    day = forms.DateField(
        label=_("Day"),
        widget=DateInput(attrs={"class": "form-control form-control-sm", "id": "day-picker"}),
    )
