"""Shared checks for the staff portal's tests."""

from urllib.parse import quote

from django.test import Client


def assert_staff_only(url: str, anonymous: Client, outsider: Client, staff: Client) -> None:
    """Anonymous visitors are sent to sign in, non-staff are refused, staff get the page."""
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"

    response = outsider.get(url)
    assert response.status_code == 403
    assert b"ask an administrator to give your account staff access" in response.content
    assert b"bob" in response.content  # says who is signed in

    assert staff.get(url).status_code == 200
