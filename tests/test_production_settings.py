"""With .env.prod.example's variables the settings are production-grade; gaps fail loudly."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env_file(path: Path) -> dict[str, str]:
    """Read a Compose env file: KEY=value lines, # comments, values taken literally."""
    variables = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            variables[key.strip()] = value
    return variables


def manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    # Only these variables: nothing of the test run's own environment leaks in.
    env = {"PATH": os.environ["PATH"], **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


HOST = "contests.portal.test"


def filled_in(variables: dict[str, str]) -> dict[str, str]:
    """What an operator makes of .env.prod.example: every placeholder replaced."""
    passwords: dict[str, str] = {}

    def real(value: str) -> str:
        for placeholder in re.findall(r"change-me[a-z-]*", value):
            passwords.setdefault(placeholder, secrets.token_urlsafe(24))
            value = value.replace(placeholder, passwords[placeholder])
        return value.replace("contests.example.com", HOST)

    return {key: real(value) for key, value in variables.items()}


def production(**overrides: str) -> dict[str, str]:
    variables = filled_in(env_file(ROOT / ".env.prod.example"))
    variables["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    variables.update(overrides)
    return {key: value for key, value in variables.items() if value is not None}


def test_the_example_env_file_filled_in_passes_the_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_checks_catch_the_placeholder_secret():
    # The check above can fail: left as in the template, the secret is reported.
    environment = production(DJANGO_SECRET_KEY="change-me")
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode != 0
    assert "security.W009" in result.stderr
    assert "portal.E001" in result.stderr and "portal.E002" in result.stderr


def test_the_deploy_checks_refuse_every_placeholder_of_the_example():
    environment = {**env_file(ROOT / ".env.prod.example")}
    environment["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode != 0
    for what in [
        "DATABASE_URL's password",
        "REDIS_URL",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
    ]:
        assert f"{what} is still the placeholder of .env.prod.example" in result.stderr, what


def test_the_deploy_checks_refuse_a_short_secret_and_no_redis():
    environment = production(DJANGO_SECRET_KEY=secrets.token_urlsafe(20), REDIS_URL=None)
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode != 0
    assert "portal.E002" in result.stderr
    assert "portal.E003" in result.stderr
    assert "REDIS_URL is not set" in result.stderr


def test_production_is_secure_behind_the_proxy():
    code = (
        "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_PROXY_SSL_HEADER, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, "
        "s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'])"
    )
    result = manage("shell", "--verbosity", "0", "-c", code, environment=production())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        f"['{HOST}']",
        f"['https://{HOST}']",
        "django.db.backends.postgresql",
        "django_redis.cache.RedisCache",
    ]


def test_production_refuses_to_start_without_a_database_url():
    result = manage("check", environment=production(DATABASE_URL=None))
    assert result.returncode != 0
    assert "DATABASE_URL must be set when DJANGO_DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    environment = production(DJANGO_ALLOWED_HOSTS=None, DATABASE_URL=None)
    result = manage("check", environment=environment)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS and DATABASE_URL must be set" in result.stderr


def test_production_refuses_to_start_without_a_secret():
    result = manage("check", environment=production(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_the_embedded_default_still_needs_nothing():
    result = manage("check", environment={})
    assert result.returncode == 0, result.stderr
