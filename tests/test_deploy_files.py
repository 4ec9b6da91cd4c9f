"""The Docker and Compose files, checked without a Docker engine: valid, and shaped as meant.

What runs for real (Nginx → gunicorn → PostgreSQL + Redis) is in the test_topology_*.py files.
"""

import gc
import os
import re
import runpy
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from harness.nginx import TEMPLATES, referenced_names, render
from tests.test_production_settings import env_file
from tests.tools import tool

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.prod.yml"]
DOCKERFILES = ["Dockerfile", "Dockerfile.prod"]
SCRIPTS = ["deploy/entrypoint.sh", "deploy/entrypoint.prod.sh", "bin/dev", "bin/install"]
SCRIPTS += ["bin/test", ".ci/run", "deploy/entrypoint.jobs.sh"]
# POSIX sh: they run in the postgres image, which has no bash.
SH_SCRIPTS = ["deploy/backup.sh", "deploy/restore.sh"]
# From the web image: the job worker and the one scheduler (issue 16).
JOB_SERVICES = ["worker", "scheduler"]
MONITORING = ["prometheus", "grafana"]


def run(*command: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


# Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}, and $$ for a "$".
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise AssertionError(f"{name} is required: {rest}")
        return rest if kind == "-" else ""

    return _INTERPOLATION.sub(substitute, value)


def service_environment(service: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    """A production service's environment, as Compose makes it from .env.prod."""
    variables = env_file(ROOT / ".env.prod.example") if variables is None else variables
    environment = compose("docker-compose.prod.yml")["services"][service].get("environment", {})
    return {name: interpolate(str(value), variables) for name, value in environment.items()}


@pytest.fixture
def compose_project(tmp_path):
    """A copy of the compose files beside a .env.prod made from the example, as an operator has."""
    for name in COMPOSE_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.prod.example", tmp_path / ".env.prod")
    return tmp_path


# Compose files --------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_follow_the_compose_spec(name):
    checker = tool("check-jsonschema", "pip install -r requirements-dev.txt")
    result = run(checker, "--builtin-schema", "vendor.compose-spec", name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_load_in_docker_compose(name, compose_project):
    docker_compose = tool("docker-compose", "apt-get install docker-compose")
    env = ["--env-file", ".env.prod"] if name == "docker-compose.prod.yml" else []
    result = run(docker_compose, *env, "-f", name, "config", "-q", cwd=compose_project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_compose_refuses_to_run_without_its_env_file(compose_project):
    docker_compose = tool("docker-compose", "apt-get install docker-compose")
    result = run(
        docker_compose, "-f", "docker-compose.prod.yml", "config", "-q",
        cwd=compose_project, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode != 0
    assert "in .env.prod" in result.stderr


def test_docker_compose_catches_a_dependency_on_a_missing_service(compose_project):
    # The check above can fail: a depends_on target that does not exist is refused.
    docker_compose = tool("docker-compose", "apt-get install docker-compose")
    broken = compose("docker-compose.prod.yml")
    broken["services"]["web"]["depends_on"]["cache"] = {"condition": "service_healthy"}
    (compose_project / "broken.yml").write_text(yaml.safe_dump(broken))
    result = run(
        docker_compose, "--env-file", ".env.prod", "-f", "broken.yml", "config", "-q",
        cwd=compose_project,
    )  # fmt: skip
    assert result.returncode != 0
    assert "depends on service 'cache' which is undefined" in result.stderr


def test_production_has_nginx_web_postgresql_and_redis():
    services = compose("docker-compose.prod.yml")["services"]
    assert set(services) == {"nginx", "web", "db", "redis", "backup", *JOB_SERVICES, *MONITORING}
    assert re.fullmatch(r"nginx:1\.\d+-alpine", services["nginx"]["image"])
    assert services["db"]["image"] == "postgres:17-alpine"
    assert re.fullmatch(r"redis:\d+\.\d+-alpine", services["redis"]["image"])
    assert services["web"]["build"] == {"context": ".", "dockerfile": "Dockerfile.prod"}


def test_the_worker_and_the_scheduler_run_the_web_image():
    services = compose("docker-compose.prod.yml")["services"]
    for name in JOB_SERVICES:
        assert services[name]["build"] == services["web"]["build"], name
        assert services[name]["image"] == services["web"]["image"], name
        assert services[name]["entrypoint"] == ["deploy/entrypoint.jobs.sh"], name
    assert services["worker"]["command"][:4] == ["celery", "-A", "portal.celery_app", "worker"]
    assert services["scheduler"]["command"][:4] == ["celery", "-A", "portal.celery_app", "beat"]
    # The backup runs the database's own image: its pg_dump is the server's version.
    assert services["backup"]["image"] == services["db"]["image"]


def test_monitoring_starts_only_with_its_profile():
    services = compose("docker-compose.prod.yml")["services"]
    profiled = {name for name, service in services.items() if "profiles" in service}
    assert profiled == set(MONITORING)
    assert all(services[name]["profiles"] == ["monitoring"] for name in MONITORING)


def test_every_production_service_is_checked_and_restarted():
    for name, service in compose("docker-compose.prod.yml")["services"].items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


# What each service may see of .env.prod: its own variables, nobody else's secrets.
SECRETS = {"DJANGO_SECRET_KEY", "DATABASE_URL", "DATABASE_MIGRATE_URL", "REDIS_URL"}
SECRETS |= {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
OWN_SECRETS = {
    "nginx": set(),
    "web": {"DJANGO_SECRET_KEY", "DATABASE_URL", "DATABASE_MIGRATE_URL", "REDIS_URL"},
    "db": {"POSTGRES_PASSWORD"},
    "redis": {"REDIS_PASSWORD"},
    # The jobs run the portal's code on its database and Redis; the backup reads the
    # owner's password under libpq's name (PGPASSWORD); monitoring gets no secret of ours.
    "worker": {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"},
    "scheduler": {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"},
    "backup": set(),
    "prometheus": set(),
    "grafana": set(),
}


def test_each_production_service_gets_only_its_own_variables():
    services = compose("docker-compose.prod.yml")["services"]
    for name, service in services.items():
        # No env_file: it would hand every service every line of .env.prod.
        assert "env_file" not in service, name
        environment = set(service_environment(name))
        assert environment & SECRETS == OWN_SECRETS[name], name
    assert {n for n in service_environment("nginx") if not n.startswith("NGINX_")} == set()
    assert set(service_environment("db")) == {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert set(service_environment("redis")) == {"REDIS_USERNAME", "REDIS_PASSWORD"}
    assert not any(n.startswith(("NGINX_", "POSTGRES_")) for n in service_environment("web"))


def test_every_line_of_the_example_env_file_reaches_a_service():
    used = set()
    for service in compose("docker-compose.prod.yml")["services"].values():
        for value in service.get("environment", {}).values():
            used |= set(re.findall(r"\$\{([A-Z0-9_]+)", str(value)))
    assert set(env_file(ROOT / ".env.prod.example")) <= used


def test_the_compose_services_environments_as_docker_compose_resolves_them(compose_project):
    docker_compose = tool("docker-compose", "apt-get install docker-compose")
    # Only .env.prod: Compose would take a variable of this shell (DATABASE_URL…) first.
    result = run(
        docker_compose, "--env-file", ".env.prod", "-f", "docker-compose.prod.yml", "config",
        cwd=compose_project, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    example = env_file(ROOT / ".env.prod.example")
    for name, service in services.items():
        environment = service.get("environment", {})
        assert set(environment) & SECRETS == OWN_SECRETS[name], name
        for variable in OWN_SECRETS[name]:
            assert environment[variable] == example[variable], (name, variable)
    assert services["nginx"]["environment"]["NGINX_ADMIN_PATH"] == "/admin/"


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_service_log_is_rotated(name):
    for service_name, service in compose(name)["services"].items():
        logging = service["logging"]
        assert logging["driver"] == "json-file", service_name
        assert re.fullmatch(r"\d+m", logging["options"]["max-size"]), service_name
        assert int(logging["options"]["max-file"]) >= 2, service_name


def seconds(duration: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([sm])", duration).groups()
    return int(number) * (60 if unit == "m" else 1)


def test_web_stops_after_gunicorns_graceful_timeout_not_before():
    web = compose("docker-compose.prod.yml")["services"]["web"]
    graceful = int(gunicorn_settings()["graceful_timeout"])
    assert seconds(web["stop_grace_period"]) > graceful
    worker = compose("docker-compose.prod.yml")["services"]["worker"]
    assert seconds(worker["stop_grace_period"]) >= 60  # a running job finishes


def test_health_checks_ask_readiness_and_liveness_where_each_belongs():
    services = compose("docker-compose.prod.yml")["services"]
    # Nginx waits for web to be ready (PostgreSQL answers); the image's own HEALTHCHECK, for
    # orchestrators that restart on it, asks liveness (see test_dockerfiles_run_as_...).
    assert services["web"]["healthcheck"]["test"] == [
        "CMD", "python", "deploy/healthcheck.py", "/readyz"
    ]  # fmt: skip
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]
    assert services["scheduler"]["healthcheck"]["test"][-1] == "deploy/jobs_healthcheck.py"
    assert services["backup"]["healthcheck"]["test"][-1] == "check"


def test_production_services_start_only_after_what_they_need_is_healthy():
    services = compose("docker-compose.prod.yml")["services"]
    needs = {name: service.get("depends_on", {}) for name, service in services.items()}
    healthy = {"condition": "service_healthy"}
    assert needs == {
        "nginx": {"web": healthy},
        "web": {"db": healthy, "redis": healthy},
        "db": {},
        "redis": {},
        # web has migrated by then.
        "worker": {"web": healthy, "redis": healthy},
        "scheduler": {"web": healthy, "redis": healthy},
        "backup": {"db": healthy},
        "prometheus": {},
        "grafana": {"prometheus": healthy},
    }


def test_web_can_be_scaled_and_only_nginx_reaches_it():
    services = compose("docker-compose.prod.yml")["services"]
    assert not any("container_name" in service for service in services.values())
    assert "ports" not in services["web"]
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    # Nginx for everyone; Prometheus and Grafana on loopback only (an SSH tunnel away).
    assert published.pop("nginx") == ["80:80", "443:443"]
    assert published == {"prometheus": ["127.0.0.1:9090:9090"], "grafana": ["127.0.0.1:3000:3000"]}
    assert services["nginx"]["environment"]["NGINX_UPSTREAM_SERVER"] == "web:8000 resolve"
    # The data stores sit on a network Nginx is not on.
    assert services["nginx"]["networks"] == ["edge"]
    assert services["db"]["networks"] == services["redis"]["networks"] == ["backend"]
    for name in [*JOB_SERVICES, "backup"]:
        assert services[name]["networks"] == ["backend"], name
    assert compose("docker-compose.prod.yml")["networks"]["backend"] == {"internal": True}


def test_nginx_serves_the_static_files_web_publishes():
    project = compose("docker-compose.prod.yml")
    nginx, web = project["services"]["nginx"], project["services"]["web"]
    assert "static:/srv/static:ro" in nginx["volumes"]
    assert "./deploy/nginx/templates:/etc/nginx/templates:ro" in nginx["volumes"]
    assert nginx["environment"]["NGINX_STATIC_ROOT"] == "/srv/static"
    assert "static:/srv/static" in web["volumes"]
    assert "STATIC_PUBLISH_ROOT=/srv/static" in (ROOT / "Dockerfile.prod").read_text()
    assert set(project["volumes"]) == {
        "static", "postgres_data", "redis_data", "backups", "prometheus_data", "grafana_data"
    }  # fmt: skip
    assert "postgres_data:/var/lib/postgresql/data" in project["services"]["db"]["volumes"]
    assert "backups:/backups" in project["services"]["backup"]["volumes"]


def test_redis_has_an_acl_user_and_no_default_user_in_production():
    redis = compose("docker-compose.prod.yml")["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--user default off" in command
    assert '--user "$$REDIS_USERNAME" on ">$$REDIS_PASSWORD"' in command
    assert "-@dangerous" in command and "-@admin" in command
    assert '--user "$$REDIS_USERNAME"' in redis["healthcheck"]["test"][1]
    assert "REDISCLI_AUTH" in redis["healthcheck"]["test"][1]
    example = env_file(ROOT / ".env.prod.example")
    assert example["REDIS_URL"].startswith(
        f"redis://{example['REDIS_USERNAME']}:{example['REDIS_PASSWORD']}@redis:"
    )
    # The job broker: the same Redis, user and password, another database than the cache's.
    assert example["CELERY_BROKER_URL"].startswith(
        f"redis://{example['REDIS_USERNAME']}:{example['REDIS_PASSWORD']}@redis:"
    )
    assert example["CELERY_BROKER_URL"].rsplit("/", 1)[1] != example["REDIS_URL"].rsplit("/", 1)[1]


def test_the_portal_and_its_migrations_use_different_database_roles():
    example = env_file(ROOT / ".env.prod.example")
    assert example["DATABASE_MIGRATE_URL"] == (
        f"postgres://{example['POSTGRES_USER']}:{example['POSTGRES_PASSWORD']}"
        f"@db:5432/{example['POSTGRES_DB']}"
    )
    app = re.fullmatch(r"postgres://([^:]+):([^@]+)@db:5432/(.+)", example["DATABASE_URL"])
    assert app is not None
    assert app.group(1) != example["POSTGRES_USER"]
    assert app.group(2) != example["POSTGRES_PASSWORD"]
    assert app.group(3) == example["POSTGRES_DB"]


def test_every_compose_file_gives_redis_a_password():
    for name in COMPOSE_FILES:
        services = compose(name)["services"]
        command = " ".join(services["redis"]["command"])
        assert "--requirepass" in command or ">$$REDIS_PASSWORD" in command, name
        redis_url = (
            services["web"]["environment"]["REDIS_URL"]
            if name == "docker-compose.yml"
            else service_environment("web")["REDIS_URL"]
        )
        assert re.match(r"redis://[^:]*:[^@]+@redis:", redis_url), name


def test_production_redis_refuses_the_default_user_and_dangerous_commands(tmp_path):
    """redis-server started with exactly the production command's arguments."""
    import redis as redis_py

    tool("redis-server", "apt-get install redis-server")
    from tests.servers import free_port

    port = free_port()
    variables = {"REDIS_USERNAME": "portal", "REDIS_PASSWORD": "a-long-redis-password"}
    [shell, flag, script] = compose("docker-compose.prod.yml")["services"]["redis"]["command"]
    script = interpolate(script, {}).replace("--appendonly yes", "--appendonly no --save ''")
    script += f" --port {port} --bind 127.0.0.1 --dir {tmp_path}"
    server = subprocess.Popen(
        [shell, flag, script],
        env={"PATH": os.environ["PATH"], **variables},
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        user = redis_py.Redis.from_url(url, username="portal", password="a-long-redis-password")
        for _ in range(100):
            try:
                user.ping()
                break
            except redis_py.ConnectionError:
                time.sleep(0.05)
        assert user.set("portal:1:probe", "1") and user.get("portal:1:probe") == b"1"
        assert user.eval("return redis.call('GET', KEYS[1])", 1, "portal:1:probe") == b"1"
        with pytest.raises(redis_py.AuthenticationError):
            redis_py.Redis.from_url(url).ping()  # the default user is off
        with pytest.raises(redis_py.AuthenticationError):
            redis_py.Redis.from_url(url, password="a-long-redis-password").ping()
        for command in (
            ("FLUSHALL",),
            ("CONFIG", "GET", "*"),
            ("KEYS", "*"),
            ("SHUTDOWN",),
        ):
            with pytest.raises(redis_py.ResponseError, match="no permissions"):
                user.execute_command(*command)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_development_runs_live_source_on_postgresql_and_redis():
    services = compose("docker-compose.yml")["services"]
    web = services["web"]
    assert set(services) == {"web", "db", "redis"}
    # No worker to start: the schedule runs in the web process (docs/jobs.md).
    assert web["environment"]["JOBS_IN_PROCESS"] == "true"
    assert web["build"]["dockerfile"] == "Dockerfile"
    assert ".:/app" in web["volumes"]
    assert "static:/app/staticfiles" in web["volumes"]
    assert web["ports"] == ["8000:8000"]
    assert web["command"] == ["python", "manage.py", "runserver", "0.0.0.0:8000"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"].startswith("redis://:portal-dev-redis@redis:")
    assert web["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert all("healthcheck" in service for service in services.values())


def test_the_example_env_file_documents_every_line():
    lines = (ROOT / ".env.prod.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            # Never empty: gunicorn, for one, fails on WEB_CONCURRENCY= at import.
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s\"'$]+", line), line
            assert lines[number - 1].startswith("# "), f"{line} has no comment above it"


# The Nginx template ------------------------------------------------------------------


def nginx_environment() -> dict[str, str]:
    """What the nginx container's environment holds: its own variables, from .env.prod."""
    return service_environment("nginx")


def test_compose_defines_every_variable_the_nginx_template_uses():
    template = (TEMPLATES / "default.conf.template").read_text()
    environment = nginx_environment()
    assert environment["NGINX_ENVSUBST_FILTER"] == "^NGINX_"
    assert referenced_names(template) <= set(environment)
    rendered = render(template, environment)
    assert "${" not in rendered
    assert "$NGINX" not in rendered
    # Nginx's own variables are left for Nginx.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in rendered
    assert "server web:8000 resolve;" in rendered


def test_the_tests_render_the_template_as_the_image_does():
    # The image runs envsubst with the list of defined NGINX_ variables; so must we.
    envsubst = tool("envsubst", "apt-get install gettext-base")
    template = TEMPLATES / "default.conf.template"
    environment = nginx_environment()
    names = [name for name in environment if name.startswith("NGINX_")]
    result = subprocess.run(
        [envsubst, " ".join(f"${{{name}}}" for name in names)],
        input=template.read_text(),
        env={name: environment[name] for name in names},
        capture_output=True,
        text=True,
        check=True,
    )
    assert render(template.read_text(), environment) == result.stdout


def test_the_nginx_template_has_what_production_needs():
    template = (TEMPLATES / "default.conf.template").read_text()
    for directive in [
        "listen ${NGINX_HTTP_LISTEN} default_server;",
        "return 444;",
        "ssl_reject_handshake on;",
        "gzip_static on;",
        "immutable",
        "limit_req zone=portal_play",
        "limit_req_status 429;",
        "error_page 502 @play_bad_gateway;",
        "error_page 503 @play_unavailable;",
        "error_page 504 @play_gateway_timeout;",
        "keepalive 16;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $portal_connection;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Request-ID $portal_request_id;",
        "client_max_body_size 2m;",
        "resolver 127.0.0.11",
        # Metrics are for Prometheus inside the network (test_topology.py proves it).
        "location /metrics {\n        deny all;",
    ]:
        assert directive in template, directive
    # add_header in a location would silently drop the server's security headers.
    locations = re.findall(r"\n    location [^\n]*\{(.*?)\n    \}", template, re.S)
    assert locations
    assert not any("add_header" in body or "proxy_set_header" in body for body in locations)


@pytest.mark.parametrize("status", ["429", "502", "503", "504"])
def test_nginx_answers_its_own_play_errors_in_the_api_envelope(status):
    template = (TEMPLATES / "default.conf.template").read_text()
    bodies = re.findall(rf"return {status} '(.*)';", template)
    assert bodies
    for body in bodies:  # 429: the plays' and the published plans'
        envelope = yaml.safe_load(body)
        assert list(envelope) == ["error"]
        assert envelope["error"]["status"] == status
        assert set(envelope["error"]) == {"status", "title", "detail"}


def test_nginx_limits_sign_in_the_admin_and_the_published_plans():
    template = (TEMPLATES / "default.conf.template").read_text()
    for directive in [
        "limit_req_zone $portal_signin_key zone=portal_signin",
        "location = /accounts/login/ {",
        "location = /accounts/two-factor/ {",
        "location ${NGINX_ADMIN_PATH} {",
        "location = ${NGINX_ADMIN_PATH}login/ {",
        "limit_req zone=portal_admin burst=${NGINX_ADMIN_BURST} nodelay;",
        "location ~ ^/contests/[^/]+/plans/ {",
        "limit_req zone=portal_plans burst=${NGINX_PLANS_BURST} nodelay;",
    ]:
        assert directive in template, directive


def test_access_logs_name_the_path_without_its_query():
    template = (TEMPLATES / "default.conf.template").read_text()
    [log_format] = re.findall(r"log_format portal (.*?);", template, re.S)
    assert "$request_method $uri" in log_format
    assert "$request " not in log_format and "$request_uri" not in log_format
    assert "$args" not in log_format and "$query_string" not in log_format


# Dockerfiles ----------------------------------------------------------------------------


def instructions(name: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / name).read_text())
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfiles_pass_hadolint(name):
    hadolint = tool("hadolint", "pip install -r requirements-dev.txt")
    result = run(hadolint, "--failure-threshold", "error", name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_ignored_hadolint_rule_says_why(name):
    lines = (ROOT / name).read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# hadolint ignore="):
            rule = line.split("=", 1)[1]
            above = number - 1
            while above >= 0 and lines[above].startswith("# "):
                above -= 1
            reason = " ".join(lines[above + 1 : number])
            assert rule in reason, f"{name}: {rule} is ignored without a comment saying why"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfiles_pin_their_base_images(name):
    for image in [args.split()[0] for word, args in instructions(name) if word == "FROM"]:
        repository, _, tag = image.partition(":")
        assert repository == "python"
        assert re.fullmatch(r"3\.1[1-3]-slim-bookworm", tag), image


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfiles_run_as_a_user_and_check_health(name):
    steps = instructions(name)
    [user] = [args for word, args in steps if word == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    [healthcheck] = [args for word, args in steps if word == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["python", "deploy/healthcheck.py"]')
    # Nothing secret is baked in: secrets come from the environment at run time.
    baked = " ".join(args for word, args in steps if word in ("ENV", "ARG"))
    assert not re.search(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL", baked)


def test_the_production_image_builds_wheels_apart_from_where_it_runs():
    steps = instructions("Dockerfile.prod")
    stages = [args for word, args in steps if word == "FROM"]
    assert stages == ["python:3.11-slim-bookworm AS builder", "python:3.11-slim-bookworm"]
    final = steps[[word for word, _ in steps].index("FROM", 1) :]
    final_runs = " ".join(args for word, args in final if word == "RUN")
    assert "--mount=type=bind,from=builder,source=/wheels" in final_runs
    assert "--no-index" in final_runs
    assert "build-essential" not in final_runs
    assert ("ENTRYPOINT", '["deploy/entrypoint.prod.sh"]') in final
    assert ("CMD", '["gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi"]') in final


def test_the_development_image_serves_with_live_reload():
    steps = instructions("Dockerfile")
    assert ("ENTRYPOINT", '["deploy/entrypoint.sh"]') in steps
    assert ("CMD", '["python", "manage.py", "runserver", "0.0.0.0:8000"]') in steps


def test_the_build_context_leaves_out_what_images_must_not_hold():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "**/__pycache__", ".pytest_cache", ".ruff_cache"} <= ignored
    assert {"db.sqlite3", "staticfiles", "test-results", ".env", ".env.*"} <= ignored
    assert "deploy/nginx/certs" in ignored


# Shell scripts -----------------------------------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_shell_scripts_parse_and_pass_shellcheck(name):
    assert run("bash", "-n", name).returncode == 0
    shellcheck = tool("shellcheck", "apt-get install shellcheck")
    result = run(shellcheck, name)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", SH_SCRIPTS)
def test_posix_scripts_parse_and_pass_shellcheck(name):
    assert (ROOT / name).read_text().startswith("#!/bin/sh\n")
    assert run("sh", "-n", name).returncode == 0
    shellcheck = tool("shellcheck", "apt-get install shellcheck")
    result = run(shellcheck, "--shell=sh", name)
    assert result.returncode == 0, result.stdout
    assert (ROOT / name).stat().st_mode & 0o111


@pytest.mark.parametrize(
    "name", ["deploy/entrypoint.sh", "deploy/entrypoint.prod.sh", "deploy/entrypoint.jobs.sh"]
)
def test_entrypoints_stop_on_errors_and_become_the_command(name):
    script = (ROOT / name).read_text()
    assert "\nset -euo pipefail\n" in script
    assert script.rstrip().endswith('exec "$@"')
    assert (ROOT / name).stat().st_mode & 0o111


# gunicorn -----------------------------------------------------------------------------


def gunicorn_settings(**environment: str) -> dict[str, str]:
    gunicorn = tool("gunicorn", "pip install -r requirements.txt")
    result = subprocess.run(
        [gunicorn, "--config", "deploy/gunicorn.conf.py", "--print-config", "portal.wsgi"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = (line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_defaults_suit_a_container_behind_nginx():
    settings = gunicorn_settings()
    cores = len(os.sched_getaffinity(0))
    assert settings["bind"] == "['0.0.0.0:8000']"
    assert settings["workers"] == str(2 * cores + 1)
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == "2"
    assert int(settings["keepalive"]) > 60  # Nginx's upstream keepalive_timeout
    assert settings["timeout"] == "30"
    # A worker at full load answers ~1 000 plays a second: recycled hours apart, not seconds.
    assert (settings["max_requests"], settings["max_requests_jitter"]) == ("1000000", "100000")
    assert settings["forwarded_allow_ips"] == "['*']"
    assert settings["secure_scheme_headers"] == "{'X-FORWARDED-PROTO': 'https'}"
    assert settings["accesslog"] == "-"
    assert "rid=%({x-request-id}i)s" in settings["access_log_format"]
    # The path without its query: player ids (?user=…) stay out of the access log.
    assert '"%(m)s %(U)s %(H)s"' in settings["access_log_format"]
    assert (
        "%(r)s" not in settings["access_log_format"]
        and "%(q)s" not in settings["access_log_format"]
    )
    assert settings["control_socket_disable"] == "True"


def test_the_production_image_leaves_the_access_line_to_nginx():
    assert gunicorn_settings(GUNICORN_ACCESS_LOG="false")["accesslog"] == "None"
    assert "GUNICORN_ACCESS_LOG=false" in (ROOT / "Dockerfile.prod").read_text()


def test_a_worker_keeps_what_it_loaded_out_of_full_garbage_collections():
    # A full pass over everything Django had loaded held the worker for tens of ms: p99.
    hooks = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # Django and the portal, as loaded here
    finally:
        gc.unfreeze()


def test_gunicorn_takes_its_size_and_address_from_the_environment():
    settings = gunicorn_settings(
        WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_BIND="127.0.0.1:9000"
    )
    assert (settings["workers"], settings["threads"]) == ("3", "4")
    assert settings["bind"] == "['127.0.0.1:9000']"
