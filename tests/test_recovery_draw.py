"""The recovery draw of a contest played over several days: freeze, draw, replacements;
the refusals, logged with who tried; and what the procedure lets anyone recompute."""

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Q, Sum

from contests.models import (
    AuditEvent,
    AuditEventKind,
    DayPlan,
    Participant,
    RecoveryDraw,
    ReviewStatus,
    Win,
)
from contests.recovery import procedure, service
from contests.recovery_records import PickRole
from contests.staff.closing_record import closing_record
from tests.clock import rome
from tests.closing import played_contest

pytestmark = pytest.mark.django_db

ROBOT = service.Actor("manage.py recovery_draw (as test)")


@pytest.fixture
def contest(make_contest):
    return played_contest(make_contest)


def entrant(win_or_row) -> str:
    return procedure.entrant_id(win_or_row.client_id, win_or_row.player)


def earlier_winners(contest) -> set[str]:
    return {entrant(win) for win in Win.objects.filter(contest=contest)}


def registered(contest) -> set[str]:
    return {entrant(row) for row in Participant.objects.filter(contest=contest)}


def test_freeze_then_draw_picks_eligible_distinct_people(contest):
    frozen = service.freeze(contest, ROBOT)
    eligible = registered(contest) - earlier_winners(contest)
    assert earlier_winners(contest) and eligible
    assert frozen.participants_count == len(eligible)
    assert frozen.excluded_count == len(registered(contest) & earlier_winners(contest))
    listed = [e.entrant for e in procedure.parse_canonical_text(frozen.participants_text)]
    assert listed == sorted(eligible) and any(e.startswith(f"{e.split(':')[0]}:c") for e in listed)
    assert frozen.participants_sha256 == procedure.participants_digest(frozen.participants_text)
    # The number to draw, per prize: moments nobody claimed and wins disqualified.
    for line in frozen.prizes.select_related("prize"):
        planned = DayPlan.objects.filter(prize=line.prize).aggregate(n=Sum("moment_count"))["n"]
        wins = Win.objects.filter(prize=line.prize).aggregate(
            won=Count("id"), out=Count("id", filter=Q(review_status=ReviewStatus.DISQUALIFIED))
        )
        assert line.to_draw == planned - wins["won"] + wins["out"]
    assert sum(line.to_draw for line in frozen.prizes.all()) > 0

    drawn = service.draw(contest, ROBOT)
    picks = list(drawn.picks.all())
    people = [chosen.entrant for chosen in picks]
    assert len(people) == len(set(people))  # distinct people
    assert set(people) <= eligible  # eligible, so never earlier winners
    for line in drawn.prizes.all():
        winners = [c for c in picks if c.prize_id == line.prize_id and c.role == PickRole.WINNER]
        reserves = [c for c in picks if c.prize_id == line.prize_id and c.role == PickRole.RESERVE]
        assert len(winners) == min(line.to_draw, len(eligible))
        assert len(reserves) <= drawn.reserves
    # The published procedure, from the seed and the list alone, gives the same picks.
    shown = service.record_json(drawn)
    again = procedure.select(
        bytes.fromhex(shown["seed"]),
        drawn.participants_text,
        [procedure.PrizeDraw(p["prize"], p["to_draw"]) for p in shown["prizes"]],
        drawn.reserves,
    )
    assert [(p.prize, p.winners, p.reserves) for p in again] == [
        (p["prize"], p["winners"], p["reserves"]) for p in shown["prizes"]
    ]
    assert procedure.seed_commitment(bytes.fromhex(shown["seed"])) == drawn.seed_sha256
    assert service.recompute(drawn) == []


def test_a_disqualified_recovery_winner_is_replaced_by_the_next_reserve(contest, staff_user):
    service.freeze(contest, ROBOT)
    drawn = service.draw(contest, ROBOT)
    first = drawn.picks.filter(role=PickRole.WINNER).order_by("prize__code", "rank").first()
    reserves = drawn.picks.filter(prize=first.prize, role=PickRole.RESERVE).order_by("rank")
    actor = service.Actor(staff_user.username, staff_user)
    replacement = service.disqualify(first, "Not of age", actor)
    assert replacement.replacement == reserves[0]
    holders = service.standing_winners(drawn)[first.prize_id]
    assert first not in holders and reserves[0] in holders
    with pytest.raises(service.RecoveryRefused):
        service.disqualify(first, "again", actor)  # no longer holds the prize
    record = closing_record(contest)
    line = next(line for line in record.prizes if line.code == first.prize.code)
    assert line.reserves_used == 1
    assert [r.disqualified for r in record.replacements] == [first]
    assert AuditEvent.objects.filter(kind=AuditEventKind.RECOVERY_REPLACED).exists()


def test_the_records_totals_agree_with_the_database(contest):
    service.freeze(contest, ROBOT)
    drawn = service.draw(contest, ROBOT)
    record = closing_record(contest)
    assert record.state == "closed"
    for line in record.prizes:
        wins = Win.objects.filter(contest=contest, prize__code=line.code)
        planned = DayPlan.objects.filter(prize__code=line.code, prize__contest=contest)
        assert line.planned == planned.aggregate(n=Sum("moment_count"))["n"]
        assert line.won == wins.count()
        assert line.disqualified == wins.filter(review_status=ReviewStatus.DISQUALIFIED).count()
        recovered = drawn.picks.filter(prize__code=line.code, role=PickRole.WINNER).count()
        assert line.recovered == recovered
        assert line.planned == line.awarded + line.recovered + line.devolved
        assert line.values["devolved"] == line.value * line.devolved
    assert record.total.planned == sum(line.planned for line in record.prizes)
    assert record.pool == sum(line.value * line.planned for line in record.prizes)


def test_freezing_before_the_end_is_refused_and_logged(contest):
    with (
        time_machine.travel(rome(2020, 2, 4, 23, 59), tick=False),
        pytest.raises(service.RecoveryRefused, match="has not ended"),
    ):
        service.freeze(contest, ROBOT)
    assert not RecoveryDraw.objects.exists()
    refusal = AuditEvent.objects.get(kind=AuditEventKind.RECOVERY_REFUSED)
    assert refusal.username == ROBOT.name and refusal.detail.startswith("freeze:")


def test_freezing_and_drawing_twice_are_refused_and_logged(contest):
    with pytest.raises(service.RecoveryRefused, match="not been frozen"):
        service.draw(contest, ROBOT)
    service.freeze(contest, ROBOT)
    with pytest.raises(service.RecoveryRefused, match="already frozen"):
        service.freeze(contest, service.Actor("mallory"))
    service.draw(contest, ROBOT)
    seed = RecoveryDraw.objects.get().seed
    with pytest.raises(service.RecoveryRefused, match="already been drawn"):
        service.draw(contest, service.Actor("eve"))
    assert RecoveryDraw.objects.get().seed == seed
    refused = AuditEvent.objects.filter(kind=AuditEventKind.RECOVERY_REFUSED)
    assert {(e.username, e.detail.split(":")[0]) for e in refused} == {
        (ROBOT.name, "draw"),
        ("mallory", "freeze"),
        ("eve", "draw"),
    }


def test_with_nobody_eligible_every_prize_is_devolved(make_contest, staff_client):
    # Two players, both winners: nobody is left to draw.
    contest = played_contest(make_contest, players=2, client_players=0, disqualify=1)
    assert registered(contest) == earlier_winners(contest)
    service.freeze(contest, ROBOT)
    drawn = service.draw(contest, ROBOT)
    assert drawn.participants_count == 0 and not drawn.picks.exists()
    record = closing_record(contest)
    assert all(line.recovered == 0 for line in record.prizes)
    assert all(line.devolved == line.unassigned for line in record.prizes)
    assert record.total.devolved == sum(line.unassigned for line in record.prizes) > 0
    page = staff_client.get("/contests/C0001/report/").content.decode()
    assert 'id="recovery-nobody"' in page and 'id="signatures"' in page


def test_the_command_freezes_draws_and_shows_json(contest):
    out = StringIO()
    call_command("recovery_draw", "C0001", "--freeze", "--json", stdout=out)
    frozen = json.loads(out.getvalue())
    assert frozen["state"] == "frozen" and frozen["seed"] is None
    assert set(frozen) == {"contest", "state", "participants_sha256", "seed_sha256", "seed"} | {
        "prizes"
    }
    call_command("recovery_draw", "C0001", "--draw", stdout=StringIO())
    out = StringIO()
    call_command("recovery_draw", "C0001", "--show", "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert shown["contest"] == "C0001" and shown["state"] == "drawn"
    assert procedure.seed_commitment(bytes.fromhex(shown["seed"])) == shown["seed_sha256"]
    assert [set(p) for p in shown["prizes"]] == [{"prize", "to_draw", "winners", "reserves"}] * 2
    assert [p["prize"] for p in shown["prizes"]] == ["five-percent-discount", "gift-card"]
    with pytest.raises(CommandError, match="already been drawn"):
        call_command("recovery_draw", "C0001", "--draw", stdout=StringIO())
    text = StringIO()
    call_command("recovery_draw", "C0001", "--show", stdout=text)
    assert shown["seed"] in text.getvalue()


def test_purging_leaves_a_contest_whose_closing_is_pending(contest):
    out = StringIO()
    call_command("purge_player_data", "--closed-for", "1", stdout=out)
    assert "C0001" in out.getvalue()
    assert not Win.objects.filter(player="").exists()
    assert Participant.objects.exists()
    call_command("purge_player_data", "--older-than", "1", stdout=StringIO())
    assert not Win.objects.filter(player="").exists() and Participant.objects.exists()
    service.freeze(contest, ROBOT)
    service.draw(contest, ROBOT)
    call_command("purge_player_data", "--closed-for", "1", stdout=StringIO())
    assert not Win.objects.exclude(player="").exists()
    assert not Participant.objects.exists()
    assert service.recompute(RecoveryDraw.objects.get()) == []  # the record keeps its list


def test_per_play_entries_weigh_each_players_plays(contest):
    contest.recovery_entries = "per_play"
    contest.save()
    frozen = service.freeze(contest, ROBOT)
    assert frozen.entries == "per_play"
    plays = {}
    for row in Participant.objects.filter(contest=contest):
        plays[entrant(row)] = plays.get(entrant(row), 0) + row.plays
    listed = procedure.parse_canonical_text(frozen.participants_text)
    assert listed and {e.entrant: e.entries for e in listed} == {
        who: n for who, n in plays.items() if who not in earlier_winners(contest)
    }
    assert any(e.entries > 1 for e in listed)


def test_the_draw_is_announced_to_the_brands_in_its_own_transaction(contest):
    from contests.models import WebhookEvent

    service.freeze(contest, ROBOT)
    assert not WebhookEvent.objects.filter(kind="recovery.drawn").exists()
    drawn = service.draw(contest, ROBOT)
    announced = {
        json.loads(event.body)["data"]["prize"]["code"]: json.loads(event.body)["data"]
        for event in WebhookEvent.objects.filter(kind="recovery.drawn", contest=contest)
    }
    for line in drawn.prizes.select_related("prize"):
        data = announced.pop(line.prize.code)
        winners = drawn.picks.filter(prize=line.prize, role=PickRole.WINNER).count()
        assert data["contest"] == contest.code and data["winners"] == winners
    assert not announced
