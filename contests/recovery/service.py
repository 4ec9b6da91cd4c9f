"""Freezing and drawing a contest's recovery draw, replacing a disqualified recovery winner,
and checking a drawn record again (docs/auditing.md, "The recovery draw").

Every refusal is logged as an audit event with who tried; successes are logged too.
"""

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import participants
from ..evidence import timestamps
from ..models import (
    AuditEvent,
    AuditEventKind,
    Contest,
    DayPlan,
    Participant,
    RecoveryDraw,
    RecoveryPick,
    ReviewStatus,
    Win,
)
from ..moments.planning import day_bounds
from ..recovery_records import (
    PickRole,
    RecoveryEntries,
    RecoveryExclusion,
    RecoveryPrize,
    RecoveryReplacement,
    RecoveryState,
)
from ..webhooks import events
from . import procedure

SEED_BYTES = 32


class RecoveryRefused(Exception):
    """What was asked cannot be done; the message says why, for people."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or a command run by an operating-system user."""

    name: str
    user: object = None
    address: str | None = None

    @classmethod
    def of_request(cls, request) -> "Actor":
        return cls(request.user.get_username(), request.user, request.META.get("REMOTE_ADDR"))


def register_settles_at(contest: Contest) -> dt.datetime:
    """When the register is complete: the end of the last local day, plus two batch
    intervals for the other processes' last plays to be written."""
    end = day_bounds(contest.end, contest.zone)[1]
    return end + dt.timedelta(seconds=2 * settings.BUFFER_FLUSH_INTERVAL)


def closing_is_pending(contest: Contest) -> bool:
    """A contest whose recovery draw is on and not drawn yet: its players and register are
    still needed, so purge_player_data leaves it alone (running contests included)."""
    if not contest.recovery_draw:
        return False
    return not RecoveryDraw.objects.filter(contest=contest, state=RecoveryState.DRAWN).exists()


def log(contest: Contest, kind: str, actor: Actor, detail: str) -> None:
    AuditEvent.objects.create(
        at=timezone.now(),
        kind=kind,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        username=actor.name[:150],
        address=actor.address,
        contest=contest,
        detail=detail,
    )


def refuse(contest: Contest, action: str, actor: Actor, message: str) -> RecoveryRefused:
    """Log the refused attempt (outside any transaction that rolls back) and return it."""
    log(contest, AuditEventKind.RECOVERY_REFUSED, actor, f"{action}: {message}")
    return RecoveryRefused(message)


def _registered(contest: Contest) -> dict[tuple[int | None, str], int]:
    rows = (
        Participant.objects.filter(contest=contest, day__range=(contest.start, contest.end))
        .values("client_id", "player")
        .annotate(plays=Sum("plays"))
    )
    return {(row["client_id"], row["player"]): row["plays"] for row in rows}


def _first_wins(contest: Contest) -> dict[tuple[int | None, str], Win]:
    first = {}
    wins = Win.objects.filter(contest=contest).exclude(player="").select_related("prize")
    for win in wins.order_by("-won_at", "-id"):
        first[win.client_id, win.player] = win
    return first


def prize_counts(contest: Contest) -> list[tuple[object, int, int, int]]:
    """Per prize, by code: (prize, moments planned, wins, wins disqualified).

    A prize with a stock (docs/design.md, "Draw rules") never offers more than its stock:
    a moment that expired unclaimed went back to the stock and was planned again on a
    later day, so its plans may hold more moments than there were prizes.
    """
    planned = dict(
        DayPlan.objects.filter(prize__contest=contest)
        .values("prize")
        .annotate(n=Sum("moment_count"))
        .values_list("prize", "n")
    )
    wins = {
        row["prize"]: row
        for row in Win.objects.filter(contest=contest)
        .values("prize")
        .annotate(
            won=Count("id"),
            disqualified=Count("id", filter=Q(review_status=ReviewStatus.DISQUALIFIED)),
        )
    }
    return [
        (
            prize,
            _offered(prize, planned.get(prize.pk, 0)),
            wins.get(prize.pk, {}).get("won", 0),
            wins.get(prize.pk, {}).get("disqualified", 0),
        )
        for prize in contest.prizes.order_by("code")
    ]


def _offered(prize, planned: int) -> int:
    return planned if prize.stock is None else min(prize.stock, planned)


def freeze(contest: Contest, actor: Actor, now: dt.datetime | None = None) -> RecoveryDraw:
    """Fix the eligible list and commit to a fresh seed; refused twice or too early."""
    now = now or timezone.now()
    if not contest.recovery_draw:
        raise refuse(contest, "freeze", actor, _("This contest has no recovery draw."))
    if now < register_settles_at(contest):
        raise refuse(
            contest,
            "freeze",
            actor,
            _("The contest's last day (%(day)s) has not ended yet: the draw comes after it.")
            % {"day": contest.end.isoformat()},
        )
    if RecoveryDraw.objects.filter(contest=contest).exists():
        raise refuse(contest, "freeze", actor, _("The recovery draw is already frozen."))
    participants.write_register()  # this process's plays, before the register is read
    try:
        with transaction.atomic():
            draw = _freeze(contest, actor, now)
    except IntegrityError:  # frozen meanwhile by someone else
        raise refuse(contest, "freeze", actor, _("The recovery draw is already frozen.")) from None
    log(contest, AuditEventKind.RECOVERY_FROZEN, actor, draw.participants_sha256)
    return draw


def _freeze(contest: Contest, actor: Actor, now: dt.datetime) -> RecoveryDraw:
    winners = _first_wins(contest)
    eligible, excluded = [], []
    for (client_id, player), plays in sorted(_registered(contest).items(), key=str):
        entrant = procedure.entrant_id(client_id, player)
        win = winners.get((client_id, player))
        if win is not None:
            reason = _("won %(prize)s on %(day)s") % {
                "prize": win.prize.code,
                "day": win.day.isoformat(),
            }
            excluded.append(RecoveryExclusion(entrant=entrant, reason=reason))
            continue
        entries = 1 if contest.recovery_entries == RecoveryEntries.PER_PLAYER else plays
        eligible.append(procedure.Entrant(entrant, entries))
    text = procedure.canonical_text(eligible)
    seed = secrets.token_bytes(SEED_BYTES)
    draw = RecoveryDraw.objects.create(
        contest=contest,
        state=RecoveryState.FROZEN,
        entries=contest.recovery_entries,
        reserves=contest.recovery_reserves,
        participants_text=text,
        participants_count=len(eligible),
        excluded_count=len(excluded),
        participants_sha256=procedure.participants_digest(text),
        seed_sha256=procedure.seed_commitment(seed),
        seed=seed.hex(),
        frozen_at=now,
        frozen_by=actor.name[:150],
    )
    # Both digests are published now: a trusted timestamp (when a TSA is configured)
    # proves that the list and the seed were fixed before the draw.
    for digest in (draw.participants_sha256, draw.seed_sha256):
        timestamps.request_timestamp(timestamps.RECOVERY_DRAW, contest.code, digest, now)
    for exclusion in excluded:
        exclusion.draw = draw
    RecoveryExclusion.objects.bulk_create(excluded, batch_size=2000)
    RecoveryPrize.objects.bulk_create(
        RecoveryPrize(
            draw=draw,
            prize=prize,
            position=position,
            unclaimed=planned - won,
            disqualified=disqualified,
            to_draw=planned - won + disqualified,
        )
        for position, (prize, planned, won, disqualified) in enumerate(prize_counts(contest))
    )
    return draw


def draw(contest: Contest, actor: Actor, now: dt.datetime | None = None) -> RecoveryDraw:
    """Reveal the seed and pick the winners and reserves; refused before a freeze or twice."""
    now = now or timezone.now()
    with transaction.atomic():
        record = RecoveryDraw.objects.select_for_update().filter(contest=contest).first()
        message = None
        if record is None:
            message = _("The recovery draw has not been frozen yet: freeze it first.")
        elif record.is_drawn:
            message = _("The recovery draw has already been drawn.")
        else:
            _pick(record, now, actor)
    if message:
        raise refuse(contest, "draw", actor, message)
    log(contest, AuditEventKind.RECOVERY_DRAWN, actor, record.seed)
    return record


def _draws_of(record: RecoveryDraw) -> list[procedure.PrizeDraw]:
    lines = record.prizes.select_related("prize")
    return [procedure.PrizeDraw(line.prize.code, line.to_draw) for line in lines]


def _pick(record: RecoveryDraw, now: dt.datetime, actor: Actor) -> None:
    prizes = {p.prize.code: p.prize for p in record.prizes.select_related("prize")}
    results = procedure.select(
        bytes.fromhex(record.seed), record.participants_text, _draws_of(record), record.reserves
    )
    RecoveryPick.objects.bulk_create(
        RecoveryPick(draw=record, prize=prizes[result.prize], role=role, rank=rank, entrant=who)
        for result in results
        for role, people in ((PickRole.WINNER, result.winners), (PickRole.RESERVE, result.reserves))
        for rank, who in enumerate(people, start=1)
    )
    record.state, record.drawn_at, record.drawn_by = RecoveryState.DRAWN, now, actor.name[:150]
    record.save(update_fields=["state", "drawn_at", "drawn_by"])
    # The brands learn of it through the outbox, in the draw's own transaction.
    for result in results:
        prize = prizes[result.prize]
        data = {
            "contest": record.contest.code,
            "prize": {"code": prize.code, "name": prize.name},
            "drawn_at": events.iso(now),
            "winners": len(result.winners),
        }
        events.record_event(events.RECOVERY_DRAWN, record.contest_id, data, now=now)


def standing_winners(record: RecoveryDraw) -> dict[int, list[RecoveryPick]]:
    """Per prize id, who holds its recovered prizes now: winners and the reserves who
    replaced one, less those disqualified."""
    replaced = set(
        RecoveryReplacement.objects.filter(disqualified__draw=record).values_list(
            "disqualified_id", flat=True
        )
    )
    promoted = set(
        RecoveryReplacement.objects.filter(replacement__draw=record).values_list(
            "replacement_id", flat=True
        )
    )
    standing = defaultdict(list)
    for chosen in record.picks.select_related("prize").order_by("prize__code", "-role", "rank"):
        holds = chosen.role == PickRole.WINNER or chosen.pk in promoted
        if holds and chosen.pk not in replaced:
            standing[chosen.prize_id].append(chosen)
    return standing


def disqualify(
    chosen: RecoveryPick, reason: str, actor: Actor, now: dt.datetime | None = None
) -> RecoveryReplacement:
    """Disqualify a recovery winner; the prize's next unused reserve takes the prize."""
    now = now or timezone.now()
    contest = chosen.draw.contest
    reason = reason.strip()
    if not reason:
        raise refuse(contest, "disqualify", actor, _("Say why: the reason is part of the record."))
    with transaction.atomic():
        RecoveryDraw.objects.select_for_update().get(pk=chosen.draw_id)
        holders = standing_winners(chosen.draw).get(chosen.prize_id, [])
        if chosen not in holders:
            message = _("%(who)s does not hold a recovered prize.") % {"who": chosen.entrant}
        else:
            message = None
            used = set(
                RecoveryReplacement.objects.filter(disqualified__draw=chosen.draw)
                .exclude(replacement=None)
                .values_list("replacement_id", flat=True)
            )
            reserve = (
                RecoveryPick.objects.filter(
                    draw=chosen.draw, prize=chosen.prize, role=PickRole.RESERVE
                )
                .exclude(pk__in=used)
                .order_by("rank")
                .first()
            )
            replacement = RecoveryReplacement.objects.create(
                disqualified=chosen,
                replacement=reserve,
                reason=reason,
                reviewed_by=actor.user if getattr(actor.user, "pk", None) else None,
                reviewed_by_name=actor.name[:150],
                reviewed_at=now,
            )
    if message:
        raise refuse(contest, "disqualify", actor, message)
    detail = f"{chosen.entrant} -> {reserve.entrant if reserve else '-'}: {reason}"
    log(contest, AuditEventKind.RECOVERY_REPLACED, actor, detail)
    return replacement


def record_json(record: RecoveryDraw) -> dict:
    """The record as `recovery_draw CODE --show --json` prints it (docs/auditing.md)."""
    picks = defaultdict(lambda: {PickRole.WINNER: [], PickRole.RESERVE: []})
    for chosen in record.picks.order_by("role", "rank"):
        picks[chosen.prize_id][chosen.role].append(chosen.entrant)
    return {
        "contest": record.contest.code,
        "state": record.state,
        "participants_sha256": record.participants_sha256,
        "seed_sha256": record.seed_sha256,
        "seed": record.revealed_seed(),
        "prizes": [
            {
                "prize": line.prize.code,
                "to_draw": line.to_draw,
                "winners": picks[line.prize_id][PickRole.WINNER],
                "reserves": picks[line.prize_id][PickRole.RESERVE],
            }
            for line in record.prizes.select_related("prize")
        ],
    }


def recompute(record: RecoveryDraw) -> list[str]:
    """What in a stored record the published procedure does not reproduce (empty: all of
    it does). For verify_contest: digests, counts and, once drawn, every pick in order."""
    mismatches = []
    text = record.participants_text
    if procedure.participants_digest(text) != record.participants_sha256:
        mismatches.append("participants_sha256 does not match the stored list")
    if len(procedure.parse_canonical_text(text)) != record.participants_count:
        mismatches.append("participants_count does not match the stored list")
    if procedure.canonical_text(procedure.parse_canonical_text(text)) != text:
        mismatches.append("the stored list is not in canonical form")
    if not record.is_drawn:
        return mismatches
    seed = bytes.fromhex(record.seed)
    if procedure.seed_commitment(seed) != record.seed_sha256:
        mismatches.append("seed_sha256 does not match the seed")
    expected = procedure.select(seed, text, _draws_of(record), record.reserves)
    stored = {line["prize"]: line for line in record_json(record)["prizes"]}
    for result in expected:
        line = stored.get(result.prize, {})
        if line.get("winners") != result.winners:
            mismatches.append(f"winners of {result.prize} differ from the procedure's")
        if line.get("reserves") != result.reserves:
            mismatches.append(f"reserves of {result.prize} differ from the procedure's")
    return mismatches
