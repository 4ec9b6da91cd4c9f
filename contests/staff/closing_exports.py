"""The closing record's part of the report CSV, the list of the recovery draw's eligible
participants as CSV, and the record's digest. Formula-safe like every export (exports.py).
"""

import csv
from collections.abc import Iterator
from decimal import Decimal

from ..models import ApiClient, RecoveryDraw
from ..recovery import procedure
from .closing_record import ClosingRecord
from .exports import BYTE_ORDER_MARK, _Echo, _LineWriter, closing_report_lines, safe_row
from .reports import ClosingReport

PRIZE_HEADER = (
    "prize",
    "name",
    "value_eur",
    "planned",
    "won",
    "disqualified",
    "awarded",
    "to_recovery_draw",
    "recovered",
    "reserves_used",
    "devolved",
    "planned_eur",
    "awarded_eur",
    "recovered_eur",
    "devolved_eur",
)

COUNTS = ("planned", "won", "disqualified", "awarded", "to_draw", "recovered", "reserves_used")
COUNTS += ("devolved",)


def _number(value: int | Decimal | None) -> object:
    return "" if value is None else value


def closing_record_rows(writer: _LineWriter, record: ClosingRecord) -> Iterator[str]:
    """Key-value rows of the header, the prize table with its total, the draw, its winners
    and its replacements; sections separated by blank lines."""
    contest, promoter, draw = record.contest, record.promoter, record.draw
    header = [
        ("promoter", promoter.company),
        ("promoter_vat_number", promoter.vat_number),
        ("promoter_address", " ".join(promoter.address.split())),
        ("contest", contest.code),
        ("contest_name", contest.name),
        ("period", f"{contest.start.isoformat()}/{contest.end.isoformat()}"),
        ("beneficiary", contest.beneficiary_name),
        ("beneficiary_fiscal_code", contest.beneficiary_fiscal_code),
        ("closing_state", record.state),
        ("prize_pool_eur", record.pool),
    ]
    for row in header:
        yield writer.writerow(safe_row(row))
    yield writer.writerow([])
    yield writer.writerow(PRIZE_HEADER)
    for line in [*record.prizes, record.total]:
        values = line.values if line.code else record.totals
        yield writer.writerow(
            safe_row(
                [line.code or "total", line.name, "" if not line.code else line.value]
                + [_number(getattr(line, name)) for name in COUNTS]
                + [_number(values[name]) for name in ("planned", "awarded", "recovered")]
                + [_number(values["devolved"])]
            )
        )
    yield writer.writerow([])
    if draw is None:
        yield writer.writerow(["recovery_draw", "none" if not contest.recovery_draw else ""])
        return
    for row in [
        ("recovery_draw", draw.state),
        ("recovery_entries", draw.entries),
        ("eligible_participants", draw.participants_count),
        ("excluded_participants", draw.excluded_count),
        ("participants_sha256", draw.participants_sha256),
        ("seed_sha256", draw.seed_sha256),
        ("seed", draw.revealed_seed() or ""),
    ]:
        yield writer.writerow(safe_row(row))
    yield writer.writerow([])
    yield writer.writerow(["recovery_prize", "participant", "role"])
    for prize, entrant, role in record.recovery_winners:
        yield writer.writerow(safe_row([prize, entrant, role]))
    if record.replacements:
        yield writer.writerow([])
        yield writer.writerow(["disqualified", "replaced_by", "reason", "reviewed_by", "at"])
        for replacement in record.replacements:
            taker = replacement.replacement.entrant if replacement.replacement else ""
            yield writer.writerow(
                safe_row(
                    [
                        replacement.disqualified.entrant,
                        taker,
                        replacement.reason,
                        replacement.reviewed_by_name,
                        replacement.reviewed_at.isoformat(),
                    ]
                )
            )


def closing_record_lines(
    report: ClosingReport, record: ClosingRecord, dialect: type[csv.Dialect] = csv.excel
) -> Iterator[str]:
    """The report CSV (days, winners), then a blank line and the closing record's rows."""
    yield from closing_report_lines(report, dialect)
    writer = csv.writer(_Echo(), dialect)
    yield writer.writerow([])
    yield from closing_record_rows(writer, record)


PARTICIPANT_HEADER = ("participant", "client", "client_name", "player", "entries", "sha256")
PARTICIPANT_HEADER += ("excluded_because",)


def participant_lines(draw: RecoveryDraw, dialect: type[csv.Dialect]) -> Iterator[str]:
    """The eligible list as frozen (client id and name, player, entries, pseudonym), in its
    canonical order; then the registered participants left out, each with its reason."""
    writer = csv.writer(_Echo(), dialect)
    names = dict(ApiClient.objects.values_list("pk", "name"))
    yield BYTE_ORDER_MARK
    yield writer.writerow(PARTICIPANT_HEADER)
    listed = [
        (e.entrant, e.entries, "") for e in procedure.parse_canonical_text(draw.participants_text)
    ]
    excluded = draw.exclusions.order_by("entrant").values_list("entrant", "reason")
    for entrant, entries, reason in [*listed, *((who, 0, why) for who, why in excluded)]:
        client, _, player = entrant.partition(":")
        name = names.get(int(client), "") if client else ""
        row = [entrant, client, name, player, entries, procedure.pseudonym(entrant), reason]
        yield writer.writerow(safe_row(row))
