"""Auditing sealed plans: recompute their commitments, and publish them for anyone to check.

A finished day's published document (its moments and salts revealed) is built once, the
first time it is asked for, stored in parts (PlanDocument, PlanDocumentPart) and from
then on streamed as stored: a day of a million moments is tens of megabytes that no
request rebuilds or holds in memory. Before the day is over the document is small (no
moments) and is described afresh each time.
"""

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from ..evidence import timestamps
from ..models import Contest, DayPlan, PlanDocument, PlanDocumentPart
from .rules import expire_after_of, rule_lines
from .sealing import Seal, moment_line

# Moments read from the database per query while recomputing a seal.
READ_BATCH = 10_000
# Characters per stored part of a published document (ASCII: as many bytes).
DOCUMENT_PART = 256 * 1024
# Parts fetched per round trip while streaming one.
PARTS_PER_FETCH = 4


@dataclass(frozen=True)
class Mismatch:
    plan: DayPlan
    problem: str


def recompute_commitment(plan: DayPlan) -> str:
    """Hash the plan's stored moments (and its rules, a v2 plan) as they are now."""
    seal = Seal(plan.prize.contest.code, plan.prize.code, plan.day, plan.salt, plan.rules)
    moments = plan.moments.order_by("at", "id").values_list("at", flat=True)
    seal.add(moments.iterator(chunk_size=READ_BATCH))
    return seal.hexdigest()


def check_plan(plan: DayPlan) -> Mismatch | None:
    """Return what is wrong with a stored plan, or None if it matches its seal."""
    if not plan.commitment:
        return Mismatch(plan, "not sealed (made before plans were sealed)")
    count = plan.moments.count()
    if count != plan.moment_count:
        return Mismatch(plan, f"{count} moments stored, {plan.moment_count} planned")
    if recompute_commitment(plan) != plan.commitment:
        if plan.rules:
            return Mismatch(plan, "the stored moments or rules do not match the commitment")
        return Mismatch(plan, "the stored moments do not match the commitment")
    # What the claim reads must be what was sealed: an expiry changed afterwards would
    # award (or refuse) moments against the plan's own rules.
    if plan.expire_after != expire_after_of(rule_lines(plan)):
        return Mismatch(plan, "the expiry the claim uses differs from the sealed rule")
    if (problem := timestamps.plan_timestamp_problem(plan)) is not None:
        return Mismatch(plan, f"timestamp: {problem}")
    return None


def _plans(contest: Contest, day: dt.date) -> list[DayPlan]:
    return list(
        DayPlan.objects.filter(prize__contest=contest, day=day)
        .select_related("prize")
        .order_by("prize__code")
    )


def _entry(plan: DayPlan, stamps: dict) -> dict:
    # The commitment's RFC 3161 token (base64 DER), None until the TSA has stamped it.
    stamp = next(iter(stamps.get(plan.pk, [])), None)
    entry = {
        "prize": plan.prize.code,
        "moment_count": plan.moment_count,
        "commitment": plan.commitment,
        "timestamp_token": timestamps.encoded(stamp.token) if stamp else None,
        "timestamped_at": stamp.stamped_at.isoformat() if stamp else None,
        "made_at": plan.made_at.isoformat(),
        "window_start": plan.window_start.isoformat(),
        "window_end": plan.window_end.isoformat(),
    }
    if plan.rules:
        # A v2 plan: its rule lines are part of the sealed text, and public from the start.
        entry["version"] = 2
        entry["rules"] = plan.rules.splitlines()
    return entry


def _moment_lines(plan: DayPlan) -> Iterator[str]:
    moments = plan.moments.order_by("at", "id").values_list("at", flat=True)
    return (moment_line(at) for at in moments.iterator(chunk_size=READ_BATCH))


def _header(contest: Contest, day: dt.date, revealed: bool) -> dict:
    return {
        "contest": contest.code,
        "day": day.isoformat(),
        "time_zone": contest.time_zone,
        "revealed": revealed,
    }


def public_plans(contest: Contest, day: dt.date, now: dt.datetime) -> dict | None:
    """Describe the contest's plans of `day` for anyone: moments and salt only once it is over."""
    plans = _plans(contest, day)
    if not plans:
        return None
    revealed = all(now >= plan.window_end for plan in plans)
    stamps = timestamps.plan_stamps(plans)
    described = []
    for plan in plans:
        entry = _entry(plan, stamps)
        if revealed:
            entry["salt"] = plan.salt
            entry["moments"] = list(_moment_lines(plan))
        described.append(entry)
    return {**_header(contest, day, revealed), "plans": described}


def _revealed_text(contest: Contest, day: dt.date, plans: list[DayPlan]) -> Iterator[str]:
    """{"data": public_plans(…)} of a finished day as JSON text, piece by piece: the same
    text JsonResponse would write for it, without ever holding the moments in memory."""
    header = json.dumps(_header(contest, day, revealed=True))
    yield '{"data": ' + header[:-1] + ', "plans": ['
    stamps = timestamps.plan_stamps(plans)
    for number, plan in enumerate(plans):
        entry = json.dumps({**_entry(plan, stamps), "salt": plan.salt})
        yield (", " if number else "") + entry[:-1] + ', "moments": ['
        first = True
        for line in _moment_lines(plan):
            yield ('"' if first else ', "') + line + '"'
            first = False
        yield "]}"
    yield "]}}"


def _parts(pieces: Iterator[str]) -> Iterator[str]:
    """Join small pieces of text into parts of about DOCUMENT_PART characters."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= DOCUMENT_PART:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def published_document(contest: Contest, day: dt.date, now: dt.datetime) -> PlanDocument | None:
    """The stored document of a finished day's plans, built now if this is the first ask.

    None when the day has no plans, or is not over yet, or a plan's timestamp is still on
    its way (then public_plans describes it, and the document is stored once it is in).
    """
    stored = PlanDocument.objects.filter(contest=contest, day=day).first()
    if stored is not None:
        return stored
    plans = _plans(contest, day)
    if not plans or not all(now >= plan.window_end for plan in plans):
        return None
    if timestamps.awaiting_stamp(plans):
        return None
    try:
        with transaction.atomic():
            document = PlanDocument.objects.create(contest=contest, day=day, built_at=now)
            for number, text in enumerate(_parts(_revealed_text(contest, day, plans))):
                PlanDocumentPart.objects.create(document=document, number=number, text=text)
            return document
    except IntegrityError:
        # Built by another request meanwhile; its transaction has committed.
        return PlanDocument.objects.get(contest=contest, day=day)


def document_text(document: PlanDocument) -> Iterator[str]:
    """The stored document, part by part, as it was built."""
    parts = PlanDocumentPart.objects.filter(document=document).order_by("number")
    yield from parts.values_list("text", flat=True).iterator(chunk_size=PARTS_PER_FETCH)
