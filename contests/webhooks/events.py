"""The events the portal tells the brands about, and the outbox they are written to.

record_event() writes one event in the caller's transaction, so that an event exists
exactly when what it reports was committed. Each kind's body is documented, with its
JSON Schema, in docs/api.md ("Webhook events"); SCHEMAS below is the same text, and the
tests check both against the bodies the portal writes.
"""

import datetime as dt
import json
import uuid

from django.utils import timezone

from ..models import ApiClient, Contest, Voucher, Win, WinReview

WIN_CREATED = "win.created"
WIN_REVIEWED = "win.reviewed"
VOUCHER_REDEEMED = "voucher.redeemed"
PRIZE_STOCK_LOW = "prize.stock_low"
RECOVERY_DRAWN = "recovery.drawn"
EVENT_KINDS = (WIN_CREATED, WIN_REVIEWED, VOUCHER_REDEEMED, PRIZE_STOCK_LOW, RECOVERY_DRAWN)

_STRING = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_DAY = {"type": "string", "format": "date"}
_PRIZE = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": _STRING, "name": _STRING},
    "additionalProperties": False,
}
_WIN = {
    "win": {"type": "integer"},
    "contest": _STRING,
    "prize": _PRIZE,
    "day": _DAY,
    "won_at": _TIME,
    "player": _STRING,
    "request_id": _STRING,
    "voucher": {"type": ["string", "null"]},
}


def _envelope(kind: str, data: dict, required: list[str]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": kind,
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"const": kind},
            "timestamp": _TIME,
            "data": {
                "type": "object",
                "required": required,
                "properties": data,
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }


SCHEMAS: dict[str, dict] = {
    WIN_CREATED: _envelope(WIN_CREATED, _WIN, list(_WIN)),
    WIN_REVIEWED: _envelope(
        WIN_REVIEWED,
        {
            **_WIN,
            "status": {"enum": ["validated", "disqualified"]},
            "reason": _STRING,
            "reviewed_at": _TIME,
        },
        ["win", "contest", "prize", "status", "reason", "reviewed_at"],
    ),
    VOUCHER_REDEEMED: _envelope(
        VOUCHER_REDEEMED,
        {
            "voucher": _STRING,
            "win": {"type": "integer"},
            "contest": _STRING,
            "prize": _PRIZE,
            "redeemed_at": _TIME,
            "redeemed_via": {"enum": ["api", "staff"]},
        },
        ["voucher", "win", "contest", "prize", "redeemed_at", "redeemed_via"],
    ),
    PRIZE_STOCK_LOW: _envelope(
        PRIZE_STOCK_LOW,
        {
            "contest": _STRING,
            "prize": _PRIZE,
            "left": {"type": "integer", "minimum": 0},
            "of": {"type": ["integer", "null"], "minimum": 0},
            "what": {"enum": ["stock", "vouchers"]},
        },
        ["contest", "prize", "left", "what"],
    ),
    RECOVERY_DRAWN: _envelope(
        RECOVERY_DRAWN,
        {
            "contest": _STRING,
            "prize": _PRIZE,
            "drawn_at": _TIME,
            "winners": {"type": "integer", "minimum": 0},
            "wins": {"type": "array", "items": {"type": "integer"}},
        },
        ["contest", "prize", "drawn_at", "winners"],
    ),
}


def record_event(
    kind: str,
    contest: Contest | int,
    data: dict,
    *,
    client: ApiClient | int | None = None,
    now: dt.datetime | None = None,
):
    """Write one event to the outbox, in the caller's transaction; return its row.

    `data` is the event's "data" object, as its schema in SCHEMAS says. With `client`,
    only that client's endpoints get it; otherwise every client enabled for the contest.
    The worker delivers it once the transaction has committed (delivery.py).
    """
    from ..models import WebhookEvent

    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    now = now or timezone.now()
    body = json.dumps({"type": kind, "timestamp": iso(now), "data": data}, ensure_ascii=False)
    return WebhookEvent.objects.create(
        event_id=f"evt_{uuid.uuid4().hex}",
        kind=kind,
        contest_id=getattr(contest, "pk", contest),
        client_id=getattr(client, "pk", client),
        body=body,
        created_at=now,
    )


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def prize_data(prize) -> dict:
    return {"code": prize.code, "name": prize.name}


def win_data(win: Win, voucher: str | None) -> dict:
    return {
        "win": win.pk,
        # The claim read the prize with its contest: no query here.
        "contest": win.prize.contest.code,
        "prize": prize_data(win.prize),
        "day": win.day.isoformat(),
        "won_at": iso(win.won_at),
        "player": win.player,
        "request_id": win.request_id,
        "voucher": voucher,
    }


def record_win_created(win: Win, voucher: str | None) -> None:
    record_event(WIN_CREATED, win.contest_id, win_data(win, voucher), client=win.client_id)


def record_win_reviewed(review: WinReview) -> None:
    win = review.win
    voucher = Voucher.objects.filter(win=win).values_list("code", flat=True).first()
    data = {
        **win_data(win, voucher),
        "status": review.status,
        "reason": review.reason,
        "reviewed_at": iso(review.reviewed_at),
    }
    record_event(WIN_REVIEWED, win.contest_id, data, client=win.client_id, now=review.reviewed_at)


def record_voucher_redeemed(voucher: Voucher) -> None:
    win = voucher.win
    data = {
        "voucher": voucher.code,
        "win": win.pk,
        "contest": voucher.prize.contest.code,
        "prize": prize_data(voucher.prize),
        "redeemed_at": iso(voucher.redeemed_at),
        "redeemed_via": voucher.redeemed_via,
    }
    record_event(
        VOUCHER_REDEEMED, win.contest_id, data, client=win.client_id, now=voucher.redeemed_at
    )


def forget_players(wins) -> int:
    """Blank the player ids in the events of these wins (a queryset), as purge_player_data
    blanks them in the wins: personal data is kept no longer in the outbox. Return how many."""
    from ..models import WebhookEvent

    forgotten = 0
    contests = wins.values("contest_id").distinct()
    events = WebhookEvent.objects.filter(
        kind__in=(WIN_CREATED, WIN_REVIEWED), contest_id__in=contests
    ).only("pk", "body")
    win_ids = set(wins.values_list("pk", flat=True))
    for event in events.iterator(chunk_size=2000):
        body = json.loads(event.body)
        if body["data"].get("win") in win_ids and body["data"].get("player"):
            body["data"]["player"] = ""
            WebhookEvent.objects.filter(pk=event.pk).update(
                body=json.dumps(body, ensure_ascii=False)
            )
            forgotten += 1
    return forgotten
