"""Staff sign in and out with Django's auth views, on pages styled like the portal."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_the_sign_in_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Staff sign in" in response.content
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_it_signs_staff_in_and_sends_them_where_they_were_going(client, staff_user):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-pw-1", "next": "/winners/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/winners/"
    assert client.get("/winners/").status_code == 200


def test_it_sends_staff_to_the_dashboard_by_default(client, staff_user):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pw-1"})
    assert response["Location"] == "/"


def test_it_refuses_a_wrong_password(client, staff_user):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert client.get("/").status_code == 302


def test_it_refuses_non_staff_politely_after_sign_in(client, django_user_model):
    django_user_model.objects.create_user("bob", password="bob-pw-1")
    client.post("/accounts/login/", {"username": "bob", "password": "bob-pw-1"})
    response = client.get("/")
    assert response.status_code == 403
    assert b"Staff only" in response.content
    assert b"ask an administrator to give your account staff access" in response.content
    # The refusal is a page of the portal, with its stylesheet, and a way out.
    assert b"/static/css/portal." in response.content
    assert b'action="/accounts/logout/"' in response.content


def test_it_signs_out_with_a_post(staff_client):
    assert staff_client.get("/").status_code == 200
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert staff_client.get("/").status_code == 302


def test_it_offers_sign_out_on_every_portal_page(staff_client):
    response = staff_client.get("/")
    assert b'<form method="post" action="/accounts/logout/"' in response.content
    assert b"csrfmiddlewaretoken" in response.content
