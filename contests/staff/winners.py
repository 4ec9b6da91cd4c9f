"""The winners' columns, defined once for the winners tables and the CSV export.

A column adds itself to both: the portal's tables, the portal's export and the admin's
export action all read WINNER_COLUMNS.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..models import Win


@dataclass(frozen=True)
class WinnerColumn:
    key: str  # the CSV header
    label: str  # the table heading
    text: Callable[[Win], str]  # the cell in the CSV
    html: Callable[[Win], str | SafeString] | None = None  # the table cell, if not `text`
    related: tuple[str, ...] = ()  # what the cell reads through select_related

    def cell(self, win: Win) -> str | SafeString:
        return self.html(win) if self.html else self.text(win)


def _local_won_at(win: Win) -> str:
    """ISO 8601 in the contest's own zone: the offset says which zone it was."""
    return win.won_at.astimezone(win.contest.zone).isoformat()


def _won_at_html(win: Win) -> SafeString:
    local = win.won_at.astimezone(win.contest.zone)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        local.tzname(),
        local.strftime("%Y-%m-%d %H:%M:%S"),
    )


def _contest_html(win: Win) -> SafeString:
    url = reverse("contests:contest_detail", args=[win.contest.code])
    return format_html('<a href="{}?day={}">{}</a>', url, win.day.isoformat(), win.contest.code)


def _player_html(win: Win) -> str:
    return win.player or "—"


def _review_html(win: Win) -> SafeString:
    url = reverse("contests:win_detail", args=[win.pk])
    return format_html('<a href="{}">{}</a>', url, win.get_review_status_display())


WINNER_COLUMNS: tuple[WinnerColumn, ...] = (
    WinnerColumn("contest", "Contest", lambda w: w.contest.code, _contest_html, ("contest",)),
    WinnerColumn("prize_code", "Prize code", lambda w: w.prize.code, related=("prize",)),
    WinnerColumn("prize_name", "Prize", lambda w: w.prize.name, related=("prize",)),
    WinnerColumn("day", "Day", lambda w: w.day.isoformat()),
    WinnerColumn("won_at", "Won at", _local_won_at, _won_at_html, ("contest",)),
    WinnerColumn("player", "Player", lambda w: w.player, _player_html),
    WinnerColumn(
        "client", "Client", lambda w: w.client.name if w.client else "", None, ("client",)
    ),
    WinnerColumn("review", "Review", lambda w: w.get_review_status_display(), _review_html),
    WinnerColumn("request_id", "Request id", lambda w: w.request_id),
)

# The contest page shows one contest and one day: those columns would repeat on every row.
DAY_COLUMNS = tuple(column for column in WINNER_COLUMNS if column.key not in {"contest", "day"})


def related_of(columns: Iterable[WinnerColumn]) -> list[str]:
    return sorted({path for column in columns for path in column.related})


def table_rows(wins: Iterable[Win], columns: Sequence[WinnerColumn]) -> list[list[str]]:
    return [[column.cell(win) for column in columns] for win in wins]
