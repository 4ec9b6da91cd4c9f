"""Security as deployed (docs/security.md): no player id in the access logs, Nginx's limits
on sign-in and published plans, the page headers, and a portal role that cannot rewrite the
record (tests/topology.py)."""

import secrets
import subprocess
import sys

import pytest

from harness.servers import ROOT, wait_until
from tests.topology import PLANS_BURST, SIGNIN_BURST, assert_envelope


def test_player_ids_stay_out_of_the_access_logs(topology):
    player = "player-" + secrets.token_hex(6)
    answer = topology.https(
        f"/play/?contest=TOPO-ON&user={player}", headers={"X-Request-ID": "privacy-probe"}
    )
    assert answer.status == 200
    gunicorn_log = topology.logged_by_gunicorn("rid=privacy-probe")
    assert (
        '"GET /play/ HTTP/1.0" 200' in gunicorn_log or '"GET /play/ HTTP/1.1" 200' in gunicorn_log
    )
    access_log = topology.tmp / "nginx-access.log"
    wait_until(lambda: "rid=privacy-probe" in access_log.read_text(), "Nginx to log it", 10)
    nginx_log = access_log.read_text()
    assert '"GET /play/ HTTP/1.1" 200' in nginx_log
    # Neither the access lines nor the play log line (which names the contest) has it.
    assert player not in gunicorn_log + nginx_log


@pytest.mark.parametrize(
    ("path", "source"), [("/accounts/login/", "127.0.0.3"), ("/admin/login/", "127.0.0.4")]
)
def test_nginx_limits_sign_in_attempts_per_address(topology, path, source):
    # Without a CSRF token Django refuses each POST (403) — until Nginx refuses them all.
    statuses = [
        topology.https(path, method="POST", body=b"username=x&password=y", source=source).status
        for _ in range(SIGNIN_BURST + 1)
    ]
    assert statuses == [403] * (SIGNIN_BURST + 1)
    assert topology.https(path, method="POST", body=b"", source=source).status == 429
    # Showing the page is never limited.
    assert topology.https(path, source=source).status == 200


def test_nginx_limits_the_published_plans_per_address(topology):
    path = "/contests/TOPO-ON/plans/2020-01-01/"
    statuses = [topology.https(path, source="127.0.0.5").status for _ in range(PLANS_BURST + 1)]
    assert statuses == [404] * (PLANS_BURST + 1)
    assert_envelope(
        topology.https(path, source="127.0.0.5"),
        429,
        "Too many requests",
        "Too many requests from this address; try again in a second.",
    )


def test_pages_carry_the_content_security_policy_once(topology):
    answer = topology.https("/accounts/login/")
    assert answer.status == 200
    [policy] = answer.headers.get_all("Content-Security-Policy")
    assert "default-src 'self'" in policy
    assert answer.headers.get_all("Referrer-Policy") == ["same-origin"]
    assert "camera=()" in answer.headers["Permissions-Policy"]


def test_the_portal_runs_as_a_role_that_cannot_rewrite_the_record(topology):
    # The entrypoint checked it before gunicorn started (portal.E004); the owner would fail.
    topology.manage("check", "--deploy", "--tag", "database", "--database", "default")
    owner = {**topology.env, "DATABASE_URL": topology.env["DATABASE_MIGRATE_URL"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "database", "--database",
         "default"],
        cwd=ROOT, env=owner, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "portal.E004" in result.stderr
