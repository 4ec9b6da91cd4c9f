"""Nginx as the edge, as deployed: request ids, forwarding headers, HTTPS, host names and
body sizes; what a client says is never what Django believes (tests/topology.py)."""

import http.client
import re
import ssl

import pytest

from tests.topology import HOST


def test_the_request_id_is_the_clients_when_safe_and_the_same_everywhere(topology):
    answer = topology.https("/play/?contest=NOPE", headers={"X-Request-ID": "client-id.1"})
    assert answer.headers["X-Request-ID"] == "client-id.1"
    assert "rid=client-id.1 for=127.0.0.1" in topology.logged_by_gunicorn("rid=client-id.1")


def test_nginx_makes_the_request_id_when_the_client_sends_none_or_an_unsafe_one(topology):
    for headers in [{}, {"X-Request-ID": "has space"}]:
        answer = topology.https("/play/?contest=NOPE", headers=headers)
        request_id = answer.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        # gunicorn logs the header it received: Nginx made this id, not Django.
        topology.logged_by_gunicorn(f"rid={request_id}")


def test_nginx_overwrites_the_forwarding_headers_a_client_sends(topology):
    answer = topology.https(
        "/admin/login/",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "http",
            "X-Request-ID": "forwarding-probe",
        },
    )
    assert answer.status == 200
    log = topology.logged_by_gunicorn("rid=forwarding-probe")
    assert "rid=forwarding-probe for=127.0.0.1" in log
    assert "203.0.113.9" not in log


def test_django_sees_https_only_because_nginx_says_so(topology):
    # Through Nginx (TLS) no redirect; straight to gunicorn, SECURE_SSL_REDIRECT sends the
    # client to HTTPS, and it would believe anyone who sent the header: hence no published port.
    assert topology.https("/admin/login/").status == 200
    direct = topology.gunicorn("/admin/login/")
    assert direct.status == 301
    assert direct.headers["Location"] == f"https://{HOST}/admin/login/"
    assert topology.gunicorn("/admin/login/", headers={"X-Forwarded-Proto": "https"}).status == 200


def test_plain_http_is_only_a_redirect_to_https(topology):
    answer = topology.http("/play/?contest=TOPO-ON")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}/play/?contest=TOPO-ON"


def test_unknown_host_names_get_no_answer(topology):
    with pytest.raises(http.client.RemoteDisconnected):
        topology.http("/", host="elsewhere.test")
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        topology.https("/", host="elsewhere.test")


def test_oversized_bodies_stop_at_nginx(topology):
    connection = topology.nginx.https_connection()
    try:
        # Nginx judges by the declared length, before reading any of the body.
        connection.putrequest("POST", "/admin/login/")
        connection.putheader("Content-Length", str(3 * 1024 * 1024))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()
