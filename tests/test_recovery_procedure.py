"""The recovery draw's published procedure: docs/auditing.md's worked example, recomputed
by the page's own script and by the portal's procedure, gives the page's output."""

import contextlib
import hashlib
import io
import json
import re
from pathlib import Path

from contests.recovery import procedure

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "auditing.md"


def example() -> str:
    text = GUIDE.read_text()
    start = text.index("### A worked example of the recovery draw")
    return text[start : text.index("\n### ", start + 10)]


def blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", section, flags=re.S | re.M)


def documented() -> dict:
    return json.loads(blocks(example(), "json")[0])


def test_the_documented_digests_are_the_list_and_the_seed():
    [shell] = blocks(example(), "sh")
    quoted, digest = re.search(r"printf '(.*)' \| sha256sum\n(\w{64})  -", shell).groups()
    text = quoted.replace("\\t", "\t").replace("\\n", "\n")
    shown = documented()
    assert hashlib.sha256(text.encode()).hexdigest() == digest == shown["participants_sha256"]
    assert procedure.participants_digest(text) == digest
    assert procedure.seed_commitment(bytes.fromhex(shown["seed"])) == shown["seed_sha256"]
    assert procedure.canonical_text(procedure.parse_canonical_text(text)) == text  # canonical


def test_the_pages_script_gives_the_documented_winners():
    [script] = blocks(example(), "python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(script, {})  # noqa: S102 (the page's own example)
    assert eval(printed.getvalue()) == documented()["prizes"]  # noqa: S307


def test_the_portals_procedure_gives_the_documented_winners():
    [script] = blocks(example(), "python")
    text = re.search(r'^text = "(.*)"$', script, flags=re.M)[1].encode().decode("unicode_escape")
    shown = documented()
    picks = procedure.select(
        bytes.fromhex(shown["seed"]),
        text,
        [procedure.PrizeDraw(p["prize"], p["to_draw"]) for p in shown["prizes"]],
        reserves=1,
    )
    assert [
        {"prize": p.prize, "to_draw": p.to_draw, "winners": p.winners, "reserves": p.reserves}
        for p in picks
    ] == shown["prizes"]


def test_rejection_keeps_every_entry_equally_likely():
    # With T = 3 the last 2^256 mod 3 numbers are rejected: the next number is used.
    numbers = iter([procedure.SPACE - 1, 4])  # 2^256 − 1 ≥ LIMIT when T = 3
    people = [procedure.Entrant(f":{n}", 1) for n in range(3)]
    assert procedure.pick(numbers, people) == 4 % 3


def test_entries_weigh_per_play():
    people = [procedure.Entrant(":a", 1), procedure.Entrant(":b", 3)]
    # Positions 0 → a, 1..3 → b.
    assert [procedure.pick(iter([n]), people) for n in range(4)] == [0, 1, 1, 1]
