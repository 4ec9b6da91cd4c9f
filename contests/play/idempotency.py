"""Idempotent plays: the same Idempotency-Key from the same caller gets the first answer again.

Within REPLAY_FOR (24 h) a retry is answered with the first answer's status and body, is
not counted and can never win again; the same key sent with another contest or player is
refused with 422. The first answer is stored in the same transaction as the play's claim,
so a win committed is never without its stored answer. Only plays that reach the draw are
stored: refusals before it (400, 401, 403, 404, 422) cost nothing and are answered afresh.
Plays without the header never come here.
"""

import datetime as dt
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from ..models import IdempotentAnswer
from .envelope import error

REPLAY_FOR = dt.timedelta(hours=24)
KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The answers of plays that reached the draw; a 429 (too soon) did not.
REMEMBERED = frozenset((200, 420))

Answer = tuple[HttpResponse, str]  # the response and the outcome the play log records


def invalid_key() -> HttpResponse:
    return error(
        400,
        "Invalid idempotency key",
        "The Idempotency-Key header must be 1 to 64 characters of A-Z a-z 0-9 . _ : -",
    )


def answer_once(
    key: str,
    client_id: int | None,
    code: str,
    player: str,
    now: dt.datetime,
    play: Callable[[], Answer],
) -> Answer:
    """Return the stored answer to (caller, key), or play and store the answer with the play."""
    caller = f"client:{client_id}" if client_id is not None else "anonymous"
    if (stored := _stored(caller, key, now)) is not None:
        return _replay(stored, code, player)
    try:
        with transaction.atomic():
            # A first answer older than REPLAY_FOR no longer binds the key.
            IdempotentAnswer.objects.filter(
                caller=caller, key=key, created_at__lte=now - REPLAY_FOR
            ).delete()
            response, outcome = play()
            if response.status_code not in REMEMBERED:
                return response, outcome  # a 429: no play was made, the key stays free
            IdempotentAnswer.objects.create(
                caller=caller,
                key=key,
                contest_code=code,
                player=player,
                status=response.status_code,
                body=response.content,
                created_at=now,
            )
    except IntegrityError:
        # A retry sent at the same moment stored its answer first; this play is undone.
        if (stored := _stored(caller, key, now)) is None:
            raise
        return _replay(stored, code, player)
    return response, outcome


def _stored(caller: str, key: str, now: dt.datetime) -> IdempotentAnswer | None:
    return IdempotentAnswer.objects.filter(
        caller=caller, key=key, created_at__gt=now - REPLAY_FOR
    ).first()


def _replay(stored: IdempotentAnswer, code: str, player: str) -> Answer:
    if (stored.contest_code, stored.player) != (code, player):
        return error(
            422,
            "Idempotency key reused",
            "This Idempotency-Key was sent with another contest or user; use a new key.",
        ), "key_reused"
    response = HttpResponse(
        bytes(stored.body), status=stored.status, content_type="application/json"
    )
    if stored.status == 420:
        response.reason_phrase = "Enhance Your Calm"
    return response, "replayed"
