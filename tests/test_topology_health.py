"""The health checks, as deployed: Nginx's own, /healthz through Nginx, and the container's
health check script against gunicorn (tests/topology.py)."""

import json
import subprocess
import sys

from harness.servers import ROOT


def test_nginx_answers_its_own_health_check(topology):
    answer = topology.http("/nginx-health", host="127.0.0.1")
    assert (answer.status, answer.body) == (200, b"ok\n")


def test_healthz_through_nginx(topology):
    answer = topology.https("/healthz")
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in answer.headers["Cache-Control"]


def test_the_containers_health_check_script_passes_and_needs_an_allowed_host(topology):
    def healthcheck(**env):
        return subprocess.run(
            [sys.executable, "deploy/healthcheck.py"],
            cwd=ROOT,
            env={**topology.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    healthy = healthcheck()
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["status"] == "ok"
    refused = healthcheck(DJANGO_ALLOWED_HOSTS="elsewhere.test")
    assert refused.returncode == 1
    assert "unhealthy: 400" in refused.stderr
