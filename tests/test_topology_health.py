"""The health checks, as deployed: Nginx's own, /healthz through Nginx, and the container's
health check script against gunicorn (tests/topology.py)."""

import json
import subprocess
import sys

from harness.servers import ROOT, wait_until


def test_nginx_answers_its_own_health_check(topology):
    answer = topology.http("/nginx-health", host="127.0.0.1")
    assert (answer.status, answer.body) == (200, b"ok\n")


def test_healthz_and_readyz_through_nginx(topology):
    answer = topology.https("/healthz")
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}
    assert "no-store" in answer.headers["Cache-Control"]
    ready = topology.https("/readyz")
    assert ready.status == 200
    assert ready.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_metrics_are_refused_through_nginx_and_served_inside(topology):
    topology.https("/play/?contest=TOPO-ON")
    for path in ["/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?x=1"]:
        answer = topology.https(path)
        assert answer.status in (403, 404), path
        assert b"portal_plays_total" not in answer.body, path
    # Inside the network (Prometheus, straight to gunicorn by address, plain HTTP): served,
    # the sum of both gunicorn workers (PROMETHEUS_MULTIPROC_DIR, as in the image).
    # (Each worker writes its counts out every second.)
    wait_until(
        lambda: (
            b'portal_plays_total{contest="TOPO-ON",outcome='
            in topology.gunicorn("/metrics", headers={"Host": "127.0.0.1"}).body
        ),
        "the play in gunicorn's /metrics",
        10,
    )
    assert topology.gunicorn("/metrics").status == 200


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
