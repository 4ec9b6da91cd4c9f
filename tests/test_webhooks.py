"""Webhooks to a real receiver on 127.0.0.1: signed as Standard Webhooks, written with what
they report (the outbox), retried after errors and timeouts, dead after 24 h, replayed."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from contests.models import (
    ApiClient,
    DeliveryStatus,
    Voucher,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    Win,
)
from contests.moments.claiming import claim_moment, ensure_plans
from contests.play.credentials import issue_token
from contests.staff.reviews import review_win
from contests.vouchers.importing import import_vouchers
from contests.webhooks import addresses
from contests.webhooks.delivery import deliver_due
from contests.webhooks.events import (
    PRIZE_STOCK_LOW,
    RECOVERY_DRAWN,
    SCHEMAS,
    record_event,
)
from tests.clock import rome
from tests.receivers import Received, Receiver, receiving

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)
PLAYING = rome(2020, 2, 10, 12)


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOK_RETRY_SECONDS = 30.0


def command(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def deliver(at: dt.datetime) -> str:
    """`manage.py deliver_webhooks --once`, run at `at` (the clock moving on from there)."""
    with time_machine.travel(at, tick=True):
        return command("deliver_webhooks", "--once")[-1]


@pytest.fixture
def brand(make_contest, django_capture_on_commit_callbacks):
    """C0001 (12 moments a day, 12 codes) played by the brand; its token."""
    contest = make_contest(perday=12)
    import_vouchers(contest.prizes.get(), io.StringIO("".join(f"V-{n}\n" for n in range(12))))
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        client = ApiClient.objects.create(name="Brand")
        client.contests.add(contest)
        _, token = issue_token(client)
    return contest, client, token


def endpoint(url: str, events: str = "win.created,win.reviewed,voucher.redeemed") -> str:
    """create_webhook for the brand; return the secret it printed on its last line."""
    lines = command("create_webhook", "Brand", url, "--events", events)
    assert lines[-1].startswith("whsec_") and lines[-1].strip() == lines[-1]
    return lines[-1]


def verified(secret: str, got) -> dict:
    """The body, verified as a receiver does when it arrives (at its webhook-timestamp)."""
    sent = dt.datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), dt.UTC)
    with time_machine.travel(sent, tick=False):
        return Webhook(secret).verify(got.body, got.headers)


def win(client, token, at=PLAYING) -> dict:
    with time_machine.travel(at, tick=False):
        response = client.get("/play/?contest=C0001", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.json()


def test_a_win_is_delivered_signed_as_standard_webhooks(client, brand):
    _, _, token = brand
    with receiving() as receiver:
        secret = endpoint(receiver.url)
        answer = win(client, token)
        assert receiver.received == []  # the play only wrote the outbox
        assert "1 delivered" in deliver(PLAYING)
    [got] = receiver.received
    body = verified(secret, got)  # raises unless signed with the secret
    event = WebhookEvent.objects.get()
    assert got.headers["webhook-id"] == event.event_id
    assert got.headers["webhook-signature"].startswith("v1,")
    Draft202012Validator(SCHEMAS["win.created"]).validate(body)
    assert body["type"] == "win.created"
    assert body["data"]["voucher"] == answer["data"]["prize"]["voucher"]
    assert body["data"]["win"] == Win.objects.get().pk
    with pytest.raises(WebhookVerificationError):
        verified(secret, Received(got.headers, got.body + b" "))
    with pytest.raises(WebhookVerificationError):
        verified("whsec_" + "QUJD" * 8, got)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_reviews_and_redemptions_are_delivered_and_match_their_schemas(client, brand, staff_user):
    _, _, token = brand
    with receiving() as receiver:
        secret = endpoint(receiver.url)
        code = win(client, token)["data"]["prize"]["voucher"]
        review_win(Win.objects.get(), "disqualified", "Played twice", staff_user, PLAYING)
        with time_machine.travel(PLAYING + dt.timedelta(seconds=1), tick=False):
            response = client.post(
                "/vouchers/redeem/",
                json.dumps({"voucher": code}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        assert response.status_code == 200
        deliver(PLAYING + dt.timedelta(minutes=1))
    bodies = [verified(secret, got) for got in receiver.received]
    assert [body["type"] for body in bodies] == ["win.created", "win.reviewed", "voucher.redeemed"]
    for body in bodies:
        Draft202012Validator(SCHEMAS[body["type"]]).validate(body)
    assert bodies[1]["data"]["status"] == "disqualified"
    assert bodies[1]["data"]["reason"] == "Played twice"
    assert bodies[2]["data"]["voucher"] == code and bodies[2]["data"]["redeemed_via"] == "api"


def test_retries_after_500s_and_timeouts_with_a_growing_wait(client, brand):
    _, _, token = brand
    with receiving(Receiver(answers=[500, 503, ("hang", 5)])) as receiver:
        secret = endpoint(receiver.url)
        win(client, token)
        assert "1 to retry" in deliver(PLAYING)
        delivery = WebhookDelivery.objects.get()
        first_wait = delivery.next_attempt_at - PLAYING
        assert "0 delivered" in deliver(PLAYING + dt.timedelta(seconds=10))  # not due yet
        assert "1 to retry" in deliver(PLAYING + dt.timedelta(minutes=1))
        delivery.refresh_from_db()
        second_wait = delivery.next_attempt_at - (PLAYING + dt.timedelta(minutes=1))
        assert "1 to retry" in deliver(PLAYING + dt.timedelta(minutes=5))  # the timeout
        assert "1 delivered" in deliver(PLAYING + dt.timedelta(minutes=15))
    assert dt.timedelta(seconds=30) <= first_wait < dt.timedelta(seconds=35)
    assert dt.timedelta(seconds=60) <= second_wait < dt.timedelta(seconds=65)
    attempts = list(WebhookAttempt.objects.order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, 503, None, 200]
    assert "Timeout" in attempts[2].error
    ids = {got.headers["webhook-id"] for got in receiver.received}
    assert len(receiver.received) == 4 and len(ids) == 1
    for got in receiver.received:
        verified(secret, got)  # each attempt signed afresh
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 4)


def test_a_receiver_down_for_a_while_gets_every_event_once_back(client, brand, staff_user):
    _, _, token = brand
    with receiving() as probe:
        port = probe.port
    url = f"http://127.0.0.1:{port}/hooks"  # nothing listens there now
    secret = endpoint(url)
    for minute in range(3):
        win(client, token, PLAYING + dt.timedelta(minutes=minute))
    review_win(Win.objects.earliest("won_at"), "validated", "Checked", staff_user, PLAYING)
    for hours in (0, 1, 3):
        assert "0 delivered" in deliver(PLAYING + dt.timedelta(hours=hours, minutes=5))
    assert WebhookAttempt.objects.filter(status_code=None).count() >= 4 * 3
    with receiving(port=port) as receiver:
        assert "4 delivered" in deliver(PLAYING + dt.timedelta(hours=8))
        assert "0 delivered" in deliver(PLAYING + dt.timedelta(hours=9))  # nothing twice
    received = {got.headers["webhook-id"] for got in receiver.received}
    assert received == set(WebhookEvent.objects.values_list("event_id", flat=True))
    assert len(receiver.received) == 4
    for got in receiver.received:
        verified(secret, got)


def test_a_delivery_is_dead_after_24_hours_and_the_admin_replays_it(
    client, brand, superuser_client
):
    _, _, token = brand
    with receiving(Receiver(default=500)) as receiver:
        endpoint(receiver.url)
        win(client, token)
        hour = 0
        deliver(PLAYING)
        while WebhookDelivery.objects.get().status == DeliveryStatus.PENDING and hour < 30:
            hour += 1
            deliver(PLAYING + dt.timedelta(hours=hour))
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.DEAD
        assert 23 <= hour <= 24  # dead once the next wait would end past the 24 hours
        assert delivery.attempts == WebhookAttempt.objects.count() == len(receiver.received)

        listing = superuser_client.get("/admin/contests/webhookdelivery/")
        assert listing.status_code == 200 and b"Dead" in listing.content
        page = superuser_client.get(f"/admin/contests/webhookdelivery/{delivery.pk}/change/")
        assert page.status_code == 200 and b"HTTP 500" in page.content

        receiver.default = 200
        later = PLAYING + dt.timedelta(days=2)
        with time_machine.travel(later, tick=True):
            superuser_client.post(
                "/admin/contests/webhookdelivery/",
                {"action": "replay_deliveries", "_selected_action": [delivery.pk]},
            )
        assert "1 delivered" in deliver(later + dt.timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_events_go_only_to_endpoints_that_want_them(client, brand, make_contest):
    contest, brand_client, token = brand
    other = ApiClient.objects.create(name="Other")
    other.contests.add(contest)
    with receiving() as mine, receiving() as theirs, receiving() as reviews_only:
        endpoint(mine.url, "win.created")
        command("create_webhook", "Other", theirs.url, "--events", "win.created")
        endpoint(reviews_only.url, "win.reviewed")
        off = WebhookEndpoint.objects.get(url=mine.url)
        inactive = WebhookEndpoint.objects.create(
            client=brand_client, url=mine.url + "/off", events=["win.created"], is_active=False
        )
        win(client, token)  # through the brand: its player ids are the brand's own
        deliver(PLAYING)
    assert len(mine.received) == 1
    assert theirs.received == [] and reviews_only.received == []
    assert not WebhookDelivery.objects.filter(endpoint=inactive).exists()
    assert WebhookDelivery.objects.get().endpoint == off


def test_an_event_exists_exactly_when_what_it_reports_was_committed(brand):
    contest, _, _ = brand
    with pytest.raises(RuntimeError), transaction.atomic():
        claim_moment(contest.pk, DAY, PLAYING, request_id="undone")
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the play's transaction fails after the claim")
    assert not Win.objects.exists() and not WebhookEvent.objects.exists()
    assert not Voucher.objects.filter(win__isnull=False).exists()
    won = claim_moment(contest.pk, DAY, PLAYING, request_id="kept")
    event = WebhookEvent.objects.get()
    assert json.loads(event.body)["data"]["win"] == won.pk


def test_the_events_other_work_records_match_their_schemas(brand):
    contest, _, _ = brand
    prize = {"code": "five-percent-discount", "name": "Sconto del 5%"}
    low = record_event(
        PRIZE_STOCK_LOW,
        contest,
        {"contest": "C0001", "prize": prize, "left": 3, "of": 100, "what": "vouchers"},
    )
    drawn = record_event(
        RECOVERY_DRAWN,
        contest,
        {"contest": "C0001", "prize": prize, "drawn_at": "2020-03-01T10:00:00Z", "winners": 2},
    )
    for event in (low, drawn):
        Draft202012Validator(SCHEMAS[event.kind]).validate(json.loads(event.body))
    with pytest.raises(ValueError):
        record_event("prize.gone", contest, {})


def test_the_schemas_in_the_docs_are_the_ones_checked():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    for kind, schema in SCHEMAS.items():
        assert json.dumps(schema, indent=2, ensure_ascii=False) in text, kind


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://192.168.0.9/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://0.0.0.0/x",
        "ftp://example.com/x",
    ],
)
def test_in_production_only_https_to_public_addresses(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.DEBUG = False
    with pytest.raises(ValidationError):
        addresses.check_url(url)


def test_a_public_https_address_is_allowed_and_debug_allows_loopback(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.DEBUG = False
    addresses.check_url("https://93.184.215.14/hooks")
    settings.DEBUG = True
    addresses.check_url("http://127.0.0.1:8080/hooks")


def test_the_rule_holds_when_made_and_again_at_delivery(settings, client, brand):
    _, _, token = brand
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(CommandError, match="https"):
        command("create_webhook", "Brand", "http://127.0.0.1:9/x", "--events", "win.created")
    with pytest.raises(CommandError, match="loopback, private or link-local"):
        command("create_webhook", "Brand", "https://127.0.0.1:9/x", "--events", "win.created")
    with pytest.raises(CommandError, match="Unknown"):
        command("create_webhook", "Brand", "https://93.184.215.14/", "--events", "win.lost")
    with receiving() as receiver:
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
        endpoint(receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # e.g. a name that now resolves inward
        win(client, token)
        deliver(PLAYING)
    assert receiver.received == []
    assert "https" in WebhookAttempt.objects.get().error


def test_deliver_due_without_endpoints_fans_out_and_sends_nothing(client, brand):
    _, _, token = brand
    win(client, token)
    summary = deliver_due(timezone.now())
    assert summary.fanned_out == 1 and summary.delivered == 0
    assert WebhookEvent.objects.get().fanned_out


def test_an_endpoint_deactivated_after_the_event_gets_nothing(client, brand):
    _, _, token = brand
    with receiving() as receiver:
        endpoint(receiver.url)
        win(client, token)
        deliver_due(PLAYING - dt.timedelta(seconds=1))  # fanned out, nothing due yet
        WebhookEndpoint.objects.update(is_active=False)
        assert "1 dead" in deliver(PLAYING)
    assert receiver.received == []
    assert WebhookAttempt.objects.get().error == "The endpoint is inactive."


def test_purging_player_ids_blanks_them_in_the_events_too(brand, staff_user):
    contest, _, _ = brand
    won = claim_moment(contest.pk, DAY, PLAYING, request_id="r", player="alice@example.com")
    review_win(won, "validated", "ok", staff_user, PLAYING)
    with time_machine.travel(PLAYING + dt.timedelta(days=400), tick=False):
        command("purge_player_data", "--older-than", "30")
    bodies = [json.loads(body) for body in WebhookEvent.objects.values_list("body", flat=True)]
    assert len(bodies) == 2
    assert all(body["data"]["player"] == "" for body in bodies)
    assert "alice" not in "".join(WebhookEvent.objects.values_list("body", flat=True))
