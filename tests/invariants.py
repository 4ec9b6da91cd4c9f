"""What must hold after any fault, checked once for every fault test.

- For each prize and day, no more wins than its plan has moments (perday when planned).
- No moment is awarded twice, and a moment is marked claimed exactly when it has a win.
- Every winning HTTP answer has its row: a win with the request id the test sent.
- No wrong win: a win row belongs to a play that was told it won, or to a play that got
  no answer at all (its worker died, or the connection did, after the commit).
- Moments not awarded are still claimable: unclaimed, with no win and no lock held on them.
"""

import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count

from contests.models import DayPlan, Win, WinningMoment


@dataclass(frozen=True)
class Answer:
    """One play as the test saw it; status None when no answer came back."""

    request_id: str
    status: int | None
    body: bytes = b""
    content_type: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def won(self) -> bool:
        return self.status == 200 and self.json["data"]["winner"] is True


@dataclass
class Outcome:
    """What the invariant check counted, for the test to assert on and report."""

    plays: int = 0
    statuses: Counter = field(default_factory=Counter)
    winning_answers: int = 0
    wins: int = 0
    planned: int = 0
    unclaimed: int = 0
    wins_without_a_winning_answer: dict[str, int | None] = field(default_factory=dict)


def check_invariants(answers: list[Answer], *, wins_may_follow: frozenset = frozenset()) -> Outcome:
    """Assert every invariant over the database and the answers; return what was counted.

    `wins_may_follow` lists the statuses whose play may still have won (besides None, no
    answer): e.g. 503 when the database connection died just after the win committed.
    """
    request_ids = [answer.request_id for answer in answers]
    assert len(set(request_ids)) == len(request_ids), "each play needs its own request id"

    over = [
        (plan.prize_id, plan.day, plan.won, plan.moment_count)
        for plan in DayPlan.objects.annotate(won=Count("moments__win"))
        if plan.won > plan.moment_count
    ]
    assert not over, f"plans with more wins than moments: {over}"

    wins = list(Win.objects.values("request_id", "moment_id", "moment__claimed"))
    moment_ids = [win["moment_id"] for win in wins]
    assert len(set(moment_ids)) == len(moment_ids), "a moment was awarded twice"
    assert all(win["moment__claimed"] for win in wins), "a won moment is not marked claimed"
    claimed_without_win = WinningMoment.objects.filter(claimed=True, win__isnull=True).count()
    assert claimed_without_win == 0, f"{claimed_without_win} moments claimed with no win: lost"

    rows = Counter(win["request_id"] for win in wins)
    by_id = {answer.request_id: answer for answer in answers}
    winning = [answer for answer in answers if answer.won]
    missing = [answer.request_id for answer in winning if rows[answer.request_id] != 1]
    assert not missing, f"winning answers without exactly one win row: {missing}"
    unexplained = {}
    for request_id in rows:
        answer = by_id.get(request_id)
        if answer is not None and answer.won:
            continue
        status = answer.status if answer else "not sent by this test"
        assert answer is not None and (answer.status is None or answer.status in wins_may_follow), (
            f"win {request_id} was answered {status}: a wrong answer"
        )
        unexplained[request_id] = answer.status

    unclaimed = WinningMoment.objects.filter(claimed=False)
    assert not unclaimed.filter(win__isnull=False).exists()
    if connection.vendor == "postgresql":
        # Still claimable: no transaction holds a lock on any of them.
        with transaction.atomic():
            free = unclaimed.select_for_update(skip_locked=True).values_list("pk", flat=True)
            assert len(free) == unclaimed.count(), "an unclaimed moment is still locked"

    return Outcome(
        plays=len(answers),
        statuses=Counter(answer.status for answer in answers),
        winning_answers=len(winning),
        wins=len(wins),
        planned=sum(DayPlan.objects.values_list("moment_count", flat=True)),
        unclaimed=unclaimed.count(),
        wins_without_a_winning_answer=unexplained,
    )
