"""The recovery draw's selection, from (seed, canonical list) alone: anyone can rerun it.

Plain Python, no Django: docs/auditing.md ("The recovery draw") describes the same steps
in words, with a worked example that tests/test_recovery_procedure.py recomputes.

The canonical list: one line per eligible participant, `CLIENT:PLAYER<TAB>ENTRIES<LF>`,
where CLIENT is the API client's id in decimal (empty for a play without a client),
PLAYER the id as the client sent it, ENTRIES a decimal count (1 per player, or their
plays when the contest counts one entry per play). Lines sorted by Unicode code point
(the same order as their UTF-8 bytes), every line ending in LF; no header. Player ids
hold no control characters (the API refuses them), so TAB and LF cannot occur in them.
Its digest is SHA-256 of its UTF-8 bytes, in lowercase hex.

The seed: 32 bytes from the operating system's CSPRNG; its commitment is SHA-256 of
those bytes, published at the freeze; the seed (64 lowercase hex digits) at the draw.

The selection: random number k (k = 0, 1, 2, …) is HMAC-SHA256 with the seed as key and
the ASCII text `recovery-draw:k` as message, read as a 256-bit big-endian integer R.
To pick one person, with T the total entries of the people not picked yet: let
LIMIT = 2^256 − (2^256 mod T); take the next R, and while R ≥ LIMIT take the next one
(rejection, so that every entry is exactly equally likely); then I = R mod T, and the
person picked is the one whose entries cover position I when the remaining people's
entries are laid end to end in list order. They leave the list. Prizes go in order of
their code; for each prize with something to draw, its winners are picked, then its
reserves; one sequence of numbers runs through the whole draw.
"""

import hashlib
import hmac
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate

SPACE = 1 << 256


@dataclass(frozen=True)
class Entrant:
    entrant: str  # "CLIENT:PLAYER"
    entries: int


@dataclass(frozen=True)
class PrizeDraw:
    prize: str
    to_draw: int


@dataclass
class PrizePicks:
    prize: str
    to_draw: int
    winners: list[str]
    reserves: list[str]


def entrant_id(client_id: int | None, player: str) -> str:
    return f"{'' if client_id is None else client_id}:{player}"


def canonical_text(entrants: Iterable[Entrant]) -> str:
    return "".join(sorted(f"{e.entrant}\t{e.entries}\n" for e in entrants))


def parse_canonical_text(text: str) -> list[Entrant]:
    entrants = []
    for line in text.splitlines():
        entrant, _, entries = line.rpartition("\t")
        entrants.append(Entrant(entrant, int(entries)))
    return entrants


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def participants_digest(text: str) -> str:
    """The SHA-256 published at the freeze for the eligible list."""
    return sha256_hex(text.encode("utf-8"))


def seed_commitment(seed: bytes) -> str:
    """The SHA-256 published at the freeze for the seed revealed at the draw."""
    return sha256_hex(seed)


def pseudonym(entrant: str) -> str:
    """What the public page shows of a winner: SHA-256 of `CLIENT:PLAYER`."""
    return sha256_hex(entrant.encode("utf-8"))


def random_numbers(seed: bytes) -> Iterator[int]:
    counter = 0
    while True:
        message = f"recovery-draw:{counter}".encode("ascii")
        yield int.from_bytes(hmac.new(seed, message, hashlib.sha256).digest(), "big")
        counter += 1


def pick(numbers: Iterator[int], remaining: list[Entrant]) -> int:
    """The index in `remaining` of the next person picked."""
    cumulative = list(accumulate(e.entries for e in remaining))
    total = cumulative[-1]
    limit = SPACE - SPACE % total
    number = next(numbers)
    while number >= limit:
        number = next(numbers)
    return bisect_right(cumulative, number % total)


def select(seed: bytes, text: str, prizes: Iterable[PrizeDraw], reserves: int) -> list[PrizePicks]:
    """Winners then reserves of each prize, in order of prize code, distinct people."""
    remaining = [e for e in parse_canonical_text(text) if e.entries > 0]
    numbers = random_numbers(seed)
    results = []
    for prize in sorted(prizes, key=lambda p: p.prize):
        picked: list[str] = []
        wanted = prize.to_draw + reserves if prize.to_draw else 0
        while remaining and len(picked) < wanted:
            picked.append(remaining.pop(pick(numbers, remaining)).entrant)
        results.append(
            PrizePicks(prize.prize, prize.to_draw, picked[: prize.to_draw], picked[prize.to_draw :])
        )
    return results
