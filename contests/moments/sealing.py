"""Sealed plans: a SHA-256 commitment to a day's moments, published before the day begins.

The commitment is the SHA-256 (lowercase hex) of this UTF-8 text, every line ending in
"\\n" (docs/auditing.md shows a worked example):

    contest-portal plan v1
    contest: <contest code>
    prize: <prize code>
    day: <local date, YYYY-MM-DD>
    salt: <64 lowercase hex digits>
    <moment 1 in UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
    <moment 2 …>, in ascending order

The random salt keeps the moments from being guessed by trying candidates against the
published hash; it is revealed with the moments once the day is over.

A plan made under any of the operators' draw rules (opening hours, stock, expiring
moments, contest-wide cap, play interval: contests/moments/rules.py) is sealed with the
v2 text instead: first line "contest-portal plan v2", then the same four lines, then the
plan's rule lines exactly as stored in DayPlan.rules (each "name: value\n"), then the
moments. A plan whose `rules` is empty is v1, byte for byte as before, so plans made
before v2 still verify: the verifier picks the version by whether the plan has rules.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator

VERSION_LINE = "contest-portal plan v1"
VERSION_2_LINE = "contest-portal plan v2"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_TWO_DIGITS = [f"{number:02d}" for number in range(100)]


def new_salt() -> str:
    return secrets.token_hex(32)


def moment_line(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def moment_lines(window_start: dt.datetime, offsets: Iterable[int]) -> Iterator[str]:
    """Yield moment_line() of each instant `offset` microseconds after `window_start`.

    The same text, built from integers: a million moments need neither a million
    datetime objects nor a million strftime calls, the bulk of the cost of formatting.
    """
    start = (window_start - _EPOCH) // _MICROSECOND
    date_prefix, date_number = "", None
    for offset in offsets:
        seconds, micro = divmod(start + offset, 1_000_000)
        days, second = divmod(seconds, 86_400)
        if days != date_number:
            date_number = days
            date_prefix = (_EPOCH + dt.timedelta(days=days)).strftime("%Y-%m-%dT")
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        yield (
            f"{date_prefix}{_TWO_DIGITS[hour]}:{_TWO_DIGITS[minute]}:{_TWO_DIGITS[second]}"
            f".{micro:06d}Z"
        )


def header_text(
    contest_code: str, prize_code: str, day: dt.date, salt: str, rules: str = ""
) -> str:
    """The text before the moments: v1 without rules, v2 with them (lines ending in \\n)."""
    if rules and not rules.endswith("\n"):
        raise ValueError("every rule line ends in a newline")
    return (
        f"{VERSION_2_LINE if rules else VERSION_LINE}\ncontest: {contest_code}\n"
        f"prize: {prize_code}\nday: {day.isoformat()}\nsalt: {salt}\n{rules}"
    )


class Seal:
    """Hash a plan as its moments go by, so huge plans never need to sit in memory."""

    def __init__(
        self, contest_code: str, prize_code: str, day: dt.date, salt: str, rules: str = ""
    ):
        header = header_text(contest_code, prize_code, day, salt, rules)
        self._hash = hashlib.sha256(header.encode())

    def add(self, moments: Iterable[dt.datetime]) -> None:
        self._hash.update("".join(moment_line(m) + "\n" for m in moments).encode())

    def add_lines(self, lines: Iterable[str]) -> None:
        """Add moments already written as moment_line() text."""
        self._hash.update("".join(line + "\n" for line in lines).encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def commitment(
    contest_code: str,
    prize_code: str,
    day: dt.date,
    salt: str,
    moments: Iterable[dt.datetime],
    rules: str = "",
) -> str:
    """Return the commitment of a plan; `moments` must be in ascending order."""
    seal = Seal(contest_code, prize_code, day, salt, rules)
    seal.add(moments)
    return seal.hexdigest()
