"""A contest's history: who changed what and when, merged from every record that concerns it.

The rows come from django-simple-history's tables (contests, prizes, API clients with the
contests they are enabled for, their tokens, reviews of the contest's wins) and from
AuditEvent (plans made by commands). Those tables are append-only: the portal only ever
inserts into them, and on PostgreSQL its database role may do nothing else
(contests/database_roles.py).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet

from .models import ApiClient, ApiToken, AuditEvent, AuditEventKind, Contest, Prize, WinReview

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# Fields that change on their own or say nothing to a reader.
QUIET_FIELDS = {"id", "created_at", "updated_at", "digest", "history_change_reason"}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    who: str
    what: str
    action: str
    changes: tuple[Change, ...] = ()
    note: str = ""
    order: tuple = field(default=(), compare=False)


def _who(record) -> str:
    user = getattr(record, "history_user", None)
    if user is not None:
        return user.get_username()
    return record.history_change_reason or "—"


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(_shown(v) for v in value)) or "—"
    return str(value)


def _changes(record, previous) -> tuple[Change, ...]:
    if previous is None:
        return ()
    delta = record.diff_against(previous)
    return tuple(
        Change(change.field, _shown(change.old), _shown(change.new))
        for change in delta.changes
        if change.field not in QUIET_FIELDS
    )


def _entries(records: QuerySet, what, action=None) -> Iterable[Entry]:
    """Entries for historical records, each diffed against the version before it."""
    previous_of: dict[int, Model] = {}
    for record in records.select_related("history_user").order_by("id", "history_id"):
        previous = previous_of.get(record.id)
        changes = _changes(record, previous)
        label = action(record, previous) if action else ACTIONS[record.history_type]
        if record.history_type == "~" and not changes and label == "changed":
            previous_of[record.id] = record
            continue  # saved without a change
        yield Entry(
            at=record.history_date,
            who=_who(record),
            what=what(record),
            action=label,
            changes=changes,
            order=(record.history_date, record.history_id),
        )
        previous_of[record.id] = record


def _token_action(record, previous) -> str:
    if record.history_type == "+":
        return "issued"
    if record.revoked_at and (previous is None or not previous.revoked_at):
        return "revoked"
    return ACTIONS[record.history_type]


def contest_history(contest: Contest) -> list[Entry]:
    """Everything recorded about `contest`, newest first."""
    # Every client ever enabled for the contest: enabled now, or named by an event.
    clients = set(contest.api_clients.values_list("pk", flat=True))
    named = AuditEvent.objects.filter(
        contest=contest, kind__in=[AuditEventKind.CLIENT_ENABLED, AuditEventKind.CLIENT_DISABLED]
    ).values_list("detail", flat=True)
    names = {detail.removeprefix("API client ") for detail in named}
    clients |= set(ApiClient.history.filter(name__in=names).values_list("id", flat=True))
    client_names = dict(ApiClient.history.filter(id__in=clients).values_list("id", "name"))
    entries: list[Entry] = []
    entries += _entries(Contest.history.filter(id=contest.pk), lambda r: f"Contest {r.code}")
    entries += _entries(Prize.history.filter(contest_id=contest.pk), lambda r: f"Prize {r.code}")
    entries += _entries(ApiClient.history.filter(id__in=clients), lambda r: f"API client {r.name}")
    entries += _entries(
        ApiToken.history.filter(client_id__in=clients),
        lambda r: f"API token {r.prefix}… of {client_names.get(r.client_id, r.client_id)}",
        _token_action,
    )
    entries += _entries(
        WinReview.history.filter(win__contest=contest.pk),
        lambda r: f"Review of win {r.win_id}",
    )
    for event in AuditEvent.objects.filter(contest=contest).select_related("user"):
        entries.append(
            Entry(
                at=event.at,
                who=event.user.get_username() if event.user else event.username or "—",
                what=event.get_kind_display(),
                action="recorded",
                note=event.detail,
                order=(event.at, event.pk),
            )
        )
    return sorted(entries, key=lambda entry: entry.order, reverse=True)
