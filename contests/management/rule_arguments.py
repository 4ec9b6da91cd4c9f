"""create_contest's flags for the draw rules (docs/staff.md, "Draw rules"): parsed here so
the command itself only names them."""

import argparse

from django.utils.translation import gettext as _

from contests.management.arguments import positive_int
from contests.moments.hours import HoursError, parse_hours

CONTEST_RULES = ("opening_hours", "wmax_total", "play_interval")
PRIZE_RULES = ("stock", "expire_after_minutes")
# --unclaimed carry: no expiry (stored as None); --unclaimed expire:MINUTES.
CARRY = "carry"


def opening_hours(value: str) -> str:
    try:
        hours = parse_hours(value)
    except HoursError as exc:
        raise argparse.ArgumentTypeError(
            _("%(value)s are not opening hours: %(problem)s")
            % {"value": repr(value), "problem": exc}
        ) from None
    return "" if hours is None else hours.text()


def unclaimed(value: str) -> str | int:
    if value == CARRY:
        return CARRY
    kind, _sep, minutes = value.partition(":")
    if kind != "expire" or not minutes.isdigit() or int(minutes) < 1:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not carry or expire:MINUTES") % {"value": repr(value)}
        )
    return int(minutes)


def add_rule_arguments(parser) -> None:
    parser.add_argument(
        "--hours",
        dest="opening_hours",
        type=opening_hours,
        metavar="HOURS",
        help=_('opening hours, e.g. "mon-fri 08:00-22:00; sat 09:00-13:00"; "" for all day'),
    )
    parser.add_argument(
        "--stock", type=positive_int, help=_("the prize's moments over the whole contest")
    )
    parser.add_argument("--no-stock", action="store_true", help=_("remove the prize's stock"))
    parser.add_argument(
        "--unclaimed",
        type=unclaimed,
        metavar="carry|expire:MINUTES",
        help=_("what happens to a moment nobody claims (default carry)"),
    )
    cap = parser.add_mutually_exclusive_group()
    cap.add_argument(
        "--wmax-total", type=positive_int, help=_("most wins per player over the contest")
    )
    cap.add_argument("--no-wmax-total", action="store_true", help=_("remove that cap"))
    interval = parser.add_mutually_exclusive_group()
    interval.add_argument(
        "--play-interval",
        type=positive_int,
        metavar="SECONDS",
        help=_("least time between two plays of a player (plays need ?user=)"),
    )
    interval.add_argument(
        "--no-play-interval", action="store_true", help=_("remove the play interval")
    )


def apply_contest_rules(contest, options: dict) -> None:
    for field in CONTEST_RULES:
        if options[field] is not None:
            setattr(contest, field, options[field])
    if options["no_wmax_total"]:
        contest.wmax_total = None
    if options["no_play_interval"]:
        contest.play_interval = None


def gives_prize_rules(options: dict) -> bool:
    return options["stock"] is not None or options["no_stock"] or options["unclaimed"] is not None


def apply_prize_rules(prize, options: dict) -> None:
    if options["stock"] is not None:
        prize.stock = options["stock"]
    if options["no_stock"]:
        prize.stock = None
    if options["unclaimed"] is not None:
        choice = options["unclaimed"]
        prize.expire_after_minutes = None if choice == CARRY else choice


def rules_summary(contest) -> str:
    """The rules of a contest and its prizes, for the command's last line; "" for none."""
    parts = []
    if contest.opening_hours:
        parts.append(_("open %(hours)s") % {"hours": contest.opening_hours})
    if contest.wmax_total:
        parts.append(_("at most %(wins)s wins per player overall") % {"wins": contest.wmax_total})
    if contest.play_interval:
        parts.append(_("%(seconds)s seconds between plays") % {"seconds": contest.play_interval})
    for prize in contest.prizes.all():
        if prize.stock:
            parts.append(
                _("%(code)s: stock %(stock)s") % {"code": prize.code, "stock": prize.stock}
            )
        if prize.expire_after_minutes:
            parts.append(
                _("%(code)s: unclaimed moments expire after %(minutes)s minutes")
                % {"code": prize.code, "minutes": prize.expire_after_minutes}
            )
    return "".join(f"; {part}" for part in parts)
