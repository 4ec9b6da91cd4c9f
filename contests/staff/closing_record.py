"""The closing record ("verbale di chiusura") of a contest, per prize and in euros: what was
planned, won at once, disqualified, recovered by the recovery draw, and devolved to the
beneficiary. It is the closing report's second half (report_views.py shows both).

For every prize, always: planned = (won − disqualified) + recovered + devolved, once the
contest is closed. Before that, recovered and devolved are None (not known yet).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from ..models import Contest, Promoter, RecoveryDraw
from ..recovery.service import prize_counts, register_settles_at, standing_winners
from ..recovery_records import RecoveryReplacement


@dataclass
class PrizeLine:
    code: str
    name: str
    value: Decimal
    planned: int = 0
    won: int = 0
    disqualified: int = 0
    to_draw: int | None = None  # what the recovery draw had to give, counted at its freeze
    recovered: int | None = None
    reserves_used: int | None = None
    devolved: int | None = None

    @property
    def awarded(self) -> int:
        """Won at once and not disqualified."""
        return self.won - self.disqualified

    @property
    def unassigned(self) -> int:
        """Moments never claimed, and wins disqualified."""
        return self.planned - self.awarded

    def worth(self, count: int | None) -> Decimal | None:
        return None if count is None else self.value * count

    @property
    def values(self) -> dict[str, Decimal | None]:
        return {
            name: self.worth(getattr(self, name))
            for name in ("planned", "awarded", "disqualified", "recovered", "devolved")
        }


@dataclass
class ClosingRecord:
    contest: Contest
    promoter: Promoter
    prizes: list[PrizeLine]
    total: PrizeLine
    draw: RecoveryDraw | None
    state: str  # "running", "pending" (ended, draw not drawn) or "closed"
    recovery_winners: list[tuple[str, str, str]] = field(default_factory=list)
    replacements: list[RecoveryReplacement] = field(default_factory=list)
    holders: list = field(default_factory=list)  # the RecoveryPicks holding a prize now

    @property
    def pool(self) -> Decimal:
        """Σ planned moments × value: the prizes at stake."""
        return totals_in_euros(self)["planned"]

    @property
    def totals(self) -> dict[str, Decimal | None]:
        return totals_in_euros(self)


def closing_state(contest: Contest, draw: RecoveryDraw | None, now: dt.datetime) -> str:
    if now < register_settles_at(contest):
        return "running"
    if contest.recovery_draw and (draw is None or not draw.is_drawn):
        return "pending"
    return "closed"


def closing_record(contest: Contest, now: dt.datetime | None = None) -> ClosingRecord:
    now = now or timezone.now()
    draw = RecoveryDraw.objects.filter(contest=contest).first()
    state = closing_state(contest, draw, now)
    frozen = {line.prize_id: line.to_draw for line in draw.prizes.all()} if draw else {}
    standing = standing_winners(draw) if draw and draw.is_drawn else {}
    replacements = list(
        RecoveryReplacement.objects.filter(disqualified__draw=draw)
        .select_related("disqualified__prize", "replacement")
        .order_by("reviewed_at", "id")
        if draw
        else []
    )
    used = {}
    for replacement in replacements:
        if replacement.replacement is not None:
            prize_id = replacement.disqualified.prize_id
            used[prize_id] = used.get(prize_id, 0) + 1
    lines = []
    for prize, planned, won, disqualified in prize_counts(contest):
        line = PrizeLine(prize.code, prize.name, prize.value, planned, won, disqualified)
        line.to_draw = frozen.get(prize.pk)
        if state == "closed":
            line.recovered = len(standing.get(prize.pk, []))
            line.reserves_used = used.get(prize.pk, 0)
            line.devolved = line.unassigned - line.recovered
        lines.append(line)
    total = PrizeLine("", "", Decimal(0))
    for name in ("planned", "won", "disqualified", "to_draw", "recovered", "reserves_used"):
        numbers = [getattr(line, name) for line in lines]
        setattr(total, name, None if None in numbers and numbers else sum(n or 0 for n in numbers))
    total.devolved = None if state != "closed" else sum(line.devolved for line in lines)
    record = ClosingRecord(contest, Promoter.current(), lines, total, draw, state)
    record.replacements = replacements
    record.holders = [chosen for holders in standing.values() for chosen in holders]
    codes = {line.prize_id: line.prize.code for line in draw.prizes.all()} if draw else {}
    record.recovery_winners = [
        (codes[prize_id], chosen.entrant, chosen.get_role_display())
        for prize_id, holders in standing.items()
        for chosen in holders
    ]
    return record


def totals_in_euros(record: ClosingRecord) -> dict[str, Decimal | None]:
    """Each column's value summed over the prizes (prizes have different values)."""
    sums: dict[str, Decimal | None] = {}
    for name in ("planned", "awarded", "disqualified", "recovered", "devolved"):
        values = [line.values[name] for line in record.prizes]
        sums[name] = None if None in values else sum(values, Decimal(0))
    return sums


def prize_pool(contest: Contest) -> Decimal:
    """Σ planned moments × value, over the plans made so far (the contest page's figure)."""
    return sum(
        (Decimal(planned) * prize.value for prize, planned, _, _ in prize_counts(contest)),
        Decimal(0),
    )
