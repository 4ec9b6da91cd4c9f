"""GET /metrics: what plays and wins count, and the sum over gunicorn's workers.

Refused through Nginx: tests/test_topology.py. The job worker's metrics:
tests/test_job_processes.py. The dashboard and alert rules: tests/test_monitoring.py.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict

from contests import metrics
from tests.plans import contest_with_plan
from tests.servers import ROOT, app_environment, free_port, play, wait_until_up

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    metrics.flush()  # what the play path buffered
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_plays_are_counted_by_contest_and_outcome(client, make_contest):
    contest_with_plan(make_contest, "C0001", due=1, later=5)
    lost = sample("portal_plays_total", contest="C0001", outcome="lost")
    won = sample("portal_plays_total", contest="C0001", outcome="won")
    wins = sample("portal_wins_total", contest="C0001", prize="five-percent-discount")
    timed = sample("portal_play_duration_seconds_count")
    assert client.get("/play/?contest=C0001").json()["data"]["winner"] is True
    assert client.get("/play/?contest=C0001").json()["data"]["winner"] is False
    assert sample("portal_plays_total", contest="C0001", outcome="won") == won + 1
    assert sample("portal_plays_total", contest="C0001", outcome="lost") == lost + 1
    assert sample("portal_wins_total", contest="C0001", prize="five-percent-discount") == wins + 1
    assert sample("portal_play_duration_seconds_count") == timed + 2


def test_codes_that_name_no_contest_never_become_labels(client):
    before = sample("portal_plays_total", contest="-", outcome="not_found")
    children = len(metrics._play_children)
    for number in range(20):
        assert client.get(f"/play/?contest=MADE-UP-{number}").status_code == 404
    assert sample("portal_plays_total", contest="-", outcome="not_found") == before + 20
    assert len(metrics._play_children) <= children + 1
    assert not any("MADE-UP" in key[0] for key in metrics._play_children)


def test_metrics_are_served_in_prometheus_text_format(client, make_contest):
    contest_with_plan(make_contest, "C0001", due=0, later=1)
    client.get("/play/?contest=C0001")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    body = response.content.decode()
    assert re.search(r'^portal_plays_total\{contest="C0001",outcome="lost"\} \d', body, re.M)
    assert "# TYPE portal_play_duration_seconds histogram" in body
    assert "_created" not in body


@override_settings(ALLOWED_HOSTS=["contests.example.com"], SECURE_SSL_REDIRECT=True)
def test_prometheus_scrapes_a_replica_by_its_address(client):
    # No host check and no HTTPS redirect: Prometheus asks each replica at its IP.
    assert client.get("/metrics", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_metrics_are_refused_when_a_proxy_forwarded_the_request(client):
    # Nginx refuses /metrics; should that rule go, Django still refuses what Nginx passes on.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404


def test_metrics_only_read(client):
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200


# Two gunicorn workers, one scrape ------------------------------------------------------


def metrics_of(base: str, until=None) -> str:
    """Scrape; with `until`, again until it holds (the workers write out every second)."""
    deadline = time.monotonic() + 10
    while True:
        with urllib.request.urlopen(base + "/metrics", timeout=10) as response:  # noqa: S310
            text = response.read().decode()
        if until is None or until(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def plays_in_file(path: Path) -> float:
    return sum(
        value
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path))
        if json.loads(key)[0] == "portal_plays"
    )


@pytest.mark.django_db(transaction=True)
def test_metrics_add_up_the_plays_of_two_gunicorn_workers(make_contest, tmp_path):
    contest_with_plan(make_contest, "C0001", due=0, later=1)
    directory = tmp_path / "metrics"
    port = free_port()
    env = app_environment(
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_LOG_LEVEL="warning",
    )
    # An earlier run's file: the server must not count it.
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"stale")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", server)
        assert not (directory / "counter_1.db").exists()
        total = 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Until both workers have answered plays (bounded: 20 rounds of 40).
            for _ in range(20):
                answers = list(pool.map(lambda n: play(base, "contest=C0001", f"m{n}"), range(40)))
                assert {answer.status for answer in answers} == {200}
                total += len(answers)
                time.sleep(1.5)  # each worker writes its buffer out every second
                per_worker = [plays_in_file(path) for path in directory.glob("counter_*.db")]
                if len([count for count in per_worker if count]) == 2:
                    break
        lost = 'portal_plays_total{contest="C0001",outcome="lost"}'
        text = metrics_of(base, until=lambda text: value(text, lost) == total)
        per_worker = [plays_in_file(path) for path in directory.glob("counter_*.db")]
        assert len([count for count in per_worker if count]) == 2, per_worker
        assert sum(per_worker) == total
        assert value(text, lost) == total
        assert value(text, "portal_play_duration_seconds_count") == total

        # A worker is recycled: its counts are folded into the archive, none is lost.
        pids = [int(path.stem.split("_")[1]) for path in directory.glob("counter_*.db")]
        os.kill(pids[0], 15)
        deadline = time.monotonic() + 20
        while (directory / f"counter_{pids[0]}.db").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (directory / "counter_archive.db").exists()
        assert not (directory / f"counter_{pids[0]}.db").exists()
        text = metrics_of(base)
        assert value(text, lost) == total
        assert value(text, "portal_play_duration_seconds_count") == total
    finally:
        server.terminate()
        server.wait(timeout=30)
