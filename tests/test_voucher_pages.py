"""Vouchers and webhooks in the staff portal and the admin: import, counts, marking a code
redeemed, an endpoint's secret shown once; codes not won are shown to nobody (Auditors
included)."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from contests.models import ApiClient, Voucher, WebhookEndpoint, WebhookEvent, Win
from contests.moments.claiming import claim_moment, ensure_plans
from contests.vouchers.importing import import_vouchers
from tests.clock import rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)
NOON = rome(2020, 2, 10, 12)
SECRETS = ["SECRET-A", "SECRET-B", "SECRET-C"]


@pytest.fixture
def won(make_contest):
    """C0001 with three codes, one of them won; the win."""
    contest = make_contest(perday=1)
    import_vouchers(contest.prizes.get(), io.StringIO("\n".join(SECRETS)))
    ensure_plans(contest, DAY, rome(2020, 2, 10, 0))
    win = claim_moment(contest.pk, DAY, NOON, request_id="r-1")
    return contest, win, win.voucher.code


def get(client, url):
    with time_machine.travel(NOON, tick=False):
        return client.get(url)


def post(client, url, data):
    with time_machine.travel(NOON, tick=False):
        return client.post(url, data)


def upload(text: str, name: str = "codes.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def test_staff_import_codes_in_the_portal(staff_client, make_contest):
    contest = make_contest()
    prize = contest.prizes.get()
    response = post(
        staff_client,
        "/contests/C0001/vouchers/",
        {"prize": prize.pk, "file": upload("P-1\nP-2\nP-2\n")},
    )
    assert response.status_code == 302
    page = get(staff_client, "/contests/C0001/vouchers/")
    assert "2 code(s) added, 1 duplicate(s) skipped" in page.content.decode()
    assert prize.vouchers.count() == 2
    bad = post(
        staff_client,
        "/contests/C0001/vouchers/",
        {"prize": prize.pk, "file": upload("P-3\nbad code\n")},
    )
    assert bad.status_code == 400
    assert "Line 2:" in bad.content.decode()
    assert not prize.vouchers.filter(code="P-3").exists()


@pytest.mark.parametrize("user", ["auditor_client", "staff_client", "superuser_client"])
def test_codes_not_won_are_shown_to_nobody(request, won, user):
    _, win, code = won
    client = request.getfixturevalue(user)
    unwon = Voucher.objects.filter(win__isnull=True).first()
    pages = [
        "/contests/C0001/vouchers/",
        "/admin/contests/voucher/",
        f"/admin/contests/voucher/{unwon.pk}/change/",
        "/admin/contests/voucherpool/",
        f"/winners/{win.pk}/",
        "/contests/C0001/report/",
    ]
    for url in pages:
        response = get(client, url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for secret in SECRETS:
            if secret != code:
                assert secret not in text, (url, secret)
    # Searching for a code finds it only once won: a search cannot probe the pool.
    assert b"0 results" in get(client, f"/admin/contests/voucher/?q={unwon.code}").content
    assert b"1 result" in get(client, f"/admin/contests/voucher/?q={code}").content
    # The won one is no longer a secret: the win's page shows it.
    assert code in get(client, f"/winners/{win.pk}/").content.decode()


def test_auditors_import_nothing_and_redeem_nothing(auditor_client, won):
    contest, win, _ = won
    page = get(auditor_client, "/contests/C0001/vouchers/")
    assert b'type="file"' not in page.content
    refused = post(
        auditor_client,
        "/contests/C0001/vouchers/",
        {"prize": contest.prizes.get().pk, "file": upload("Z\n")},
    )
    assert refused.status_code == 403
    assert post(auditor_client, f"/winners/{win.pk}/voucher/redeem/", {}).status_code == 403
    assert Voucher.objects.get(win=win).redeemed_at is None
    assert b"Mark the voucher redeemed" not in get(auditor_client, f"/winners/{win.pk}/").content


def test_staff_mark_a_won_code_redeemed(staff_client, won):
    _, win, _ = won
    assert b"Mark the voucher redeemed" in get(staff_client, f"/winners/{win.pk}/").content
    assert post(staff_client, f"/winners/{win.pk}/voucher/redeem/", {}).status_code == 302
    voucher = Voucher.objects.get(win=win)
    assert voucher.redeemed_via == "staff" and voucher.redeemed_at == NOON
    assert WebhookEvent.objects.filter(kind="voucher.redeemed").count() == 1
    post(staff_client, f"/winners/{win.pk}/voucher/redeem/", {})  # again: nothing more
    assert WebhookEvent.objects.filter(kind="voucher.redeemed").count() == 1
    report = get(staff_client, "/contests/C0001/report/").content.decode()
    assert "Voucher codes" in report


def test_the_admin_action_imports_into_a_pool(superuser_client, make_contest):
    contest = make_contest()
    prize = contest.prizes.get()
    url = "/admin/contests/voucherpool/"
    form = post(superuser_client, url, {"action": "import_codes", "_selected_action": [prize.pk]})
    assert form.status_code == 200 and b'type="file"' in form.content
    done = post(
        superuser_client,
        url,
        {"action": "import_codes", "_selected_action": [prize.pk], "file": upload("A\nB\n")},
    )
    assert done.status_code == 302
    assert sorted(prize.vouchers.values_list("code", flat=True)) == ["A", "B"]


def test_an_endpoints_secret_is_shown_once(superuser_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    client = ApiClient.objects.create(name="Brand")
    refused = post(
        superuser_client,
        "/admin/contests/webhookendpoint/add/",
        {"client": client.pk, "url": "http://127.0.0.1/hook", "events": ["win.created"]},
    )
    assert refused.status_code == 200 and not WebhookEndpoint.objects.exists()
    made = post(
        superuser_client,
        "/admin/contests/webhookendpoint/add/",
        {
            "client": client.pk,
            "url": "https://93.184.215.14/hook",
            "events": ["win.created", "win.reviewed"],
            "is_active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in made.content.decode()
    assert endpoint.events == ["win.created", "win.reviewed"]
    for url in [
        "/admin/contests/webhookendpoint/",
        f"/admin/contests/webhookendpoint/{endpoint.pk}/change/",
    ]:
        assert endpoint.secret not in get(superuser_client, url).content.decode()
    assert Win.objects.count() == 0
