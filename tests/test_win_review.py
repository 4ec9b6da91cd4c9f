"""Staff review a win on its page: validated or disqualified, with a reason, kept in history."""

import pytest

from contests.models import ReviewStatus, WinReview
from tests.clock import rome

pytestmark = pytest.mark.django_db


@pytest.fixture
def win(make_contest, make_win):
    contest = make_contest()
    return make_win(contest, rome(2020, 2, 10, 9, 30), player="p-42", request_id="req-7")


def test_it_shows_the_win_and_its_empty_history(staff_client, win):
    response = staff_client.get(f"/winners/{win.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "p-42" in page and "req-7" in page and "2020-02-10 09:30:00" in page
    assert "Not reviewed yet." in page
    assert 'name="reason"' in page


def test_it_records_a_verdict_with_reason_author_and_time(staff_client, staff_user, win):
    response = staff_client.post(
        f"/winners/{win.pk}/", {"status": "disqualified", "reason": "Two accounts"}, follow=True
    )
    assert response.status_code == 200
    review = WinReview.objects.get()
    assert (review.status, review.reason, review.reviewed_by) == (
        "disqualified",
        "Two accounts",
        staff_user,
    )
    win.refresh_from_db()
    assert win.review_status == ReviewStatus.DISQUALIFIED
    assert "Two accounts" in response.content.decode()


def test_every_verdict_stays_in_the_history(staff_client, win):
    staff_client.post(f"/winners/{win.pk}/", {"status": "validated", "reason": "Receipt OK"})
    staff_client.post(f"/winners/{win.pk}/", {"status": "disqualified", "reason": "Fraud"})
    page = staff_client.get(f"/winners/{win.pk}/").content.decode()
    assert page.index("Fraud") < page.index("Receipt OK")
    assert WinReview.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "validated", "reason": ""}, "reason"),
        ({"status": "maybe", "reason": "hmm"}, "status"),
    ],
)
def test_a_verdict_needs_a_reason_and_a_known_status(staff_client, win, data, field):
    response = staff_client.post(f"/winners/{win.pk}/", data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not WinReview.objects.exists()


def test_the_winners_list_links_each_win_to_its_review(staff_client, win):
    page = staff_client.get("/winners/").content.decode()
    assert f'href="/winners/{win.pk}/"' in page
    assert "Not reviewed" in page


def test_auditors_read_reviews_but_cannot_review(auditor_client, win):
    response = auditor_client.get(f"/winners/{win.pk}/")
    assert response.status_code == 200
    assert 'name="reason"' not in response.content.decode()
    refused = auditor_client.post(f"/winners/{win.pk}/", {"status": "validated", "reason": "x"})
    assert refused.status_code == 403
    assert not WinReview.objects.exists()


def test_anonymous_and_non_staff_are_refused(client, outsider_client, win):
    assert client.get(f"/winners/{win.pk}/").status_code == 302
    assert outsider_client.get(f"/winners/{win.pk}/").status_code == 403
    assert (
        outsider_client.post(
            f"/winners/{win.pk}/", {"status": "validated", "reason": "x"}
        ).status_code
        == 403
    )


def test_an_unknown_win_is_404(staff_client, db):
    assert staff_client.get("/winners/999999/").status_code == 404
