"""Webhooks delivered by a real job worker (Celery on the Redis broker), and a worker killed
in the middle of a delivery: nothing is lost, the delivery is made again once its lease ends.

The processes are those of tests/test_job_processes.py (the same settings and isolation).
"""

import datetime as dt
import io
import signal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from contests.models import ApiClient, DeliveryStatus, WebhookAttempt, WebhookDelivery, Win
from contests.moments.claiming import claim_moment
from contests.webhooks.endpoints import create_endpoint
from tests.plans import contest_with_plan
from tests.receivers import Receiver, receiving
from tests.test_job_processes import BROKER_URL, Processes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def broker():
    import redis

    from tests.tools import missing

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not running for the broker at {BROKER_URL}: {exc}")


@pytest.fixture
def jobs(tmp_path):
    processes = Processes(tmp_path, {"deliver_webhooks": 1})
    processes.env.update(WEBHOOK_ALLOW_PRIVATE_URLS="true", WEBHOOK_TIMEOUT_SECONDS="20")
    yield processes
    processes.close()


def test_a_worker_killed_mid_delivery_loses_nothing(make_contest, jobs, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 20.0
    contest = contest_with_plan(make_contest, "C0001", due=2)
    client = ApiClient.objects.create(name="Brand")
    client.contests.add(contest)
    # The first request hangs (the worker waits for it); later ones are answered at once.
    with receiving(Receiver(answers=[("hang", 60)])) as receiver:
        create_endpoint(client, receiver.url, ["win.created"])
        win = claim_moment(contest.pk, contest.local_date(timezone.now()), request_id="w-1")
        jobs.worker()
        jobs.beat()
        jobs.wait_for(receiver.arrived.is_set, "the worker's request at the receiver", 60)
        jobs.stop("worker", signal.SIGKILL)  # mid-delivery: no answer, nothing recorded
        jobs.stop("beat")

        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        assert not WebhookAttempt.objects.exists()
        assert delivery.next_attempt_at > timezone.now()  # leased to the killed worker

        # Once the lease is over, the delivery is due again: made, and recorded.
        out = io.StringIO()
        with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=True):
            call_command("deliver_webhooks", "--once", stdout=out)
        assert "1 delivered" in out.getvalue()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [got.headers["webhook-id"] for got in receiver.received] == [delivery.event.event_id] * 2
    assert Win.objects.get() == win


def test_the_worker_delivers_on_its_schedule(make_contest, jobs, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    contest = contest_with_plan(make_contest, "C0001", due=3)
    client = ApiClient.objects.create(name="Brand")
    client.contests.add(contest)
    with receiving() as receiver:
        create_endpoint(client, receiver.url, ["win.created"])
        day = contest.local_date(timezone.now())
        for number in range(3):
            claim_moment(contest.pk, day, request_id=f"w-{number}")
        jobs.worker()
        jobs.beat()
        jobs.wait_for(lambda: len(receiver.received) >= 3, "three deliveries", 60)
        jobs.wait_for(
            lambda: not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists(),
            "the deliveries recorded",
        )
    assert "job deliver_webhooks succeeded" in jobs.log("worker")
    assert len({got.headers["webhook-id"] for got in receiver.received}) == 3
