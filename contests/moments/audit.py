"""Auditing sealed plans: recompute their commitments, and publish them for anyone to check."""

import datetime as dt
from dataclasses import dataclass

from ..models import Contest, DayPlan
from .sealing import Seal, moment_line

# Moments read from the database per query while recomputing a seal.
READ_BATCH = 10_000


@dataclass(frozen=True)
class Mismatch:
    plan: DayPlan
    problem: str


def recompute_commitment(plan: DayPlan) -> str:
    """Hash the plan's stored moments as they are now."""
    seal = Seal(plan.prize.contest.code, plan.prize.code, plan.day, plan.salt)
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
        return Mismatch(plan, "the stored moments do not match the commitment")
    return None


def public_plans(contest: Contest, day: dt.date, now: dt.datetime) -> dict | None:
    """Describe the contest's plans of `day` for anyone: moments and salt only once it is over."""
    plans = list(
        DayPlan.objects.filter(prize__contest=contest, day=day)
        .select_related("prize")
        .order_by("prize__code")
    )
    if not plans:
        return None
    revealed = all(now >= plan.window_end for plan in plans)
    described = []
    for plan in plans:
        entry = {
            "prize": plan.prize.code,
            "moment_count": plan.moment_count,
            "commitment": plan.commitment,
            "made_at": plan.made_at.isoformat(),
            "window_start": plan.window_start.isoformat(),
            "window_end": plan.window_end.isoformat(),
        }
        if revealed:
            entry["salt"] = plan.salt
            moments = plan.moments.order_by("at", "id").values_list("at", flat=True)
            entry["moments"] = [moment_line(at) for at in moments.iterator(chunk_size=READ_BATCH)]
        described.append(entry)
    return {
        "contest": contest.code,
        "day": day.isoformat(),
        "time_zone": contest.time_zone,
        "revealed": revealed,
        "plans": described,
    }
