"""The winners' columns, defined once for the winners tables and the exports.

A column adds itself to all of them: the portal's tables, the portal's CSV and XLSX
exports and the admin's export actions all read WINNER_COLUMNS.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..models import Win


@dataclass(frozen=True)
class WinnerColumn:
    key: str  # the CSV header
    label: str  # the table heading, and the XLSX one (lazy: in the request's language)
    text: Callable[[Win], str]  # the cell in the CSV
    html: Callable[[Win], str | SafeString] | None = None  # the table cell, if not `text`
    related: tuple[str, ...] = ()  # what the cell reads through select_related
    # The cell in the XLSX, typed (a date, a number), if not `text`.
    value: Callable[[Win], object] | None = None

    def cell(self, win: Win) -> str | SafeString:
        return self.html(win) if self.html else self.text(win)

    def typed(self, win: Win) -> object:
        return self.value(win) if self.value else self.text(win)


def _local_won_at(win: Win) -> str:
    """ISO 8601 in the contest's own zone: the offset says which zone it was."""
    return win.won_at.astimezone(win.contest.zone).isoformat()


def _won_at_html(win: Win) -> SafeString:
    local = win.won_at.astimezone(win.contest.zone)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        local.tzname(),
        formats.date_format(local, "SECONDS_DATETIME_FORMAT"),
    )


def _contest_html(win: Win) -> SafeString:
    url = reverse("contests:contest_detail", args=[win.contest.code])
    return format_html('<a href="{}?day={}">{}</a>', url, win.day.isoformat(), win.contest.code)


def _player_html(win: Win) -> str:
    return win.player or "—"


def _review_html(win: Win) -> SafeString:
    url = reverse("contests:win_detail", args=[win.pk])
    return format_html('<a href="{}">{}</a>', url, win.get_review_status_display())


def _local_won_at_value(win: Win) -> dt.datetime:
    """The instant on the contest's clock, with its offset (XLSX shows it beside the time)."""
    return win.won_at.astimezone(win.contest.zone)


WINNER_COLUMNS: tuple[WinnerColumn, ...] = (
    WinnerColumn("contest", _("Contest"), lambda w: w.contest.code, _contest_html, ("contest",)),
    WinnerColumn("prize_code", _("Prize code"), lambda w: w.prize.code, related=("prize",)),
    WinnerColumn("prize_name", _("Prize"), lambda w: w.prize.name, related=("prize",)),
    WinnerColumn("day", _("Day"), lambda w: w.day.isoformat(), value=lambda w: w.day),
    WinnerColumn(
        "won_at", _("Won at"), _local_won_at, _won_at_html, ("contest",), _local_won_at_value
    ),
    WinnerColumn("player", _("Player"), lambda w: w.player, _player_html),
    WinnerColumn(
        "client", _("Client"), lambda w: w.client.name if w.client else "", None, ("client",)
    ),
    WinnerColumn("review", _("Review"), lambda w: str(w.get_review_status_display()), _review_html),
    WinnerColumn("request_id", _("Request id"), lambda w: w.request_id),
)

# The contest page shows one contest and one day: those columns would repeat on every row.
DAY_COLUMNS = tuple(column for column in WINNER_COLUMNS if column.key not in {"contest", "day"})


def related_of(columns: Iterable[WinnerColumn]) -> list[str]:
    return sorted({path for column in columns for path in column.related})


def table_rows(wins: Iterable[Win], columns: Sequence[WinnerColumn]) -> list[list[str]]:
    return [[column.cell(win) for column in columns] for win in wins]
