"""Through Nginx, as deployed: every answer of the play API in its envelope, Nginx's own
(429 over the rate limit, 502 while gunicorn is down) included (tests/topology.py)."""

import re

from tests.topology import LOST, PLAY_BURST, WON, assert_envelope, bearer


def test_play_answers_r1_without_a_contest_code(topology):
    answer = topology.https("/play/")
    assert_envelope(answer, 400, "Contest code missing", "Specify contest code parameter.")
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_play_answers_r2_for_an_unknown_code(topology):
    answer = topology.https("/play/?contest=NOPE")
    assert_envelope(answer, 404, "Contest not found", "Contest code NOPE not found.")


def test_play_answers_r3_for_a_contest_that_ended(topology):
    answer = topology.https("/play/?contest=TOPO-OFF")
    assert_envelope(
        answer, 422, "Contest in not active", "The contest with code TOPO-OFF is not active."
    )


def test_play_answers_r4_or_r5_for_a_running_contest(topology):
    answer = topology.https("/play/?contest=TOPO-ON")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body in (LOST, WON)
    assert "no-cache" in answer.headers["Cache-Control"]


def test_play_answers_r6_without_valid_credentials(topology):
    answer = topology.https("/play/?contest=TOPO-PRIVATE")
    assert answer.status == 401
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["status"] == "401"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    forged = topology.https("/play/?contest=TOPO-ON", headers=bearer("cpt_not-a-real-token"))
    assert forged.status == 401
    assert forged.json()["error"]["status"] == "401"


def test_play_answers_r7_for_a_client_not_enabled_for_the_contest(topology):
    answer = topology.https("/play/?contest=TOPO-PRIVATE", headers=bearer(topology.tokens["other"]))
    assert_envelope(
        answer,
        403,
        "Forbidden",
        "This API client is not enabled for contest code TOPO-PRIVATE.",
    )
    enabled = topology.https(
        "/play/?contest=TOPO-PRIVATE", headers=bearer(topology.tokens["enabled"])
    )
    assert enabled.status == 200


def test_play_answers_r8_with_its_own_status_line_for_a_capped_player(topology):
    first = topology.https("/play/?contest=TOPO-CAPPED&user=alice")
    assert first.status == 200
    assert first.json()["data"]["winner"] is True
    second = topology.https("/play/?contest=TOPO-CAPPED&user=alice")
    assert second.status == 420
    assert second.reason == "Enhance Your Calm"
    assert second.headers["Content-Type"] == "application/json"
    assert second.json()["error"]["status"] == "420"
    # Another player still wins one of the moments left.
    other = topology.https("/play/?contest=TOPO-CAPPED&user=bob")
    assert other.json()["data"]["winner"] is True


def test_too_many_plays_from_one_address_get_429_in_the_envelope(topology):
    # From an address of its own, so no other check shares its allowance.
    statuses = [topology.https("/play/", source="127.0.0.2").status for _ in range(PLAY_BURST + 1)]
    assert statuses == [400] * (PLAY_BURST + 1)
    answer = topology.https("/play/", source="127.0.0.2")
    assert_envelope(
        answer,
        429,
        "Too many requests",
        "Too many plays from this address; try again in a second.",
    )
    assert answer.headers["Retry-After"] == "1"
    # Only /play/ is limited.
    assert topology.https("/healthz", source="127.0.0.2").status == 200


def test_play_answers_502_in_the_envelope_when_gunicorn_is_down(topology):
    topology.web.stop()
    try:
        answer = topology.https("/play/?contest=TOPO-ON")
        assert_envelope(
            answer, 502, "Bad gateway", "The service is briefly unavailable; try again."
        )
        # Elsewhere Nginx's own error page is fine.
        assert topology.https("/admin/login/").status == 502
    finally:
        # The other topology tests share this gunicorn, whatever order they run in.
        topology.restart_gunicorn()
    assert topology.https("/healthz").status == 200
