"""The monitoring profile: Prometheus's configuration and alert rules pass promtool (and the
rules' own unit tests), the Grafana dashboard names only metrics the portal exports, and a
real Prometheus scrapes a real gunicorn."""

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from contests import metrics
from tests.servers import ROOT, app_environment, free_port, play, wait_until_up
from tests.tools import tool

MONITORING = ROOT / "deploy" / "monitoring"
PROMETHEUS = MONITORING / "prometheus"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "portal.json"


def promtool() -> str:
    return tool("promtool", "apt-get install prometheus")


def exported() -> set[str]:
    """Every series name the portal's metrics (contests/metrics.py) can export."""
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            name, kind = value._name, value._type
            names |= {
                "counter": {f"{name}_total"},
                "histogram": {f"{name}_bucket", f"{name}_sum", f"{name}_count"},
            }.get(kind, {name})
    return names


def named_in(expression: str) -> set[str]:
    return set(re.findall(r"\b(portal_[a-z_]+)", expression))


def test_the_exported_names_are_the_ones_the_issue_asks_for():
    assert {
        "portal_plays_total",
        "portal_play_duration_seconds_bucket",
        "portal_wins_total",
        "portal_moments_unclaimed",
        "portal_job_last_success_timestamp_seconds",
        "portal_webhook_deliveries_total",
    } <= exported()


def test_prometheus_configuration_passes_promtool():
    result = subprocess.run(
        [promtool(), "check", "config", str(PROMETHEUS / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_promtool_and_their_unit_tests():
    rules = PROMETHEUS / "rules" / "portal.yml"
    checked = subprocess.run(
        [promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool(), "test", "rules", "tests.yml"],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_alerts_cover_what_operators_must_hear_of():
    rules = yaml.safe_load((PROMETHEUS / "rules" / "portal.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert {
        "PortalJobLate",
        "PortalVerifyPlansFailing",
        "PortalHigh5xxRate",
        "PortalPrizesUnclaimedLate",
    } <= set(alerts)
    for name, rule in alerts.items():
        assert named_in(rule["expr"]) <= exported(), name
    # Every scheduled job has its lateness limit.
    late = alerts["PortalJobLate"]["expr"]
    from django.conf import settings

    for job in settings.JOB_SCHEDULE:
        assert job in late, job


def test_the_dashboard_loads_and_names_only_real_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert expressions
    used = set().union(*(named_in(expression) for expression in expressions))
    assert used <= exported(), used - exported()
    # And it shows every metric the portal has.
    shown = {name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
             for name in used}  # fmt: skip
    every = {name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
             for name in exported()}  # fmt: skip
    assert shown == every
    # Its data source is the one Grafana is provisioned with.
    provisioned = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    [source] = provisioned["datasources"]
    uids = {panel["datasource"]["uid"] for panel in dashboard["panels"]}
    assert uids == {source["uid"]}
    assert source["url"] == "http://prometheus:9090"


def test_prometheus_scrapes_what_compose_runs():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())
    targets = {
        job["job_name"]: (job["dns_sd_configs"][0]["names"], job["dns_sd_configs"][0]["port"])
        for job in config["scrape_configs"]
    }
    worker = compose["services"]["worker"]
    assert targets == {
        "web": (["web"], 8000),
        "worker": (["worker"], int(worker["environment"]["JOB_METRICS_PORT"])),
    }
    # The job's own label (job="plan_days") must not be renamed exported_job.
    [worker_job] = [job for job in config["scrape_configs"] if job["job_name"] == "worker"]
    assert worker_job["honor_labels"] is True
    mounted = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/monitoring/prometheus:/etc/prometheus:ro" in mounted


# A real Prometheus, a real gunicorn ---------------------------------------------------


def query(port: int, expression: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


@pytest.mark.django_db(transaction=True)
def test_a_real_prometheus_scrapes_the_plays_of_gunicorns_workers(make_contest, tmp_path):
    prometheus = tool("prometheus", "apt-get install prometheus")
    from tests.plans import contest_with_plan

    contest_with_plan(make_contest, "C0001", due=0, later=1)
    web_port, prometheus_port = free_port(), free_port()
    env = app_environment(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        GUNICORN_BIND=f"127.0.0.1:{web_port}",
        WEB_CONCURRENCY="2",
        GUNICORN_LOG_LEVEL="warning",
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {"job_name": "web", "static_configs": [{"targets": [f"127.0.0.1:{web_port}"]}]}
                ],
            }
        )
    )
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    server = None
    try:
        wait_until_up(f"http://127.0.0.1:{web_port}/healthz", web)
        for number in range(30):
            assert play(f"http://127.0.0.1:{web_port}", "contest=C0001", f"p{number}").status == 200
        server = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline, result = time.monotonic() + 40, []
        while time.monotonic() < deadline:
            try:
                result = query(prometheus_port, 'portal_plays_total{contest="C0001"}')
            except OSError:
                result = []
            if result and float(result[0]["value"][1]) == 30:
                break
            time.sleep(0.5)
        assert result, "Prometheus never scraped portal_plays_total"
        [series] = result
        assert series["metric"]["outcome"] == "lost"
        assert float(series["value"][1]) == 30
        assert query(prometheus_port, 'up{job="web"}')[0]["value"][1] == "1"
    finally:
        for process in (server, web):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
