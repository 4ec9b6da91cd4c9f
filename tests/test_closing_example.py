"""docs/auditing.md's example from creation to the closing record, run as written: the
create_contest and recovery_draw commands of the page, plays in between, then the record."""

import json
import random
import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from contests.models import Contest, RecoveryDraw, Win
from contests.moments.claiming import ensure_plans
from contests.recovery import service
from tests.clock import rome

pytestmark = pytest.mark.django_db

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "auditing.md"


def commands() -> list[list[str]]:
    text = GUIDE.read_text()
    start = text.index("### From creation to the closing record: an example")
    [block] = re.findall(r"^```sh\n(.*?)^```", text[start:], flags=re.S | re.M)[:1]
    joined = block.replace("\\\n", " ")
    lines = [line for line in joined.splitlines() if line.startswith("python manage.py ")]
    return [shlex.split(line)[2:] for line in lines]


def test_the_documented_example_runs_from_creation_to_the_record(client, staff_user):
    create, freeze, draw, show = commands()
    assert (create[0], freeze[-1], draw[-1], show[-2:]) == (
        "create_contest", "--freeze", "--draw", ["--show", "--json"]
    )  # fmt: skip
    call_command(*create, stdout=StringIO())
    contest = Contest.objects.get()
    assert contest.recovery_draw and contest.prizes.get().value == 1.5
    for day in (1, 2, 3):
        ensure_plans(
            contest, contest.start.replace(day=day), rome(2026, 12, day, 0), random.Random(day)
        )
        with time_machine.travel(rome(2026, 12, day, 20), tick=False):
            for n in range(40):
                client.get(f"/play/?contest=C0100&user=player-{n}")
    with time_machine.travel(rome(2026, 12, 31, 9), tick=False):
        call_command(*freeze, stdout=StringIO())
        assert client.get("/contests/C0100/recovery/").json()["data"]["seed"] is None
        call_command(*draw, stdout=StringIO())
        out = StringIO()
        call_command(*show, stdout=out)
        client.force_login(staff_user)  # signed in then: a session does not last a month
        page = client.get("/contests/C0100/report/").content.decode()
    shown = json.loads(out.getvalue())
    record = RecoveryDraw.objects.get()
    assert shown["state"] == "drawn" and service.recompute(record) == []
    winners = {who for line in shown["prizes"] for who in line["winners"]}
    assert winners and not winners & {f":{win.player}" for win in Win.objects.all()}
    # Thirty days of 20 planned, three of them played: the rest goes to the draw.
    assert shown["prizes"][0]["to_draw"] == 3 * 20 - Win.objects.count()
    assert 'id="signatures"' in page and record.seed in page
